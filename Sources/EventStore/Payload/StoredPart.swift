import Crypto
import Foundation

/// The bytes stored for one payload part, apart from its record.
///
/// Layout (design.md's stored part header, then the salt, then the body):
///
///     u8 part_format=1 · u8 codec (0 stored as is, 1 zstd lean frame) · u8 dictionary_id (0 none) ·
///     u8 key_id_length k (0 = not encrypted) · [k key_id · 16 tag, only when k > 0] · 32 salt · body
///
/// Personal parts of a data subject are encrypted (k = 4: the number of the subject's key; then the 16-byte
/// AES-256-GCM tag; the nonce is derived from the salt, position and part; position and part are the associated
/// data); erasure destroys the key and the parts.
///
/// A lean zstd frame has no magic number, no checksum and no content size: the record holds the length and a
/// commitment that covers the bytes. The key id leaves room for per-subject encryption without a format change.
struct StoredPart {
    static let format: UInt8 = 1
    static let saltLength = 32
    static let plainHeaderLength = 4

    enum Codec: UInt8 {
        case none = 0
        case zstd = 1
    }

    /// `SHA-256(salt ‖ part)`.
    static func commitment(salt: UnsafeRawBufferPointer, part: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bufferPointer: salt)
        hasher.update(bufferPointer: part)
        return Array(hasher.finalize())
    }

    /// Encodes `part` with a fresh salt: returns the stored bytes and the commitment.
    static func encode(
        _ part: [UInt8], salt: UnsafeRawBufferPointer, codec: PayloadCodec
    ) throws(StoreError) -> (stored: [UInt8], commitment: [UInt8]) {
        var out = [UInt8]()
        out.reserveCapacity(plainHeaderLength + saltLength + part.count / 2 + 16)
        out.append(format)
        out.append(Codec.none.rawValue)
        out.append(0)
        out.append(0)
        out.append(contentsOf: salt)
        let dictionary = codec.currentDictionary
        let outcome = part.withUnsafeBytes { p in
            Result { () throws(ZstdError) in try codec.contexts.compress(p, dictionary: dictionary, into: &out) }
        }
        guard case .success(let compressed) = outcome else {
            throw StoreError(.storage, "compressing a payload part failed: \(outcome)")
        }
        if compressed {
            out[1] = Codec.zstd.rawValue
            out[2] = dictionary?.id ?? 0
        } else {
            out.append(contentsOf: part)
        }
        let digest = part.withUnsafeBytes { Self.commitment(salt: salt, part: $0) }
        return (out, digest)
    }

    /// Length of the tag of an encrypted part (AES-256-GCM).
    static let tagLength = 16

    /// Where the salt starts: after the header, the key id and (when encrypted) the tag.
    static func saltOffset(_ stored: UnsafeRawBufferPointer) -> Int? {
        guard stored.count >= plainHeaderLength else { return nil }
        let k = Int(stored[3])
        let offset = plainHeaderLength + (k > 0 ? k + tagLength : 0)
        return stored.count >= offset + saltLength ? offset : nil
    }

    /// The salt of stored bytes (plain or encrypted).
    static func salt(_ stored: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        saltOffset(stored).map { UnsafeRawBufferPointer(rebasing: stored[$0..<($0 + saltLength)]) }
    }

    /// The number of the subject key that encrypts the part, or `nil` for a plain part.
    static func keyNumber(_ stored: UnsafeRawBufferPointer) -> UInt32? {
        guard stored.count >= plainHeaderLength + 4, stored[3] == 4 else { return nil }
        return UInt32(bigEndian: stored.loadUnaligned(fromByteOffset: plainHeaderLength, as: UInt32.self))
    }

    /// The nonce of a part: `SHA-256("ledger.nonce.v1" ‖ salt ‖ u64 BE position ‖ u8 part)[:12]`. The salt is 32
    /// fresh random bytes per part, so the nonce never repeats under a key, even when a position is handed out again
    /// (a store restored from an older backup, a batch that failed after LMDB had written pages).
    private static func nonce(salt: UnsafeRawBufferPointer, _ position: UInt64, _ personal: Bool) throws
        -> AES.GCM.Nonce
    {
        var hasher = SHA256()
        hasher.update(data: Array("ledger.nonce.v1".utf8))
        hasher.update(bufferPointer: salt)
        hasher.update(data: associatedData(position, personal))
        return try AES.GCM.Nonce(data: Array(hasher.finalize().prefix(12)))
    }

    /// Encrypts a plain stored part under a subject's key (AES-256-GCM; the nonce is derived from the part's salt,
    /// position and part; position and part are the associated data): `header (key id length 4) · u32 key number ·
    /// tag · salt · ciphertext`.
    static func encrypt(_ plain: [UInt8], keyNumber: UInt32, key: SymmetricKey, position: UInt64, personal: Bool)
        throws -> [UInt8]
    {
        let body = plain[(plainHeaderLength + saltLength)...]
        let salt = plain[plainHeaderLength..<(plainHeaderLength + saltLength)]
        let partNonce = try salt.withUnsafeBytes { (s) throws -> AES.GCM.Nonce in try nonce(salt: s, position, personal) }
        let sealed = try AES.GCM.seal(body, using: key, nonce: partNonce,
                                      authenticating: associatedData(position, personal))
        var out = [UInt8]()
        out.reserveCapacity(plain.count + 4 + tagLength)
        out.append(contentsOf: plain[0..<3])
        out.append(4)
        withUnsafeBytes(of: keyNumber.bigEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: sealed.tag)
        out.append(contentsOf: plain[plainHeaderLength..<(plainHeaderLength + saltLength)])
        out.append(contentsOf: sealed.ciphertext)
        return out
    }

    private static func associatedData(_ position: UInt64, _ personal: Bool) -> [UInt8] {
        withUnsafeBytes(of: position.bigEndian, Array.init) + [personal ? 1 : 0]
    }

    /// The plain body of an encrypted part.
    static func decrypt(_ stored: UnsafeRawBufferPointer, key: SymmetricKey, position: UInt64, personal: Bool)
        throws(StoreError) -> [UInt8]
    {
        guard let saltAt = saltOffset(stored), stored[3] == 4 else {
            throw StoreError(corrupt: "payload part", position: position, detail: "bad encryption header")
        }
        let tagAt = plainHeaderLength + 4
        do {
            let salt = UnsafeRawBufferPointer(rebasing: stored[saltAt..<(saltAt + saltLength)])
            let box = try AES.GCM.SealedBox(
                nonce: try nonce(salt: salt, position, personal), ciphertext: Array(stored[(saltAt + saltLength)...]),
                tag: Array(stored[tagAt..<(tagAt + tagLength)]))
            return Array(try AES.GCM.open(box, using: key, authenticating: associatedData(position, personal)))
        } catch {
            throw StoreError(corrupt: "payload part", position: position, detail: "it does not decrypt (\(error))")
        }
    }

    /// The salt and the decoded part of stored bytes; `length` comes from the record.
    static func decode(
        _ stored: UnsafeRawBufferPointer, length: Int, codec: PayloadCodec, position: UInt64
    ) throws(StoreError) -> (salt: UnsafeRawBufferPointer, part: [UInt8]) {
        var part = [UInt8]()
        let salt = try decode(stored, into: &part, length: length, codec: codec, position: position)
        return (salt, part)
    }

    /// Decodes stored bytes into `buffer` (reused between calls: it is resized to `length`); returns the salt.
    static func decode(
        _ stored: UnsafeRawBufferPointer, into buffer: inout [UInt8], length: Int, codec: PayloadCodec,
        position: UInt64, key: SymmetricKey? = nil, personal: Bool = false
    ) throws(StoreError) -> UnsafeRawBufferPointer {
        guard stored[0] == format, let saltAt = saltOffset(stored) else {
            throw StoreError(corrupt: "payload part", position: position, detail: "bad header")
        }
        let salt = UnsafeRawBufferPointer(rebasing: stored[saltAt..<(saltAt + saltLength)])
        if stored[3] != 0 {
            guard let key else {
                throw StoreError(corrupt: "payload part", position: position, detail: "encrypted, and no key given")
            }
            let plain = try decrypt(stored, key: key, position: position, personal: personal)
            let outcome = plain.withUnsafeBytes { body in
                Result { () throws(StoreError) in
                    try decodeBody(body, codec: stored[1], dictionaryID: stored[2], into: &buffer, length: length,
                                   codec: codec, position: position)
                }
            }
            try outcome.get()
            return salt
        }
        let body = UnsafeRawBufferPointer(rebasing: stored[(saltAt + saltLength)...])
        try decodeBody(body, codec: stored[1], dictionaryID: stored[2], into: &buffer, length: length, codec: codec,
                       position: position)
        return salt
    }

    /// Decodes a (decrypted) body with its codec and dictionary into `buffer`.
    private static func decodeBody(
        _ body: UnsafeRawBufferPointer, codec codecByte: UInt8, dictionaryID: UInt8, into buffer: inout [UInt8],
        length: Int, codec: PayloadCodec, position: UInt64
    ) throws(StoreError) {
        if buffer.count != length {
            if buffer.count > length { buffer.removeLast(buffer.count - length) }
            else { buffer.append(contentsOf: repeatElement(0, count: length - buffer.count)) }
        }
        switch Codec(rawValue: codecByte) {
        case .none?:
            guard body.count == length else {
                throw StoreError(corrupt: "payload part", position: position, detail: "length \(body.count) ≠ \(length)")
            }
            buffer.withUnsafeMutableBytes { $0.copyMemory(from: body) }
        case .zstd?:
            let dictionary = dictionaryID == 0 ? nil : codec.dictionary(id: dictionaryID)
            if dictionaryID != 0, dictionary == nil {
                throw StoreError(corrupt: "payload part", position: position, detail: "unknown dictionary \(dictionaryID)")
            }
            let outcome = buffer.withUnsafeMutableBytes { out in
                Result { () throws(ZstdError) in try codec.contexts.decompress(body, into: out, dictionary: dictionary) }
            }
            if case .failure(let error) = outcome {
                throw StoreError(corrupt: "payload part", position: position, detail: "zstd: \(error)")
            }
        case nil:
            throw StoreError(corrupt: "payload part", position: position, detail: "unknown codec \(codecByte)")
        }
    }
}
