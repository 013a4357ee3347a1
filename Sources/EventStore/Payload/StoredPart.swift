import Crypto

/// The bytes stored for one payload part, apart from its record.
///
/// Layout (design.md's stored part header, then the salt, then the body):
///
///     u8 part_format=1 · u8 codec (0 stored as is, 1 zstd lean frame) · u8 dictionary_id (0 none) ·
///     u8 key_id_length k (0 = not encrypted) · [k key_id · 12 nonce · 16 tag, only when k > 0] · 32 salt · body
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
        position: UInt64
    ) throws(StoreError) -> UnsafeRawBufferPointer {
        guard stored.count >= plainHeaderLength + saltLength, stored[0] == format else {
            throw StoreError(corrupt: "payload part", position: position, detail: "bad header")
        }
        guard stored[3] == 0 else {
            throw StoreError(.unsupportedFormat, "payload part at position \(position) is encrypted; this program "
                + "cannot decrypt it", position: position)
        }
        let salt = UnsafeRawBufferPointer(rebasing: stored[plainHeaderLength..<(plainHeaderLength + saltLength)])
        let body = UnsafeRawBufferPointer(rebasing: stored[(plainHeaderLength + saltLength)...])
        if buffer.count != length {
            if buffer.count > length { buffer.removeLast(buffer.count - length) }
            else { buffer.append(contentsOf: repeatElement(0, count: length - buffer.count)) }
        }
        switch Codec(rawValue: stored[1]) {
        case .none?:
            guard body.count == length else {
                throw StoreError(corrupt: "payload part", position: position, detail: "length \(body.count) ≠ \(length)")
            }
            buffer.withUnsafeMutableBytes { $0.copyMemory(from: body) }
            return salt
        case .zstd?:
            let dictionaryID = stored[2]
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
            return salt
        case nil:
            throw StoreError(corrupt: "payload part", position: position, detail: "unknown codec \(stored[1])")
        }
    }
}
