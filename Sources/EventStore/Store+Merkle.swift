extension Store {
    /// The Merkle root of the first `size` events (default: all of them).
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` when `size` is past the head or the store keeps no tree.
    public func rootHash(size: UInt64? = nil) throws -> TreeHash {
        try treeRead(size: size) { size, node in try MerkleProofs.subtreeHash(0, size, node) }
    }

    /// The hash of the leaf at `position`: `SHA-256(0x00 ‖ record)`.
    public func leafHash(at position: UInt64) throws -> TreeHash {
        try treeRead(size: position + 1) { _, node in try node(0, position) }
    }

    /// The inclusion proof of the event at `position` in the tree of `size` events (default: all).
    public func inclusionProof(position: UInt64, size: UInt64? = nil) throws -> [TreeHash] {
        try treeRead(size: size) { size, node in
            guard position < size else {
                throw StoreError(.invalidArgument, "position \(position) is not in a tree of \(size) events")
            }
            return try MerkleProofs.inclusion(index: position, size: size, node)
        }
    }

    /// The consistency proof from the tree of `from` events to the tree of `to` events (default: all).
    public func consistencyProof(from: UInt64, to: UInt64? = nil) throws -> [TreeHash] {
        try treeRead(size: to) { to, node in
            guard from > 0, from <= to else {
                throw StoreError(.invalidArgument, "a consistency proof needs 0 < from (\(from)) ≤ to (\(to))")
            }
            return try MerkleProofs.consistency(from: from, to: to, node)
        }
    }

    /// Runs `body` in one read transaction with a reader of stored perfect nodes and the checked size.
    private func treeRead<T>(size: UInt64?, _ body: (UInt64, MerkleProofs.NodeReader) throws -> T) throws -> T {
        try readTransaction { txn in
            let head = try txn.withCursor(dbs.records) { try $0.get(.last).map { $0.key.nativeUInt64 + 1 } ?? 0 }
            let size = size ?? head
            guard size <= head else {
                throw StoreError(.invalidArgument, "the log holds \(head) events; there is no tree of \(size)")
            }
            return try body(size) { level, index in
                let key = TreeMath.postOrder(level: level, index: index)
                guard let stored = try txn.get(dbs.nodes, integer: key), let hash = TreeHash(stored) else {
                    throw StoreError(.corrupt, "Merkle node (level \(level), index \(index)) is missing; "
                        + (keepsTreeInMeta(txn) ? "run `ledgerd verify`" : "this store was created without a tree"))
                }
                return hash
            }
        }
    }

    private func keepsTreeInMeta(_ txn: borrowing LMDBTransaction) -> Bool {
        (try? Array("tree".utf8).withUnsafeBytes { try txn.get(dbs.meta, $0).map { Array($0) } }) == [1]
    }
}
