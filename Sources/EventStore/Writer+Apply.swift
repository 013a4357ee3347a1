internal import CLMDB
import Foundation

extension Writer {
    /// Applies one append inside the batch's transaction.
    ///
    /// Everything that can refuse the append (idempotency, expectations) is checked before the first write, so a
    /// refused append writes nothing and the others in the batch go on. Only storage failures throw (and abort the
    /// whole transaction).
    func apply(_ append: PreparedAppend, _ txn: borrowing LMDBTransaction, _ itxn: borrowing LMDBTransaction,
               _ batch: inout BatchState) throws
        -> Result<AppendResult, StoreError>
    {
        // 1. Idempotency: a retry of stored ids with the same content returns the original positions.
        if let answer = try checkRetry(append, txn, itxn, batch) { return answer }

        // 2. No personal data under an erased subject (the citizen, met again, is a new subject), and no second
        // erasure of one (two erasures racing each other passed the store's check before either was written).
        if let subject = append.erasure, try dbs.subjectKeyEntry(subject, txn) != .key {
            return .failure(StoreError(.invalidArgument, "the store holds no personal data of subject \(subject) (never "
                + "met, or already erased)"))
        }
        if let subject = try erasedSubject(in: append, txn) {
            return .failure(StoreError(.invalidArgument, "data subject \(subject) was erased; personal data is never "
                + "recorded under it again (name a new subject)", stream: append.streams.first?.stream))
        }

        // 3. Expectations, every stream before any write.
        var states = [StreamState]()
        states.reserveCapacity(append.streams.count)
        for share in append.streams {
            let current = try streamState(share.key, itxn)
            guard share.expected.isSatisfied(by: current.version) else {
                return .failure(StoreError(
                    .wrongExpectedVersion,
                    "stream \"\(share.stream)\" is at version \(current.version), not \(share.expected); "
                        + "read it again, decide again and retry",
                    stream: share.stream, actualVersion: current.version))
            }
            states.append(current)
        }

        // 4. Writes.
        var positions = [UInt64]()
        positions.reserveCapacity(append.eventCount)
        var versions = [(stream: String, version: UInt64)]()
        versions.reserveCapacity(append.streams.count)
        for (share, var stream) in zip(append.streams, states) {
            defer { versions.append((share.stream, stream.version)) }
            guard !share.events.isEmpty else { continue }
            defer { state.streams[share.key] = stream }  // undone by discardStreams() if the batch aborts
            let number = try stream.number ?? createStream(share.stream, itxn, &batch)
            stream.number = number
            let category = try postingNumber(share.category, db: idbs.categoryNames, itxn, &batch, \.categories,
                                             cached: state.categories, next: \.nextCategoryNumber)
            for index in share.events {
                let event = try append.feed.event(index)
                let position = batch.nextPosition
                stream.version += 1
                var bytes = event.record
                EventRecord.patch(&bytes, offsets: event.offsets, position: position, recordedAt: batch.recordedAt,
                                  streamVersion: stream.version, previousPosition: stream.lastPosition)
                try bytes.withUnsafeBytes { record in
                    try txn.put(dbs.records, integer: position, record, flags: MDB_APPEND)
                    // The record is the Merkle leaf: its hash and every perfect node it completes go in this same
                    // transaction, at growing post-order positions.
                    if batch.frontier != nil {
                        try batch.frontier!.append(TreeHash.leaf(record)) { key, hash in
                            try hash.withUnsafeBytes { try txn.put(dbs.nodes, integer: key, $0, flags: MDB_APPEND) }
                        }
                    }
                }
                try event.factsStored.withUnsafeBytes {
                    try txn.put(dbs.payloads, integer: StoreDatabases.payloadKey(position, personal: false), $0,
                                flags: MDB_APPEND)
                }
                if var personal = event.personalStored {
                    if let subject = event.subject {
                        personal = try encryptForSubject(personal, subject, position, txn, itxn)
                    }
                    try personal.withUnsafeBytes {
                        try txn.put(dbs.payloads, integer: StoreDatabases.payloadKey(position, personal: true), $0,
                                    flags: MDB_APPEND)
                    }
                }
                try writeIndexes(id: event.id, type: event.type, position: position, version: stream.version,
                                 number: number, category: category, itxn, &batch)
                stream.lastPosition = position
                positions.append(position)
                batch.nextPosition += 1
            }
        }
        if let subject = append.erasure { try erase(subject, txn, itxn) }
        return .success(AppendResult(positions: positions, versionList: versions, wasRetry: false,
                                     recordedAt: batch.recordedAt))
    }

