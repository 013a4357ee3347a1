internal import CLMDB
import Foundation
import Synchronization

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
    /// Leaves per verification chunk: a perfect subtree each, verified on its own by one of the cores.
    static let verifyChunkLevel = 16

    /// Verifies the log from its records: recomputes the Merkle tree and compares every stored node, the stored
    /// frontier and every stored checkpoint (root, origin, and signature when `verifier` is given); checks every
    /// stream's versions and previous-position chain; and, with `commitments`, recomputes every payload part's
    /// commitment (a personal part may be absent only when an erasure covers its subject). Reads in short
    /// transactions, so it may run beside the writer (open the store read-only). The log is cut into aligned
    /// chunks of 2^16 events verified in parallel on every core, then stitched together in order.
    ///
    /// - Parameters:
    ///   - commitments: Also decode every payload part and check its commitment (`false`: tree and chains only).
    ///   - verifier: The log's verifier key; checkpoint signatures are checked when given.
    ///   - progress: Called as chunks finish with (events verified, events to verify).
    /// - Throws: ``StoreError/Code/corrupt`` naming the first inconsistency: position, stream, what differs.
    public func verify(commitments: Bool = true, verifier: NoteVerifier? = nil,
                       progress: @Sendable (UInt64, UInt64) -> Void = { _, _ in }) throws -> VerificationReport {
        try verify(commitments: commitments, verifier: verifier, chunkLevel: Self.verifyChunkLevel, progress: progress)
    }

    /// ``verify(commitments:verifier:progress:)`` with chunks of `2^chunkLevel` events (tests use small ones).
    func verify(commitments: Bool, verifier: NoteVerifier?, chunkLevel: Int,
                progress: @Sendable (UInt64, UInt64) -> Void = { _, _ in }) throws -> VerificationReport {
        guard keepsMerkleTree else {
            throw StoreError(.invalidArgument, "this store was created without a Merkle tree; use `check` instead")
        }
        // The writer may go on meanwhile: verify up to the head seen now, the checkpoints up to it, and erasures
        // read after it (an erasure that lands during the run is looked up again when a part is missing).
        let end = head
        let stored = try checkpoints().filter { $0.checkpoint.size <= end }
        let context = VerifyContext(end: end, erased: try erasedSubjects(), commitments: commitments,
                                    checkpointSizes: Set(stored.map(\.checkpoint.size)))
        let width = UInt64(1) << UInt64(chunkLevel)
        let chunks = Int((context.end + width - 1) / width)
        let results = Mutex<[Int: Result<ChunkResult, any Error>]>([:])
        let done = Mutex<UInt64>(0)
        DispatchQueue.concurrentPerform(iterations: max(chunks, 1)) { chunk in
            guard chunk < chunks else { return }
            let start = UInt64(chunk) * width
            let result = Result { try verifyChunk(start, min(context.end, start + width), context) }
            results.withLock { $0[chunk] = result }
            let total = done.withLock { d in
                d += min(context.end, start + width) - start
                return d
            }
            progress(total, context.end)
        }

        // Stitch the chunks in order: stream chains across chunk borders, the tree above the chunks.
        var report = VerificationReport()
        var top = Frontier()
        var lastOfStream = [String: (version: UInt64, position: UInt64)]()
        var rootsAt = [UInt64: TreeHash]()
        if context.checkpointSizes.contains(0) { rootsAt[0] = .empty }
        for chunk in 0..<chunks {
            let result = try results.withLock { $0[chunk]! }.get()
            for (stream, first) in result.firstOfStream {
                if let last = lastOfStream[stream] {
                    guard first.version == last.version + 1, first.previous == last.position else {
                        throw StoreError(.corrupt, "position \(first.position), stream \"\(stream)\": version "
                            + "\(first.version) (previous \(first.previous.map(String.init) ?? "none")) does not follow "
                            + "version \(last.version) at \(last.position)", stream: stream, position: first.position)
                    }
                } else if first.version != 1 || first.previous != nil {
                    throw StoreError(.corrupt, "position \(first.position), stream \"\(stream)\": version "
                        + "\(first.version) follows version 0", stream: stream, position: first.position)
                }
            }
            lastOfStream.merge(result.lastOfStream) { $1 }
            for (size, roots) in result.rootsAt {
                var at = top
                for r in roots { at.append(subtree: r.hash, level: r.level) { _, _ in } }
                rootsAt[size] = at.root
            }
            try readTransaction { txn in
                for r in result.roots {
                    try top.append(subtree: r.hash, level: r.level) { key, computed in
                        guard let value = try txn.get(dbs.nodes, integer: key), TreeHash(value) == computed else {
                            throw StoreError(.corrupt, "Merkle node \(key) (above position \(result.start)) differs from "
                                + "the records' \(computed.hex)", position: result.start)
                        }
                    }
                }
            }
            report.partsVerified += result.partsVerified
            report.erasedParts += result.erasedParts
            report.rollbacks += result.rollbacks
        }
        report.events = context.end
        report.streams = lastOfStream.count
        report.root = top.root

        // The node count and the stored frontier describe the head now: compare them only if it did not move.
        if head == context.end { try readTransaction { txn in
            let nodeCount = try txn.count(dbs.nodes)
            guard UInt64(nodeCount) == TreeMath.perfectNodes(size: context.end) else {
                throw StoreError(.corrupt, "the tree holds \(nodeCount) nodes; \(context.end) events make "
                    + "\(TreeMath.perfectNodes(size: context.end))")
            }
            let storedFrontier = try Array("frontier".utf8).withUnsafeBytes { try txn.get(dbs.meta, $0).map { Array($0) } }
            guard context.end == 0 || storedFrontier == top.encoded else {
                throw StoreError(.corrupt, "the stored Merkle frontier does not match the records")
            }
        } }
        for signed in stored {
            let size = signed.checkpoint.size
            guard signed.checkpoint.origin == origin else {
                throw StoreError(.corrupt, "checkpoint \(size) names origin \"\(signed.checkpoint.origin)\"")
            }
            guard let root = rootsAt[size] else {
                throw StoreError(.corrupt, "checkpoint \(size) is beyond the log, which holds \(context.end) events",
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

    /// What every chunk worker needs.
    struct VerifyContext: Sendable {
        let end: UInt64
        let erased: Set<UUID>
        let commitments: Bool
        let checkpointSizes: Set<UInt64>
    }

    /// One chunk's findings, for stitching.
    struct ChunkResult: Sendable {
        let start: UInt64
        /// The chunk's perfect subtree roots (one for a full chunk), left to right.
        var roots: [(level: Int, hash: TreeHash)] = []
        /// Each stream's first event in the chunk.
        var firstOfStream: [String: (version: UInt64, previous: UInt64?, position: UInt64)] = [:]
        /// Each stream's last event in the chunk.
        var lastOfStream: [String: (version: UInt64, position: UInt64)] = [:]
        /// The chunk's roots at each checkpoint size inside it.
        var rootsAt: [UInt64: [(level: Int, hash: TreeHash)]] = [:]
        var partsVerified = 0
        var erasedParts = 0
        var rollbacks: [VerificationReport.Rollback] = []
    }

    /// Verifies the records [start, end) of one aligned chunk: leaves and every node inside the chunk, chains
    /// inside it, commitments.
    private func verifyChunk(_ start: UInt64, _ end: UInt64, _ context: VerifyContext) throws -> ChunkResult {
        var result = ChunkResult(start: start)
        var frontier = Frontier(offset: start)
        var part = [UInt8]()
        var next = start
        var nextNode = TreeMath.postOrder(level: 0, index: start)
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
                            if let previous = result.lastOfStream[stream] {
                                guard view.streamVersion == previous.version + 1 else {
                                    throw fail("version \(view.streamVersion) follows version \(previous.version)")
                                }
                                guard view.previousPosition == previous.position else {
                                    throw fail("previous position \(view.previousPosition.map(String.init) ?? "none") "
                                        + "should be \(previous.position)")
                                }
                            } else {
                                result.firstOfStream[stream] = (view.streamVersion, view.previousPosition, next)
                            }
                            result.lastOfStream[stream] = (view.streamVersion, next)

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
                            if context.checkpointSizes.contains(frontier.size) {
                                result.rootsAt[frontier.size] = frontier.roots
                            }
                            if context.commitments {
                                try checkCommitments(view, context, &part, &result, fail, txn)
                            }
                            if view.leafType == .admin, stream == Self.rollbackStream,
                               try decodeStoredPart(next, personal: false, length: view.factsLength, into: &part, txn) != nil,
                               let object = try? JSONSerialization.jsonObject(with: Data(part)) as? [String: Any] {
                                result.rollbacks.append(.init(
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
        }
        result.roots = frontier.roots
        return result
    }

    private func checkCommitments(_ view: RecordView, _ context: VerifyContext, _ part: inout [UInt8],
                                  _ result: inout ChunkResult, _ fail: (String) -> StoreError,
                                  _ txn: borrowing LMDBTransaction) throws {
        for isPersonal in [false, true] {
            let commitment = isPersonal ? view.personalCommitment : view.factsCommitment
            guard let commitment else { continue }
            let length = isPersonal ? view.personalLength : view.factsLength
            let name = isPersonal ? "personal" : "facts"
            let salt: [UInt8]?
            do {
                salt = try decodeStoredPart(view.position, personal: isPersonal, length: length, into: &part, txn)
            } catch let error as StoreError where error.code == .corrupt {
                throw fail("the \(name) part cannot be decoded (\(error.message))")
            }
            guard let salt else {
                if isPersonal, let subject = view.metadataValue("subject").flatMap(UUID.init(uuidString:)),
                   try context.erased.contains(subject) || erasedSubjects().contains(subject) {
                    result.erasedParts += 1
                    continue
                }
                throw fail("the \(name) part is missing and no erasure covers it")
            }
            let digest = salt.withUnsafeBytes { s in part.withUnsafeBytes { StoredPart.commitment(salt: s, part: $0) } }
            guard digest.elementsEqual(commitment) else { throw fail("the \(name) part does not match its commitment") }
            result.partsVerified += 1
        }
    }
}
