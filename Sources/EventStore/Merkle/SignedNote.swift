public import Foundation

/// A C2SP signed note: a text of newline-terminated lines, a blank line, and signature lines
/// `— <key name> <base64(key id ‖ signature)>`.
public struct SignedNote: Sendable, Hashable {
    /// One signature line.
    public struct Signature: Sendable, Hashable {
        /// The signer's key name.
        public var name: String
        /// Key id ‖ signature, as in the line.
        public var bytes: [UInt8]

        /// The key id.
        public var keyID: UInt32 { bytes.count >= 4 ? bytes.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) } : 0 }

        /// The line, with its newline.
        public var line: String { "\u{2014} \(name) \(Data(bytes).base64EncodedString())\n" }
    }

    /// The signed text (ends with a newline).
    public var text: String
    /// The signatures, in order.
    public var signatures: [Signature]

    /// A note from its parts.
    public init(text: String, signatures: [Signature]) {
        self.text = text
        self.signatures = signatures
    }

    /// Signs `text` with `signer`.
    public init(text: String, signer: NoteSigner) throws {
        guard text.hasSuffix("\n"), !text.contains("\n\n") else {
            throw StoreError(.invalidArgument, "a note's text is newline-terminated lines without blank ones")
        }
        self.text = text
        let line = try signer.sign(text)
        signatures = [Signature(name: signer.name, bytes: Array(Data(base64Encoded: line)!))]
    }

    /// Parses a note: its text up to the first blank line, then signature lines.
    public init(parsing note: String) throws {
        guard let split = note.range(of: "\n\n", options: .backwards) else {
            throw StoreError(.invalidArgument, "a signed note needs a blank line between its text and its signatures")
        }
        text = String(note[..<split.lowerBound]) + "\n"
        signatures = []
        let lines = note[split.upperBound...].split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            if line.isEmpty {
                guard index == lines.count - 1 else { throw StoreError(.invalidArgument, "a blank line among signatures") }
                continue
            }
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0] == "\u{2014}", let raw = Data(base64Encoded: String(fields[2])),
                  raw.count >= 4 else {
                throw StoreError(.invalidArgument, "malformed signature line: \(line.prefix(80))")
            }
            signatures.append(Signature(name: String(fields[1]), bytes: Array(raw)))
        }
        guard !signatures.isEmpty else { throw StoreError(.invalidArgument, "a signed note has no signature") }
    }

    /// The note as text: the text, a blank line, the signature lines.
    public var formatted: String { text + "\n" + signatures.map(\.line).joined() }

    /// The signatures that `verifier` validates (same name, same key id, valid signature).
    public func valid(for verifier: NoteVerifier) -> [Signature] {
        signatures.filter { $0.name == verifier.name && verifier.verify(text, signature: $0.bytes) }
    }

    /// Adds a witness cosignature (C2SP tlog-cosignature, type 0x04) made with `key` at `time`; for tests and tools
    /// acting as a witness.
    public mutating func cosign(name: String, seed: [UInt8], time: UInt64) throws {
        let signer = try NoteSigner(name: name, seed: seed)
        let keyID = NoteVerifier.keyID(name: name, type: 0x04, publicKey: signer.publicKeyBytes)
        let message = "cosignature/v1\ntime \(time)\n" + text
        let signature = try signer.signRaw(message)
        signatures.append(Signature(
            name: name,
            bytes: withUnsafeBytes(of: keyID.bigEndian, Array.init) + withUnsafeBytes(of: time.bigEndian, Array.init)
                + signature))
    }
}

extension NoteSigner {
    /// A raw Ed25519 signature over `message`.
    func signRaw(_ message: String) throws -> [UInt8] {
        let line = try sign(message)
        return Array(Data(base64Encoded: line)!.dropFirst(4))
    }

    /// The witness (type 0x04) verifier key for the same key pair.
    public var cosignatureVerifierKey: String {
        let id = NoteVerifier.keyID(name: name, type: 0x04, publicKey: publicKeyBytes)
        return "\(name)+\(String(format: "%08x", id))+" + Data([0x04] + publicKeyBytes).base64EncodedString()
    }
}