    /// Indexes one event (in the index environment's transaction): its id, its stream version, its category and
    /// its type. Shared by appends and by catching the index up from the log.
    func writeIndexes(
        id eventID: UUID, type: String, position: UInt64, version: UInt64, number: UInt64, category: UInt64,
        _ itxn: borrowing LMDBTransaction, _ batch: inout BatchState
    ) throws {
        var pos = position
        try withUnsafeBytes(of: &pos) { positionBytes in
            let id = EventIDKey(eventID)
            // UUIDv7 ids mostly arrive in order: past the highest stored id, append at the B-tree's tail.
            let beyond = batch.highestEventID.map { id > $0 } ?? true
            try withUnsafeBytes(of: eventID.uuid) { key in
                try itxn.put(idbs.eventIDs, key, positionBytes, flags: beyond ? MDB_APPEND : MDB_NOOVERWRITE)
            }
            if beyond { batch.highestEventID = id }
            batch.lastEventID = eventID
            // Versions and positions only grow, so every posting is appended to the end of its key's duplicates.
            var entry = (version.bigEndian, position.bigEndian)
            try withUnsafeBytes(of: &entry) { try itxn.put(idbs.streamEvents, integer: number, $0, flags: MDB_APPENDDUP) }
            try itxn.put(idbs.categoryEvents, integer: category, positionBytes, flags: MDB_APPENDDUP)
            let typeNumber = try postingNumber(type, db: idbs.typeNames, itxn, &batch, \.types, cached: state.types,
                                               next: \.nextTypeNumber)
            try itxn.put(idbs.typeEvents, integer: typeNumber, positionBytes, flags: MDB_APPENDDUP)
        }
    }

    /// The stream's state as of this point of the batch (the cache, written through by the batch, or the index
    /// environment's transaction).
    func streamState(_ stream: StreamKey, _ itxn: borrowing LMDBTransaction) throws -> StreamState {
        if let s = state.streams[stream] { return s }
        var key = Array(stream.name.utf8)
        guard let found = try key.withUnsafeMutableBytes({ try itxn.get(idbs.streamNames, UnsafeRawBufferPointer($0)) })
        else { return StreamState(number: nil, version: 0, lastPosition: nil) }
        let number = found.bigEndianUInt64()
        key.removeAll()
        return try itxn.withCursor(idbs.streamEvents) { cursor in
            guard try cursor.find(integer: number) != nil, let last = try cursor.get(.lastDup) else {
                return StreamState(number: number, version: 0, lastPosition: nil)
            }
            return StreamState(number: number, version: last.value.bigEndianUInt64(at: 0),
                               lastPosition: last.value.bigEndianUInt64(at: 8))
        }
    }

    func createStream(_ name: String, _ itxn: borrowing LMDBTransaction, _ batch: inout BatchState) throws
        -> UInt64
    {
        let number = batch.nextStreamNumber
        batch.nextStreamNumber += 1
        let nameBytes = Array(name.utf8)
        try nameBytes.withUnsafeBytes { key in
            try withUnsafeBytes(of: number.bigEndian) { try itxn.put(idbs.streamNames, key, $0, flags: MDB_NOOVERWRITE) }
            try itxn.put(idbs.streams, integer: number, key, flags: MDB_APPEND)
        }
        return number
    }

    /// The number of a category or event type, assigning the next one the first time a name is seen.
    func postingNumber(
        _ name: String, db: MDB_dbi, _ itxn: borrowing LMDBTransaction, _ batch: inout BatchState,
        _ created: WritableKeyPath<BatchState, [String: UInt64]>, cached: [String: UInt64],
        next: WritableKeyPath<BatchState, UInt64>
    ) throws -> UInt64 {
        if let n = cached[name] ?? batch[keyPath: created][name] { return n }
        let key = Array(name.utf8)
        if let found = try key.withUnsafeBytes({ try itxn.get(db, $0) }) {
            let n = found.bigEndianUInt64()
            batch[keyPath: created][name] = n
            return n
        }
        let n = batch[keyPath: next]
        batch[keyPath: next] += 1
        try key.withUnsafeBytes { k in
            try withUnsafeBytes(of: n.bigEndian) { try itxn.put(db, k, $0, flags: MDB_NOOVERWRITE) }
        }
        batch[keyPath: created][name] = n
        return n
    }

