import Crypto
public import Foundation

/// An Ed25519 signing key in the Go `sumdb/note` format (`PRIVATE+KEY+<name>+<key id>+<base64(0x01 ‖ seed)>`),
/// as C2SP signed notes use it.
///
/// ```swift
/// let signer = try NoteSigner.generate(name: "ledger.agency.example/dossiers")
/// try signer.privateKeyText.write(toFile: keyPath, atomically: true, encoding: .utf8)
/// print(signer.verifierKey)   // publish out of band
/// ```
public struct NoteSigner: Sendable {
    /// The key's name (the log origin for a log key).
    public let name: String
    /// The 4-byte key id: `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[:4]`.
    public let keyID: UInt32
    private let key: Curve25519.Signing.PrivateKey

    /// Makes a new key from the system's CSPRNG.
    public static func generate(name: String) throws -> NoteSigner {
        try NoteSigner(name: name, seed: Array(Curve25519.Signing.PrivateKey().rawRepresentation))
    }

    /// A key from its 32-byte RFC 8032 seed.
    public init(name: String, seed: [UInt8]) throws {
        try NoteVerifier.checkName(name)
        guard seed.count == 32 else { throw StoreError(.invalidArgument, "an Ed25519 seed is 32 bytes, not \(seed.count)") }
        key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        self.name = name
        keyID = NoteVerifier.keyID(name: name, type: 0x01, publicKey: Array(key.publicKey.rawRepresentation))
    }

    /// Parses the Go private-key text.
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` saying which part is wrong.
    public init(privateKeyText text: String) throws {
        // The base64 key may hold "+": split off the four fields before it only.
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY",
              let raw = Data(base64Encoded: String(parts[4])), raw.count == 33, raw.first == 0x01
        else {
            throw StoreError(.invalidArgument, "not a note signing key (PRIVATE+KEY+<name>+<id>+<base64 of 0x01 and a 32-byte seed>)")
        }
        try self.init(name: String(parts[2]), seed: Array(raw.dropFirst()))
        guard String(format: "%08x", keyID) == parts[3] else {
            throw StoreError(.invalidArgument, "the signing key's id \(parts[3]) does not match its key")
        }
    }

    /// The private key in the Go note format (keep it secret: mode 0600, outside the store).
    public var privateKeyText: String {
        "PRIVATE+KEY+\(name)+\(String(format: "%08x", keyID))+"
            + Data([0x01] + Array(key.rawRepresentation)).base64EncodedString()
    }

    /// The verifier key (`<name>+<key id>+<base64(0x01 ‖ public key)>`), to publish.
    public var verifierKey: String {
        "\(name)+\(String(format: "%08x", keyID))+"
            + Data([0x01] + Array(key.publicKey.rawRepresentation)).base64EncodedString()
    }

    /// The 32-byte Ed25519 public key.
    var publicKeyBytes: [UInt8] { Array(key.publicKey.rawRepresentation) }

    /// The verifier for this key.
    public var verifier: NoteVerifier { try! NoteVerifier(verifierKey: verifierKey) }

    /// The signature line's base64 payload over `text`: key id ‖ Ed25519 signature.
    func sign(_ text: String) throws -> String {
        let signature = try key.signature(for: Data(text.utf8))
        return Data(withUnsafeBytes(of: keyID.bigEndian, Array.init) + Array(signature)).base64EncodedString()
    }
}

/// A verifier key: an Ed25519 note key (type 0x01) or a witness cosignature key (type 0x04, C2SP tlog-cosignature).
public struct NoteVerifier: Sendable, Hashable {
    /// The key's name.
    public let name: String
    /// The 4-byte key id.
    public let keyID: UInt32
    /// 0x01 (note signature) or 0x04 (timestamped cosignature).
    public let type: UInt8
    let publicKey: [UInt8]

    /// Parses `<name>+<hex key id>+<base64(type ‖ public key)>`.
    public init(verifierKey text: String) throws {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let raw = Data(base64Encoded: String(parts[2])), raw.count == 33,
              raw.first == 0x01 || raw.first == 0x04, let id = UInt32(parts[1], radix: 16), parts[1].count == 8
        else {
            throw StoreError(.invalidArgument, "not a verifier key (<name>+<8 hex digits>+<base64 of 0x01 or 0x04 and "
                + "a 32-byte Ed25519 public key>): \(text.prefix(60))")
        }
        try Self.checkName(String(parts[0]))
        name = String(parts[0])
        type = raw.first!
        publicKey = Array(raw.dropFirst())
        keyID = id
        guard Self.keyID(name: name, type: type, publicKey: publicKey) == id else {
            throw StoreError(.invalidArgument, "the verifier key's id \(parts[1]) does not match its public key")
        }
    }

    /// `SHA-256(name ‖ "\n" ‖ type ‖ public key)[:4]`.
    static func keyID(name: String, type: UInt8, publicKey: [UInt8]) -> UInt32 {
        let digest = SHA256.hash(data: Array(name.utf8) + [0x0A, type] + publicKey)
        return digest.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) }
    }

    static func checkName(_ name: String) throws {
        guard !name.isEmpty, !name.contains("+"), !name.unicodeScalars.contains(where: { $0.properties.isWhitespace })
        else { throw StoreError(.invalidArgument, "a key name must be non-empty with no \"+\" and no spaces: \"\(name)\"") }
    }

    /// Whether `signature` (key id ‖ signature bytes, decoded from a signature line) is valid over `text`.
    func verify(_ text: String, signature raw: [UInt8]) -> Bool {
        guard raw.count >= 4, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else {
            return false
        }
        let id = raw.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) }
        guard id == keyID else { return false }
        switch type {
        case 0x01:
            return raw.count == 68 && key.isValidSignature(Data(raw[4...]), for: Data(text.utf8))
        case 0x04:
            guard raw.count == 76 else { return false }
            let time = raw[4..<12].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let message = "cosignature/v1\ntime \(time)\n" + text
            return key.isValidSignature(Data(raw[12...]), for: Data(message.utf8))
        default:
            return false
        }
    }
}
