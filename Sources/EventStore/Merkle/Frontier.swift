/// The compact range `[0, size)`: the roots of the perfect subtrees the tree of `size` leaves decomposes into, left
/// to right (at most 64). Appending a leaf merges equal-level roots and yields every perfect node it completes.
struct Frontier: Hashable, Sendable {
    private(set) var size: UInt64 = 0
    /// (level, hash), levels strictly decreasing.
    private(set) var roots: [(level: Int, hash: TreeHash)] = []

    static func == (a: Frontier, b: Frontier) -> Bool {
        a.size == b.size && a.roots.count == b.roots.count
            && zip(a.roots, b.roots).allSatisfy { $0.level == $1.level && $0.hash == $1.hash }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(size)
        for r in roots { hasher.combine(r.hash) }
    }

    init() {}

    /// Appends the leaf at index `size` and calls `store` with each perfect node it completes, the leaf first, in
    /// increasing post-order position.
    mutating func append(_ leaf: TreeHash, store: (_ position: UInt64, _ hash: TreeHash) throws -> Void) rethrows {
        try store(TreeMath.postOrder(level: 0, index: size), leaf)
        try append(subtree: leaf, level: 0, store: store)
    }

    /// Appends a perfect subtree of `2^level` leaves (its root `hash`) at `size`, which must be a multiple of its
    /// width, and calls `store` with each parent it completes.
    mutating func append(subtree hash: TreeHash, level: Int,
                         store: (_ position: UInt64, _ hash: TreeHash) throws -> Void) rethrows {
        var node = (level: level, hash: hash)
        var covered = size >> UInt64(level)
        while let last = roots.last, last.level == node.level {
            roots.removeLast()
            node = (node.level + 1, TreeHash.node(last.hash, node.hash))
            covered >>= 1
            try store(TreeMath.postOrder(level: node.level, index: covered), node.hash)
        }
        roots.append(node)
        size += 1 << UInt64(level)
    }

    /// An empty range starting at leaf `offset` (a multiple of the width of every subtree that will be appended):
    /// a worker verifying one aligned chunk of the log builds its part of the tree with it.
    init(offset: UInt64) { size = offset }

    /// Adds a perfect subtree root to the right of the range (rebuilding a compact range read from elsewhere).
    mutating func adopt(level: Int, hash: TreeHash) {
        roots.append((level, hash))
        size += 1 << UInt64(level)
    }

    /// The root: fold the roots right to left (RFC 9162 MTH); the empty tree's root when there are none.
    var root: TreeHash {
        guard var r = roots.last?.hash else { return .empty }
        for x in roots.dropLast().reversed() { r = TreeHash.node(x.hash, r) }
        return r
    }

    // MARK: - Persistence (meta "frontier")

    /// `u64 size · u8 count · count × (u8 level · 32 hash)`.
    var encoded: [UInt8] {
        var w = ByteWriter(capacity: 9 + roots.count * 33)
        w.u64(size)
        w.u8(UInt8(roots.count))
        for r in roots {
            w.u8(UInt8(r.level))
            w.raw(r.hash.bytes)
        }
        return w.bytes
    }

    init(encoded buffer: UnsafeRawBufferPointer) throws(ByteReader.Malformed) {
        var r = ByteReader(buffer)
        size = try r.u64("frontier size")
        let count = Int(try r.u8("frontier count"))
        for _ in 0..<count {
            let level = Int(try r.u8("frontier level"))
            roots.append((level, TreeHash(try r.bytes(32, "frontier hash"))!))
        }
        guard r.isAtEnd, roots.count == size.nonzeroBitCount else {
            throw ByteReader.Malformed(what: "frontier", offset: r.offset)
        }
    }
}