    // MARK: - Idempotent retries

    /// `nil` when no event id of the append is stored yet; otherwise the original result or the conflict.
    private func checkRetry(_ append: PreparedAppend, _ txn: borrowing LMDBTransaction,
                            _ itxn: borrowing LMDBTransaction, _ batch: BatchState) throws
        -> Result<AppendResult, StoreError>?
    {
        var known = [(PreparedStream, Int, UInt64)]()
        var unknown = 0
        for share in append.streams {
            for index in share.events {
                let id = append.ids[index]
                // An id above every stored one cannot be stored: no lookup needed.
                if let highest = batch.highestEventID, EventIDKey(id) > highest {
                    unknown += 1
                    continue
                }
                let position = try withUnsafeBytes(of: id.uuid) { try itxn.get(idbs.eventIDs, $0) }
                if let position { known.append((share, index, position.nativeUInt64)) } else { unknown += 1 }
            }
        }
        guard let first = known.first else { return nil }
        guard unknown == 0 else {
            return .failure(StoreError(
                .idempotencyConflict,
                "event \(append.ids[first.1]) is already stored at position \(first.2) but others of this append are not; "
                    + "retry the append whole, exactly as first sent, or give the new events new ids",
                stream: first.0.stream, position: first.2))
        }
        var positions = [UInt64]()
        var versions = [String: UInt64]()
        var recordedAt: Int64 = 0
        for (share, index, position) in known {
            let event = try append.feed.event(index)
            guard let bytes = try txn.get(dbs.records, integer: position) else {
                return .failure(StoreError(corrupt: "record", position: position, detail: "indexed id has no record"))
            }
            let record: EventRecord
            do { record = try EventRecord(buffer: bytes, expectedPosition: position) } catch { return .failure(error) }
            if let difference = try difference(record, event, share.stream, txn) {
                return .failure(StoreError(
                    .idempotencyConflict,
                    "event id \(event.id) is already stored at position \(position) with another \(difference); "
                        + "a retry must resend the same content, and a new event needs a new id",
                    stream: share.stream, position: position))
            }
            positions.append(position)
            versions[share.stream] = max(versions[share.stream] ?? 0, record.streamVersion)
            recordedAt = record.recordedAt
        }
        for share in append.streams where versions[share.stream] == nil {
            versions[share.stream] = 0  // a guard-only stream: report nothing new
        }
        return .success(AppendResult(positions: positions, streamVersions: versions, wasRetry: true,
                                     recordedAt: recordedAt))
    }

    /// What differs between a stored record and a retried event (stream, type, metadata, both parts), or `nil`.
    private func difference(_ record: EventRecord, _ event: PreparedEvent, _ stream: String,
                            _ txn: borrowing LMDBTransaction) throws -> String? {
        if record.stream != stream { return "stream (\(record.stream))" }
        if record.eventType != event.type { return "type (\(record.eventType))" }
        if record.metadata != event.metadata { return "metadata" }
        if try !partMatches(event.facts, commitment: record.factsCommitment, length: record.factsLength,
                            key: StoreDatabases.payloadKey(record.position, personal: false), txn) {
            return "facts part"
        }
        switch (record.personalCommitment, event.personal) {
        case (nil, nil): return nil
        case (let c?, let p?):
            let key = StoreDatabases.payloadKey(record.position, personal: true)
            // Erased since it was stored: nothing left to compare it with, and the retry is answered all the same.
            if let subject = event.subject, try txn.get(dbs.payloads, integer: key) == nil,
               try dbs.subjectKeyEntry(subject, txn) == .erased {
                return p.count == Int(record.personalLength) ? nil : "personal part"
            }
            let same = try partMatches(p, commitment: c, length: record.personalLength, key: key, txn)
            return same ? nil : "personal part"
        default: return "personal part"
        }
    }

    private func partMatches(_ part: [UInt8], commitment: [UInt8], length: UInt32, key: UInt64,
                             _ txn: borrowing LMDBTransaction) throws -> Bool {
        guard part.count == Int(length), let stored = try txn.get(dbs.payloads, integer: key),
              let salt = StoredPart.salt(stored)
        else { return false }
        return part.withUnsafeBytes { StoredPart.commitment(salt: salt, part: $0) } == commitment
    }
}
