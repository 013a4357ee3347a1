internal import CLMDB
import Foundation
import Synchronization

/// The highest signed checkpoint, kept beside the signing key (`<key file>.signed`), outside the store and its
/// backups: after a store is restored from an older backup, it no longer matches the log, and signing stops.
public struct SigningState: Sendable, Hashable {
    /// The file.
    public let path: String
    /// The highest signed size and its root, or `nil` before the first signature.
    public var signed: (size: UInt64, root: TreeHash)? {
        get { size.map { ($0, root!) } }
        set { size = newValue?.size; root = newValue?.root }
    }
    private var size: UInt64?
    private var root: TreeHash?

    /// Reads the state file (absent = nothing signed yet).
    public init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { return }  // nothing signed yet
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw StoreError(.storage, "cannot read the signing state \(path) (\(error)); signing stays refused until "
                + "it can be read, because it guards against signing a rolled-back log")
        }
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let size = UInt64(fields[0]), let root = TreeHash(base64: fields[1]) else {
            throw StoreError(.corrupt, "the signing state \(path) is not \"<size> <base64 root>\"; restore it from the "
                + "key's backup")
        }
        self.size = size
        self.root = root
    }

    /// Writes the state durably (temporary file, fsync, rename, fsync of the directory).
    func save(size: UInt64, root: TreeHash) throws {
        let temporary = path + ".tmp"
        let data = Data("\(size) \(root.base64)\n".utf8)
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600])
        else { throw StoreError(.storage, "cannot write the signing state \(temporary)") }
        let fd = open(temporary, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
        guard rename(temporary, path) == 0 else {
            throw StoreError(.storage, "cannot replace the signing state \(path): \(String(cString: strerror(errno)))")
        }
        fsyncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// Equality of the fields that matter.
    public static func == (a: SigningState, b: SigningState) -> Bool {
        a.path == b.path && a.size == b.size && a.root == b.root
    }

    /// Hashes the identifying fields.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(path)
        hasher.combine(size)
    }
}

extension Store {
    /// The stream that records admitted rollbacks (admin entries, leaf type 2).
    public static let rollbackStream = "log-rollbacks"
    /// The type of a rollback entry.
    public static let rollbackType = "LogRollback.v1"

    /// Signs a checkpoint of the whole log now and stores it; returns the stored checkpoint if the log has not grown
    /// since the last one (never two roots for one size).
    ///
    /// Refuses (``StoreError/Code/rollbackDetected``) when the signing state shows a larger or different tree was
    /// signed before, unless the log holds a rollback entry naming that checkpoint (``recordRollback(reason:state:)``).
    public func signCheckpoint(with signer: NoteSigner, state: SigningState) async throws -> SignedCheckpoint {
        try checkOpen()
        guard let writer else { throw StoreError(.readOnly, "a read-only store cannot sign checkpoints") }
        guard signer.name == origin else {
            throw StoreError(.invalidArgument, "the key is named \"\(signer.name)\" but the log's origin is \"\(origin)\"")
        }
        return try await withCheckedThrowingContinuation { continuation in
            writer.enqueue(.exclusive { [self] writer in
                guard let writer else {
                    continuation.resume(throwing: StoreError(.closed, "the store was closed before signing"))
                    return
                }
                continuation.resume(with: Result { try sign(writer, signer, state) })
            })
        }
    }

    /// Signs at a bounded cadence: only when the log grew since the latest checkpoint and at least
    /// `minimumInterval` passed since this store last signed; returns `nil` otherwise. The daemon's scheduler calls
    /// it every tick; ``signCheckpoint(with:state:)`` signs on demand.
    public func signCheckpointIfDue(with signer: NoteSigner, state: SigningState,
                                    minimumInterval: Duration = .seconds(1)) async throws -> SignedCheckpoint? {
        let now = ContinuousClock.now
        let due = lastSigning.withLock { last in last.map { $0.duration(to: now) >= minimumInterval } ?? true }
        guard due, try latestCheckpoint()?.checkpoint.size != head else { return nil }
        let signed = try await signCheckpoint(with: signer, state: state)
        lastSigning.withLock { $0 = now }
        return signed
    }

