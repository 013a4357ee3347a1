internal import CLMDB
import Foundation

extension Writer {
    /// Events indexed per transaction while catching up.
    static let catchUpChunk: UInt64 = 8_192

    /// Brings the index environment up to the log's head: after a crash between the log's commit and the index's,
    /// after a system crash (the index was rebuilt empty), and for a store whose index is missing (a backup, a
    /// store from before the index had its own environment). An index that does not match the log (ahead of it,
    /// or built from another log) is emptied and rebuilt.
    ///
    /// Runs on the writer thread, or before it starts. `progress` gets (indexed, head) after each chunk.
    func catchUpIndex(progress: ((UInt64, UInt64) -> Void)? = nil) throws {
        let head = state.nextPosition
        var (through, layout) = try index.read { itxn in (try idbs.through(itxn), try idbs.storedLayout(itxn)) }
        if try layout != IndexDatabases.layout || !indexMatchesLog(through: through, head: head) {
            try index.write { itxn in
                for db in idbs.all { try itxn.clear(db) }
                try idbs.setLayout(itxn)
            }
            through = 0
        }
        // Behind until the last chunk is in: a catch-up that fails is tried again before the next batch.
        indexBehind = true
        try loadIndexState()
        while through < head {
            let end = min(through + Self.catchUpChunk, head)
            let entries = try env.read { txn in try indexEntries(from: through, to: end, txn) }
            state.boundStreams()
            var batch = BatchState(state, recordedAt: state.lastRecordedAt)
            // The chunk's streams are written through to the cache: a chunk that does not commit leaves none.
            var committed = false
            defer { if !committed { state.discardStreams() } }
            do {
                try index.write(reserving: StoreIndex.reservation(events: entries.count, in: index)) { itxn in
                    for entry in entries { try index(entry, itxn, &batch) }
                    try idbs.setThrough(end, itxn)
                    try idbs.setLastEventID(batch.lastEventID, itxn)
                }
                committed = true
            } catch let error as LMDBError where error == .mapFull {
                try growMap()
                try loadIndexState()  // the chunk's numbers were not kept
                continue
            }
            state.absorb(batch)
            through = end
            progress?(through, head)
        }
        indexBehind = false
    }

    /// Whether the index's `through` and last event id agree with the log.
    private func indexMatchesLog(through: UInt64, head: UInt64) throws -> Bool {
        guard through <= head else { return false }
        guard through > 0 else { return true }
        let indexed = try index.read { itxn in try idbs.lastEventID(itxn) }
        let logged = try env.read { txn -> UUID? in
            guard let bytes = try txn.get(dbs.records, integer: through - 1) else { return nil }
            return try RecordView(bytes, position: through - 1).eventID
        }
        return indexed != nil && indexed == logged
    }

    /// Reloads the counters and clears the caches that come from the index environment.
    func loadIndexState() throws {
        try index.read { itxn in
            state.streams.removeAll()
            state.categories.removeAll()
            state.types.removeAll()
            state.highestEventID = try itxn.withCursor(idbs.eventIDs) { cursor in
                try cursor.get(.last).map { EventIDKey(bytes: $0.key) }
            }
            state.nextStreamNumber = try itxn.withCursor(idbs.streams) { cursor in
                try cursor.get(.last).map { $0.key.nativeUInt64 + 1 } ?? 1
            }
            state.nextCategoryNumber = UInt64(try itxn.count(idbs.categoryNames)) + 1
            state.nextTypeNumber = UInt64(try itxn.count(idbs.typeNames)) + 1
        }
    }

    /// What the index needs of one record.
    struct IndexEntry {
        let position: UInt64
        let stream: String
        let version: UInt64
        let id: UUID
        let type: String
        /// The subject of its personal part, if it has one under a subject.
        let subject: UUID?
    }

    private func indexEntries(from start: UInt64, to end: UInt64, _ txn: borrowing LMDBTransaction) throws
        -> [IndexEntry]
    {
        try txn.withCursor(dbs.records) { cursor in
            var out = [IndexEntry]()
            out.reserveCapacity(Int(end - start))
            var entry = try cursor.seek(integer: start)
            while let e = entry, e.key.nativeUInt64 < end {
                let position = e.key.nativeUInt64
                guard position == start + UInt64(out.count) else {
                    throw StoreError(corrupt: "record", position: start + UInt64(out.count),
                                     detail: "missing from the log while indexing it")
                }
                let view = try RecordView(e.value, position: position)
                let subject = view.personalCommitment == nil ? nil
                    : view.metadataValue("subject").flatMap(UUID.init(uuidString:))
                out.append(IndexEntry(position: position, stream: view.stream, version: view.streamVersion,
                                      id: view.eventID, type: view.eventType, subject: subject))
                entry = try cursor.get(.next)
            }
            guard out.count == Int(end - start) else {
                throw StoreError(corrupt: "record", position: start + UInt64(out.count),
                                 detail: "missing from the log while indexing it")
            }
            return out
        }
    }

    private func index(_ entry: IndexEntry, _ itxn: borrowing LMDBTransaction, _ batch: inout BatchState) throws {
        let key = StreamKey(entry.stream)
        var stream = try streamState(key, itxn)
        guard entry.version == stream.version + 1 else {
            throw StoreError(corrupt: "record", position: entry.position, detail: "stream \"\(entry.stream)\" "
                + "version \(entry.version) follows version \(stream.version)")
        }
        let number = try stream.number ?? createStream(entry.stream, itxn, &batch)
        let category = try postingNumber(EventRecord.category(of: entry.stream), db: idbs.categoryNames, itxn,
                                         &batch, \.categories, cached: state.categories, next: \.nextCategoryNumber)
        try writeIndexes(id: entry.id, type: entry.type, position: entry.position, version: entry.version,
                         number: number, category: category, itxn, &batch)
        if let subject = entry.subject { try idbs.noteSubjectEvent(subject, entry.position, itxn) }
        stream.number = number
        stream.version = entry.version
        stream.lastPosition = entry.position
        state.streams[key] = stream
    }
}
