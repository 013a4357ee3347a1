/// Positions in the tree. A perfect node `(level, index)` covers leaves `[index·2^level, (index+1)·2^level)`; its
/// key in the `nodes` database is its post-order position, so appending leaf `i` writes keys that only grow and
/// every write lands at the B-tree's tail.
enum TreeMath {
    /// Post-order position of perfect node `(level, index)`: `2m − popcount(m) + level` with
    /// `m = (index + 1)·2^level − 1`.
    static func postOrder(level: Int, index: UInt64) -> UInt64 {
        let m = (index + 1) << UInt64(level) - 1
        return 2 * m - UInt64(m.nonzeroBitCount) + UInt64(level)
    }

    /// Number of perfect nodes in a tree of `size` leaves: `2n − popcount(n)`.
    static func perfectNodes(size: UInt64) -> UInt64 { 2 * size - UInt64(size.nonzeroBitCount) }

    /// The largest power of two strictly below `n` (n ≥ 2): RFC 9162's split point `k`.
    static func split(_ n: UInt64) -> UInt64 {
        precondition(n >= 2)
        return 1 << (63 - UInt64((n - 1).leadingZeroBitCount))
    }

    /// If `[start, end)` is a perfect, aligned subtree, its (level, index).
    static func perfect(_ start: UInt64, _ end: UInt64) -> (level: Int, index: UInt64)? {
        let width = end - start
        guard width > 0, width & (width - 1) == 0, start % width == 0 else { return nil }
        let level = width.trailingZeroBitCount
        return (level, start >> UInt64(level))
    }
}