    /// On the writer thread: check the signing state, sign, remember, store.
    private func sign(_ writer: Writer, _ signer: NoteSigner, _ given: SigningState) throws -> SignedCheckpoint {
        let state = try SigningState(path: given.path)  // the file, not a copy someone kept
        guard let frontier = writer.state.frontier else {
            throw StoreError(.invalidArgument, "this store was created without a Merkle tree; it cannot be checkpointed")
        }
        let size = frontier.size
        let root = frontier.root
        do {
            return try env.write { txn in
                if let (signedSize, signedRoot) = state.signed {
                    let ours = signedSize <= size
                        ? try MerkleProofs.subtreeHash(0, signedSize) { level, index in
                            try storedNode(level, index, txn)
                        }
                        : nil
                    if ours != signedRoot, !(try hasRollback(of: signedSize, signedRoot, txn)) {
                        throw StoreError(.rollbackDetected, ours == nil
                            ? "checkpoint \(signedSize) was signed but the log holds only \(size) events: the store was "
                                + "restored from an older backup. Re-import the signed tail (from an audit bundle or a "
                                + "mirror), or record a rollback with a reason (`ledgerd checkpoint rollback`)"
                            : "the log's root at size \(signedSize) is not the one signed: the log was changed. Restore "
                                + "it, or record a rollback with a reason (`ledgerd checkpoint rollback`)",
                            position: signedSize)
                    }
                    if signedSize == size, ours == root, let stored = try storedCheckpoint(size, txn) {
                        return stored
                    }
                }
                let checkpoint = Checkpoint(origin: origin, size: size, root: root)
                if let stored = try storedCheckpoint(size, txn) {
                    guard stored.checkpoint.root == root else {
                        throw StoreError(.rollbackDetected, "a different root was already signed for size \(size)")
                    }
                    return stored
                }
                let note = try SignedNote(text: checkpoint.text, signer: signer)
                try state.save(size: size, root: root)
                try putCheckpoint(size, note.formatted, txn)
                return SignedCheckpoint(checkpoint: checkpoint, note: note)
            }
        } catch let error as LMDBError {
            throw StoreError(error, while: "storing a checkpoint")
        }
    }

