import Crypto
import Foundation

/// A 32-byte SHA-256 value of the RFC 9162 tree: a leaf hash, a node hash or a root.
public struct TreeHash: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes.
    public let bytes: [UInt8]

    /// Wraps 32 bytes; `nil` for any other length (RFC 9162 verifiers reject them).
    public init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        self.bytes = Array(bytes)
    }

    init(digest: SHA256Digest) { bytes = Array(digest) }

    /// Parses standard base64 (RFC 4648 §4) of 32 bytes.
    public init?(base64: some StringProtocol) {
        guard let data = Data(base64Encoded: String(base64)), let hash = TreeHash(data) else { return nil }
        self = hash
    }

    /// Standard base64.
    public var base64: String { Data(bytes).base64EncodedString() }

    /// Lowercase hex.
    public var hex: String { bytes.map { String(format: "%02x", $0) }.joined() }

    public var description: String { hex }

    /// The root of the empty tree: SHA-256 of nothing.
    public static let empty = TreeHash(digest: SHA256.hash(data: [UInt8]()))

    /// `SHA-256(0x00 ‖ data)`: the hash of a leaf (RFC 9162 §2.1.1).
    public static func leaf(_ data: UnsafeRawBufferPointer) -> TreeHash {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(bufferPointer: data)
        return TreeHash(digest: hasher.finalize())
    }

    /// `SHA-256(0x00 ‖ data)` of an array.
    public static func leaf(_ data: [UInt8]) -> TreeHash { data.withUnsafeBytes { leaf($0) } }

    /// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node.
    public static func node(_ left: TreeHash, _ right: TreeHash) -> TreeHash {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left.bytes)
        hasher.update(data: right.bytes)
        return TreeHash(digest: hasher.finalize())
    }
}
