internal import CLMDB
import Foundation

/// What ``Store/verify(commitments:verifier:progress:)`` established.
public struct VerificationReport: Sendable {
    /// A rollback entry found in the log: a signed checkpoint the log no longer extends.
    public struct Rollback: Sendable, Hashable {
        /// Position of the rollback entry.
        public var position: UInt64
        /// The abandoned checkpoint's size.
        public var abandonedSize: UInt64
        /// The reason given.
        public var reason: String
    }

    /// Events verified (the tree size).
    public var events: UInt64 = 0
    /// Streams seen.
    public var streams = 0
    /// Payload parts whose commitment was recomputed and matched.
    public var partsVerified = 0
    /// Personal parts absent because their subject was erased.
    public var erasedParts = 0
    /// The recomputed root of the whole log.
    public var root = TreeHash.empty
    /// Stored checkpoints whose root matched the recomputed tree.
    public var checkpointsVerified = 0
    /// Checkpoint signatures verified against the given verifier key.
    public var signaturesVerified = 0
    /// Rollback entries: each is a break of consistency with the checkpoint it abandons.
    public var rollbacks: [Rollback] = []
}

extension Store {
    /// Verifies the log from its records: recomputes the Merkle tree and compares every stored node, the stored
    /// frontier and every stored checkpoint (root, origin, and signature when `verifier` is given); checks every
    /// stream's versions and previous-position chain; and, with `commitments`, recomputes every payload part's
    /// commitment. Reads in short transactions, so it may run beside the writer (open the store read-only).
    ///
    /// - Parameters:
    ///   - commitments: Also decode every payload part and check its commitment (`false`: tree and chains only).
    ///   - verifier: The log's verifier key; checkpoint signatures are checked when given.
    ///   - progress: Called after each page with (events verified, events to verify).
    /// - Throws: ``StoreError/Code/corrupt`` naming the first inconsistency: position, stream, what differs.
    public func verify(commitments: Bool = true, verifier: NoteVerifier? = nil,
                       progress: (UInt64, UInt64) -> Void = { _, _ in }) throws -> VerificationReport {
        guard keepsMerkleTree else {
            throw StoreError(.invalidArgument, "this store was created without a Merkle tree; use `check` instead")
        }
        var report = VerificationReport()
        let erased = try erasedSubjects()
        let stored = try checkpoints()
        let checkpointSizes = Set(stored.map(\.checkpoint.size))
        var rootsAt = [UInt64: TreeHash]()
        if checkpointSizes.contains(0) { rootsAt[0] = .empty }
        let end = head
        var frontier = Frontier()
        var streams = [String: (version: UInt64, last: UInt64)]()
        var part = [UInt8]()
        var next: UInt64 = 0
        var nextNode: UInt64 = 0
        while next < end {
            let pageEnd = min(end, next + 4_096)
            try readTransaction { txn in
                try txn.withCursor(dbs.nodes) { nodes in
                    var node = try nodes.seek(integer: nextNode)
                    try txn.withCursor(dbs.records) { records in
                        var entry = try records.seek(integer: next)
                        while next < pageEnd {
                            guard let e = entry, e.key.nativeUInt64 == next else {
                                throw StoreError(.corrupt, "position \(next) is missing from the log", position: next)
                            }
                            let view = try RecordView(e.value, position: next)
                            let stream = view.stream
                            func fail(_ what: String) -> StoreError {
                                StoreError(.corrupt, "position \(next), stream \"\(stream)\": \(what)", stream: stream,
                                           position: next)
                            }
                            guard view.position == next else { throw fail("the record says position \(view.position)") }
                            guard view.originBytes.elementsEqual(origin.utf8) else {
                                throw fail("origin \"\(String(decoding: view.originBytes, as: UTF8.self))\" is not \"\(origin)\"")
                            }
                            let previous = streams[stream]
                            guard view.streamVersion == (previous?.version ?? 0) + 1 else {
                                throw fail("version \(view.streamVersion) follows version \(previous?.version ?? 0)")
                            }
                            guard view.previousPosition == previous?.last else {
                                throw fail("previous position \(view.previousPosition.map(String.init) ?? "none") "
                                    + "should be \(previous.map { String($0.last) } ?? "none")")
                            }
                            streams[stream] = (view.streamVersion, next)

                            try frontier.append(TreeHash.leaf(view.bytes)) { key, computed in
                                guard let n = node, n.key.nativeUInt64 == key, let hash = TreeHash(n.value) else {
                                    throw fail("Merkle node \(key) is missing")
                                }
                                guard hash == computed else {
                                    throw fail("Merkle node \(key) is \(hash.hex), but the records give \(computed.hex)")
                                }
                                node = try nodes.get(.next)
                                nextNode = key + 1
                            }
                            if checkpointSizes.contains(frontier.size) { rootsAt[frontier.size] = frontier.root }

                            if commitments {
                                for isPersonal in [false, true] {
                                    let commitment = isPersonal ? view.personalCommitment : view.factsCommitment
                                    guard let commitment else { continue }
                                    let length = isPersonal ? view.personalLength : view.factsLength
                                    let name = isPersonal ? "personal" : "facts"
                                    let salt: [UInt8]
                                    do {
                                        guard let s = try decodeStoredPart(next, personal: isPersonal, length: length,
                                                                           into: &part, txn)
                                        else {
                                            if isPersonal, let subject = view.metadataValue("subject")
                                                .flatMap(UUID.init(uuidString:)), erased.contains(subject) {
                                                report.erasedParts += 1
                                                continue
                                            }
                                            throw fail("the \(name) part is missing and no erasure covers it")
                                        }
                                        salt = s
                                    } catch let error as StoreError where error.code == .corrupt {
                                        throw fail("the \(name) part cannot be decoded (\(error.message))")
                                    }
                                    let digest = salt.withUnsafeBytes { s in
                                        part.withUnsafeBytes { StoredPart.commitment(salt: s, part: $0) }
                                    }
                                    guard digest.elementsEqual(commitment) else {
                                        throw fail("the \(name) part does not match its commitment")
                                    }
                                    report.partsVerified += 1
                                }
                            }
                            if view.leafType == .admin, stream == Self.rollbackStream,
                               try decodeStoredPart(next, personal: false, length: view.factsLength, into: &part, txn) != nil,
                               let object = try? JSONSerialization.jsonObject(with: Data(part)) as? [String: Any] {
                                report.rollbacks.append(.init(
                                    position: next,
                                    abandonedSize: (object["abandonedSize"] as? NSNumber)?.uint64Value ?? 0,
                                    reason: object["reason"] as? String ?? ""))
                            }
                            next += 1
                            entry = try records.get(.next)
                        }
                    }
                }
            }
            progress(next, end)
        }
        report.events = end
        report.streams = streams.count
        report.root = frontier.root

        try readTransaction { txn in
            let nodeCount = try txn.count(dbs.nodes)
            guard UInt64(nodeCount) == TreeMath.perfectNodes(size: end) else {
                throw StoreError(.corrupt, "the tree holds \(nodeCount) nodes; \(end) events make "
                    + "\(TreeMath.perfectNodes(size: end))")
            }
            let storedFrontier = try Array("frontier".utf8).withUnsafeBytes { try txn.get(dbs.meta, $0).map { Array($0) } }
            guard end == 0 || storedFrontier == frontier.encoded else {
                throw StoreError(.corrupt, "the stored Merkle frontier does not match the records")
            }
        }
        for signed in stored {
            let size = signed.checkpoint.size
            guard signed.checkpoint.origin == origin else {
                throw StoreError(.corrupt, "checkpoint \(size) names origin \"\(signed.checkpoint.origin)\"")
            }
            guard let root = rootsAt[size] else {
                throw StoreError(.corrupt, "checkpoint \(size) is beyond the log, which holds \(end) events",
                                 position: size)
            }
            guard root == signed.checkpoint.root else {
                throw StoreError(.corrupt, "checkpoint \(size) signs root \(signed.checkpoint.root.hex), but the records "
                    + "give \(root.hex)", position: size)
            }
            report.checkpointsVerified += 1
            if let verifier {
                guard !signed.note.valid(for: verifier).isEmpty else {
                    throw StoreError(.corrupt, "checkpoint \(size) is not signed by \(verifier.name)+"
                        + String(format: "%08x", verifier.keyID), position: size)
                }
                report.signaturesVerified += 1
            }
        }
        return report
    }
}
