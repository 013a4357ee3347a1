internal import CLMDB
public import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension Store {
    /// The stream of erasure entries.
    public static let erasureStream = "subject-erasures"
    /// The type of an erasure entry.
    public static let erasureType = "SubjectErased.v1"

    /// Erases a data subject: appends a `SubjectErased.v1` admin entry (leaf type 2) naming the subject and the
    /// reason, and in the same transaction destroys the subject's key and every personal part stored under it.
    /// Records, tree, checkpoints and proofs stay valid; verification lists the erased parts. The bytes leave the
    /// files at the next ``compact(at:)``.
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` when the store holds no personal data of the subject.
    @discardableResult
    public func eraseSubject(_ subject: UUID, reason: String, actor: String = "", metadata: Metadata = Metadata())
        async throws -> AppendResult
    {
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw StoreError(.invalidArgument, "an erasure needs a reason")
        }
        let known = try readTransaction { txn in try dbs.subjectKeyEntry(subject, txn) == .key }
        guard known else {
            throw StoreError(.invalidArgument, "the store holds no personal data of subject \(subject) (never met, or "
                + "already erased)")
        }
        try checkOpen()
        guard let writer else { throw StoreError(.readOnly, "a read-only store cannot erase") }
        var metadata = metadata
        metadata["subject"] = subject.uuidString.lowercased()
        let facts = try JSONSerialization.data(withJSONObject: [
            "subject": subject.uuidString.lowercased(), "reason": reason,
        ], options: [.sortedKeys])
        var prepared = try prepare([StreamAppend(stream: Self.erasureStream, events: [
            EventData(type: Self.erasureType, facts: Array(facts), actor: actor, metadata: metadata, leafType: .admin),
        ])], durability: .durable, admin: true)
        prepared.erasure = subject
        return try await commit(prepared, writer: writer)
    }

    /// Whether `subject` was erased: personal data is never recorded under it again.
    public func isErased(_ subject: UUID) throws -> Bool {
        switch try readTransaction({ txn in try dbs.subjectKeyEntry(subject, txn) }) {
        case .erased: return true
        case .key: return false
        case .none: return try erasedSubjects().contains(subject)  // erased before tombstones were kept
        }
    }

    /// Puts the tombstone of every subject erased before tombstones were kept (at open, before the writer starts).
    func markErasedSubjects() throws {
        let erased = try erasedSubjects()
        guard !erased.isEmpty else { return }
        try env.write { txn in
            for subject in erased.sorted(by: { $0.uuidString < $1.uuidString }) {
                guard try dbs.subjectKeyEntry(subject, txn) == .none else { continue }
                try withUnsafeBytes(of: subject.uuid) { id in
                    try [SubjectKeyEntry.erasedMarker].withUnsafeBytes { try txn.put(dbs.subjectKeys, id, $0) }
                }
            }
        }
    }

    /// Subjects erased so far (from the `SubjectErased.v1` entries).
    func erasedSubjects() throws -> Set<UUID> {
        var out = Set<UUID>()
        func note(_ event: RecordedEvent) {
            guard event.record.leafType == .admin, event.record.stream == Self.erasureStream,
                  event.record.eventType == Self.erasureType,
                  let text = event.record.metadata["subject"], let id = UUID(uuidString: text) else { return }
            out.insert(id)
        }
        if index == nil {
            // A read-only store without its index yet (an old backup): read the whole log.
            try scan(payloads: .none) { note($0); return true }
        } else {
            for event in try readType(Self.erasureType, limit: .max, payloads: .none) { note(event) }
        }
        return out
    }

    /// Rewrites the store at `path` as a compacted copy and swaps it in, so no byte of an erased part or key is
    /// left in its files. Offline: no process may have the store open.
    public static func compact(at path: String) throws {
        let store = try Store.open(at: path)
        let copy = path + ".compacting"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o750])
        do {
            try store.gate.shared { try store.env.copyCompacting(to: copy) }
        } catch let error as LMDBError {
            store.close()
            throw StoreError(error, while: "compacting \(path)")
        }
        store.close()
        // Swap the data file: the copy was fsynced by LMDB; a crash before the rename leaves the old store intact.
        fsyncDirectory(copy)
        guard rename(copy + "/data.mdb", path + "/data.mdb") == 0 else {
            throw StoreError(.storage, "cannot move the compacted copy into \(path): \(String(cString: strerror(errno)))")
        }
        fsyncDirectory(path)
        try? FileManager.default.removeItem(atPath: copy)
        try? FileManager.default.removeItem(atPath: path + "/lock.mdb")
    }
}
