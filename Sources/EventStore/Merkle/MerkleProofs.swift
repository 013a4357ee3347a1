/// RFC 9162 roots and proofs for any size, computed from perfect nodes.
///
/// Every node a proof needs is either a stored perfect node or an "ephemeral" node on the right border, which is
/// folded from perfect ones (`subtreeHash`). `node` reads a perfect node by (level, index).
enum MerkleProofs {
    typealias NodeReader = (_ level: Int, _ index: UInt64) throws -> TreeHash

    /// MTH(D[start:end]).
    static func subtreeHash(_ start: UInt64, _ end: UInt64, _ node: NodeReader) throws -> TreeHash {
        if end == start { return .empty }
        if let p = TreeMath.perfect(start, end) { return try node(p.level, p.index) }
        let k = TreeMath.split(end - start)
        return TreeHash.node(try subtreeHash(start, start + k, node), try subtreeHash(start + k, end, node))
    }

    /// PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), for index < size.
    static func inclusion(index: UInt64, size: UInt64, _ node: NodeReader) throws -> [TreeHash] {
        try path(index, 0, size, node)
    }

    private static func path(_ m: UInt64, _ start: UInt64, _ end: UInt64, _ node: NodeReader) throws -> [TreeHash] {
        let n = end - start
        if n <= 1 { return [] }
        let k = TreeMath.split(n)
        if m < k { return try path(m, start, start + k, node) + [try subtreeHash(start + k, end, node)] }
        return try path(m - k, start + k, end, node) + [try subtreeHash(start, start + k, node)]
    }

    /// PROOF(m, D[0:n]) (RFC 9162 §2.1.4.1), for 0 < m ≤ n.
    static func consistency(from m: UInt64, to n: UInt64, _ node: NodeReader) throws -> [TreeHash] {
        if m == n { return [] }
        return try subproof(m, 0, n, true, node)
    }

    private static func subproof(_ m: UInt64, _ start: UInt64, _ end: UInt64, _ complete: Bool, _ node: NodeReader)
        throws -> [TreeHash]
    {
        let n = end - start
        if m == n { return complete ? [] : [try subtreeHash(start, end, node)] }
        let k = TreeMath.split(n)
        if m <= k { return try subproof(m, start, start + k, complete, node) + [try subtreeHash(start + k, end, node)] }
        return try subproof(m - k, start + k, end, false, node) + [try subtreeHash(start, start + k, node)]
    }
}