    /// Records that the log no longer extends the checkpoint in `state` (after a restore from an older backup),
    /// with a reason; signing resumes afterwards and every later verification reports the break.
    @discardableResult
    public func recordRollback(reason: String, state: SigningState, actor: String = "") async throws -> AppendResult {
        guard let (size, root) = try SigningState(path: state.path).signed else {
            throw StoreError(.invalidArgument, "nothing was signed yet; there is nothing to roll back")
        }
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw StoreError(.invalidArgument, "a rollback needs a reason")
        }
        let facts = try JSONSerialization.data(withJSONObject: [
            "abandonedSize": size, "abandonedRoot": root.base64, "reason": reason,
        ] as [String: Any], options: [.sortedKeys])
        return try await appendAdmin(StreamAppend(stream: Self.rollbackStream, events: [
            EventData(type: Self.rollbackType, facts: Array(facts), actor: actor, leafType: .admin),
        ]))
    }

    /// Every stored checkpoint, by size.
    public func checkpoints() throws -> [SignedCheckpoint] {
        try readTransaction { txn in
            try txn.withCursor(dbs.checkpoints) { cursor in
                var out = [SignedCheckpoint]()
                var entry = try cursor.get(.first)
                while let e = entry {
                    out.append(try SignedCheckpoint(parsing: String(decoding: e.value, as: UTF8.self)))
                    entry = try cursor.get(.next)
                }
                return out
            }
        }
    }

    /// The stored checkpoint of the largest size, or `nil`.
    public func latestCheckpoint() throws -> SignedCheckpoint? {
        try readTransaction { txn in
            try txn.withCursor(dbs.checkpoints) { cursor in
                try cursor.get(.last).map { try SignedCheckpoint(parsing: String(decoding: $0.value, as: UTF8.self)) }
            }
        }
    }

    /// Adds the witness cosignatures of `note` to the stored checkpoint with the same text, after checking each
    /// against `witnesses` (C2SP tlog-cosignature keys, type 0x04); returns the updated checkpoint.
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` when no stored checkpoint has that text or no cosignature
    ///   verifies against a configured witness key.
    public func addCosignatures(_ note: String, witnesses: [NoteVerifier]) async throws -> SignedCheckpoint {
        let incoming = try SignedCheckpoint(parsing: note)
        let valid = incoming.note.signatures.filter { signature in
            witnesses.contains { w in w.type == 0x04 && w.name == signature.name && w.verify(incoming.note.text, signature: signature.bytes) }
        }
        guard !valid.isEmpty else {
            throw StoreError(.invalidArgument, "none of the note's signatures is a valid cosignature by a configured "
                + "witness key (\(witnesses.map(\.name).joined(separator: ", ")))")
        }
        guard let writer else { throw StoreError(.readOnly, "a read-only store cannot store cosignatures") }
        return try await withCheckedThrowingContinuation { continuation in
            writer.enqueue(.exclusive { [self] writer in
                guard writer != nil else {
                    continuation.resume(throwing: StoreError(.closed, "the store was closed"))
                    return
                }
                continuation.resume(with: Result {
                    do {
                        return try env.write { txn in
                            let size = incoming.checkpoint.size
                            guard var stored = try storedCheckpoint(size, txn), stored.note.text == incoming.note.text
                            else {
                                throw StoreError(.invalidArgument, "the store has no checkpoint \(size) with this text")
                            }
                            for signature in valid where !stored.note.signatures.contains(signature) {
                                stored.note.signatures.append(signature)
                            }
                            try putCheckpoint(size, stored.note.formatted, txn)
                            return stored
                        }
                    } catch let error as LMDBError {
                        throw StoreError(error, while: "storing cosignatures")
                    }
                })
            })
        }
    }

    // MARK: - Internals

    func storedNode(_ level: Int, _ index: UInt64, _ txn: borrowing LMDBTransaction) throws -> TreeHash {
        guard let stored = try txn.get(dbs.nodes, integer: TreeMath.postOrder(level: level, index: index)),
              let hash = TreeHash(stored)
        else { throw StoreError(.corrupt, "Merkle node (level \(level), index \(index)) is missing") }
        return hash
    }

    private func storedCheckpoint(_ size: UInt64, _ txn: borrowing LMDBTransaction) throws -> SignedCheckpoint? {
        try txn.get(dbs.checkpoints, integer: size).map {
            try SignedCheckpoint(parsing: String(decoding: $0, as: UTF8.self))
        }
    }

    private func putCheckpoint(_ size: UInt64, _ note: String, _ txn: borrowing LMDBTransaction) throws {
        try Array(note.utf8).withUnsafeBytes { try txn.put(dbs.checkpoints, integer: size, $0) }
    }

    /// Whether the log holds a rollback entry abandoning checkpoint (size, root).
    private func hasRollback(of size: UInt64, _ root: TreeHash, _ txn: borrowing LMDBTransaction) throws -> Bool {
        // On the writer thread between batches: the index is as far as the log.
        let positions: [UInt64] = try readTransaction(in: index!.env) { itxn in
            guard let number = try Array(Self.rollbackStream.utf8).withUnsafeBytes({ try itxn.get(idbs.streamNames, $0) })?
                .bigEndianUInt64()
            else { return [] }
            return try itxn.withCursor(idbs.streamEvents) { cursor in
                guard try cursor.find(integer: number) != nil else { return [] }
                var out = [UInt64]()
                var entry = try cursor.get(.firstDup)
                while let e = entry {
                    out.append(e.value.bigEndianUInt64(at: 8))
                    entry = try cursor.get(.nextDup)
                }
                return out
            }
        }
        for position in positions {
            var facts = [UInt8]()
            if let bytes = try txn.get(dbs.records, integer: position) {
                let view = try RecordView(bytes, position: position)
                if view.leafType == .admin, view.eventTypeBytes.elementsEqual(Self.rollbackType.utf8),
                   try decodePart(position, personal: false, length: view.factsLength, into: &facts, txn),
                   let object = try? JSONSerialization.jsonObject(with: Data(facts)) as? [String: Any],
                   (object["abandonedSize"] as? NSNumber)?.uint64Value == size,
                   object["abandonedRoot"] as? String == root.base64 {
                    return true
                }
            }
        }
        return false
    }
}
