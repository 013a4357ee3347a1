/// RFC 9162 §2.1.3.2 and §2.1.4.2 verification, with the edge rules of the reference implementation (a
/// consistency proof from size 0 always fails; equal sizes need an empty proof and equal roots; hashes are 32 bytes).
public enum MerkleVerification {
    /// Whether `proof` shows the leaf with `leafHash` at `index` in the tree of `size` leaves with root `root`.
    public static func verifyInclusion(index: UInt64, size: UInt64, leafHash: [UInt8], proof: [[UInt8]],
                                       root: [UInt8]) -> Bool {
        guard index < size, let leaf = TreeHash(leafHash), let expected = TreeHash(root) else { return false }
        guard let computed = rootFromInclusion(index: index, size: size, leaf: leaf, proof: proof) else { return false }
        return computed == expected
    }

    /// The root an inclusion proof implies, or `nil` when the proof is malformed for that index and size.
    public static func rootFromInclusion(index: UInt64, size: UInt64, leaf: TreeHash, proof: [[UInt8]]) -> TreeHash? {
        guard index < size else { return nil }
        var fn = index, sn = size - 1
        var r = leaf
        for element in proof {
            guard let p = TreeHash(element), sn != 0 else { return nil }
            if fn & 1 == 1 || fn == sn {
                r = TreeHash.node(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = TreeHash.node(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 ? r : nil
    }

    /// Whether `proof` shows the tree of `size2` leaves with `root2` extends the tree of `size1` with `root1`.
    public static func verifyConsistency(size1: UInt64, size2: UInt64, root1: [UInt8], root2: [UInt8],
                                         proof: [[UInt8]]) -> Bool {
        guard size1 > 0, size1 <= size2 else { return false }
        if size1 == size2 { return proof.isEmpty && root1 == root2 }
        guard !proof.isEmpty, let first = TreeRoot(root1), let second = TreeRoot(root2) else { return false }
        var hashes = [TreeHash]()
        for element in proof {
            guard let h = TreeHash(element) else { return false }
            hashes.append(h)
        }
        if size1 & (size1 - 1) == 0 { hashes.insert(first.hash, at: 0) }
        var fn = size1 - 1, sn = size2 - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = hashes[0], sr = hashes[0]
        for c in hashes.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = TreeHash.node(c, fr)
                sr = TreeHash.node(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = TreeHash.node(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == first.hash && sr == second.hash && sn == 0
    }

    /// The root of leaves streamed in order (RFC 9162 §2.1.2's stack), with O(log n) memory.
    public struct RootBuilder: Sendable {
        private var frontier = Frontier()

        /// An empty tree.
        public init() {}

        /// Adds the next leaf's hash.
        public mutating func append(leafHash: TreeHash) { frontier.append(leafHash) { _, _ in } }

        /// Leaves added so far.
        public var size: UInt64 { frontier.size }

        /// The root of the leaves added so far.
        public var root: TreeHash { frontier.root }
    }
}

/// A root given as bytes of any length: compared bytewise, as the reference implementation does.
private struct TreeRoot {
    let hash: TreeHash
    init?(_ bytes: [UInt8]) {
        guard let h = TreeHash(bytes) else { return nil }
        hash = h
    }
}
