import Crypto
import Foundation

/// A 32-byte SHA-256 value of the RFC 9162 tree: a leaf hash, a node hash or a root.
///
/// Held inline (four words), so hashing a tree allocates nothing per node.
public struct TreeHash: Hashable, Sendable, CustomStringConvertible {
    private var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// Wraps 32 bytes; `nil` for any other length (RFC 9162 verifiers reject them).
    public init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        self = Array(bytes).withUnsafeBytes { TreeHash(raw: $0) }
    }

    private init(raw: UnsafeRawBufferPointer) {
        w0 = raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        w1 = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        w2 = raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        w3 = raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
    }

    init(digest: SHA256Digest) {
        self = digest.withUnsafeBytes { TreeHash(raw: $0) }
    }

    /// Parses standard base64 (RFC 4648 §4) of 32 bytes.
    public init?(base64: some StringProtocol) {
        guard let data = Data(base64Encoded: String(base64)), let hash = TreeHash(data) else { return nil }
        self = hash
    }

    /// Calls `body` with the 32 bytes.
    public func withUnsafeBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try Swift.withUnsafeBytes(of: (w0, w1, w2, w3)) { try body($0) }
    }

    /// The 32 bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Standard base64.
    public var base64: String { Data(bytes).base64EncodedString() }

    /// Lowercase hex.
    public var hex: String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// A readable rendering.
    public var description: String { hex }

    /// The root of the empty tree: SHA-256 of nothing.
    public static let empty = TreeHash(digest: SHA256.hash(data: [UInt8]()))

    /// `SHA-256(0x00 ‖ data)`: the hash of a leaf (RFC 9162 §2.1.1).
    public static func leaf(_ data: UnsafeRawBufferPointer) -> TreeHash {
        var hasher = SHA256()
        Swift.withUnsafeBytes(of: UInt8(0x00)) { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: data)
        return TreeHash(digest: hasher.finalize())
    }

    /// `SHA-256(0x00 ‖ data)` of an array.
    public static func leaf(_ data: [UInt8]) -> TreeHash { data.withUnsafeBytes { leaf($0) } }

    /// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node.
    public static func node(_ left: TreeHash, _ right: TreeHash) -> TreeHash {
        var hasher = SHA256()
        Swift.withUnsafeBytes(of: UInt8(0x01)) { hasher.update(bufferPointer: $0) }
        Swift.withUnsafeBytes(of: (left.w0, left.w1, left.w2, left.w3, right.w0, right.w1, right.w2, right.w3)) {
            hasher.update(bufferPointer: $0)
        }
        return TreeHash(digest: hasher.finalize())
    }
}
