internal import CLMDB
import Foundation

/// What ``Store/check(progress:)`` found in a consistent store.
public struct StoreCheckReport: Sendable, Hashable {
    /// Records checked (= the head).
    public var events: UInt64
    /// Streams seen.
    public var streams: Int
    /// Payload parts whose commitment was recomputed and matched.
    public var partsVerified: Int
}

extension Store {
    /// Checks the whole store against itself, reading it in short transactions (it may run beside the writer):
    /// every record parses and sits at its own position, positions are gapless, every stream's versions and
    /// previous-position chain are contiguous, every payload part is present and matches its commitment, and
    /// every index (stream, event id, category, type) holds exactly the log's entries.
    ///
    /// - Parameter progress: Called after each page with (events checked, head at the start).
    /// - Returns: What was checked.
    /// - Throws: ``StoreError/Code/corrupt`` naming the first inconsistency: position, stream and what differs.
    @discardableResult
    public func check(progress: (UInt64, UInt64) -> Void = { _, _ in }) throws -> StoreCheckReport {
        let end = head
        let erased = try erasedSubjects()
        var streams = [String: (version: UInt64, last: UInt64)]()
        var parts = 0
        var next: UInt64 = 0
        while next < end {
            let pageEnd = min(end, next + UInt64(Self.readPageSize))
            try indexedRead { itxn, txn in
                try txn.withCursor(dbs.records) { cursor in
                    var entry = try cursor.seek(integer: next)
                    while let e = entry, e.key.nativeUInt64 < pageEnd {
                        let position = e.key.nativeUInt64
                        guard position == next else {
                            throw StoreError(.corrupt, "position \(next) is missing: the log jumps to \(position)",
                                             position: next)
                        }
                        let record = try EventRecord(buffer: e.value, expectedPosition: position)
                        try checkRecord(record, at: position, streams: &streams, itxn)
                        parts += try checkParts(record, erased: erased, txn)
                        next += 1
                        entry = try cursor.get(.next)
                    }
                }
            }
            guard next == pageEnd else {
                throw StoreError(.corrupt, "position \(next) is missing (the log ends early)", position: next)
            }
            progress(next, end)
        }
        try checkIndexSizes(events: end)
        return StoreCheckReport(events: end, streams: streams.count, partsVerified: parts)
    }

    private func checkRecord(_ record: EventRecord, at position: UInt64,
                             streams: inout [String: (version: UInt64, last: UInt64)],
                             _ itxn: borrowing LMDBTransaction) throws {
        func fail(_ what: String) -> StoreError {
            StoreError(.corrupt, "position \(position), stream \"\(record.stream)\": \(what)", stream: record.stream,
                       position: position)
        }
        guard record.position == position else { throw fail("the record says position \(record.position)") }
        guard record.origin == origin else { throw fail("origin \"\(record.origin)\" is not the store's \"\(origin)\"") }
        let previous = streams[record.stream]
        guard record.streamVersion == (previous?.version ?? 0) + 1 else {
            throw fail("version \(record.streamVersion) follows version \(previous?.version ?? 0)")
        }
        guard record.previousPosition == previous?.last else {
            throw fail("previous position \(record.previousPosition.map(String.init) ?? "none") should be "
                + "\(previous.map { String($0.last) } ?? "none")")
        }
        streams[record.stream] = (record.streamVersion, position)

        // Indexes: the id, the stream's version, the category and the type all point here.
        let indexed = try withUnsafeBytes(of: record.eventID.uuid) { try itxn.get(idbs.eventIDs, $0)?.nativeUInt64 }
        guard indexed == position else { throw fail("the event-id index gives \(indexed.map(String.init) ?? "nothing")") }
        guard let number = try Array(record.stream.utf8).withUnsafeBytes({ try itxn.get(idbs.streamNames, $0) })?
            .bigEndianUInt64()
        else { throw fail("the stream is not in the stream-name index") }
        var entry = (record.streamVersion.bigEndian, position.bigEndian)
        guard try posting(idbs.streamEvents, number, &entry, itxn) else {
            throw fail("the stream index lacks version \(record.streamVersion) → \(position)")
        }
        for (names, postings, name, what) in [(idbs.categoryNames, idbs.categoryEvents, record.category, "category"),
                                              (idbs.typeNames, idbs.typeEvents, record.eventType, "type")] {
            guard let n = try Array(name.utf8).withUnsafeBytes({ try itxn.get(names, $0) })?.bigEndianUInt64() else {
                throw fail("\(what) \"\(name)\" is not indexed")
            }
            var p = position
            guard try posting(postings, n, &p, itxn) else { throw fail("the \(what) index lacks this event") }
        }
    }

    /// Whether a duplicate-sorted database holds exactly (key, value).
    private func posting<V>(_ db: MDB_dbi, _ key: UInt64, _ value: inout V, _ txn: borrowing LMDBTransaction) throws
        -> Bool
    {
        try txn.withCursor(db) { cursor in
            try withUnsafeBytes(of: &value) { v in
                var k = key
                return try withUnsafeBytes(of: &k) { k in
                    guard let found = try cursor.get(.getBothRange, key: k, value: v) else { return false }
                    return found.value.elementsEqual(v)
                }
            }
        }
    }

    /// Recomputes the commitment of each part; returns how many were checked. A personal part may be absent
    /// only when its subject was erased.
    private func checkParts(_ record: EventRecord, erased: Set<UUID>, _ txn: borrowing LMDBTransaction) throws -> Int {
        var checked = 0
        var buffer = [UInt8]()
        for personal in [false, true] {
            let commitment = personal ? record.personalCommitment : record.factsCommitment
            guard let commitment else { continue }
            let name = personal ? "personal" : "facts"
            func fail(_ what: String) -> StoreError {
                StoreError(.corrupt, "position \(record.position), stream \"\(record.stream)\": the \(name) part \(what)",
                           stream: record.stream, position: record.position)
            }
            let length = personal ? record.personalLength : record.factsLength
            let salt: [UInt8]?
            do {
                salt = try decodeStoredPart(record.position, personal: personal, length: length, into: &buffer, txn)
            } catch let error as StoreError where error.code == .corrupt {
                throw fail("cannot be decoded (\(error.message))")
            }
            guard let salt else {
                if personal, let subject = record.metadata["subject"].flatMap(UUID.init(uuidString:)),
                   erased.contains(subject) { continue }
                throw fail("is missing")
            }
            let digest = salt.withUnsafeBytes { s in buffer.withUnsafeBytes { StoredPart.commitment(salt: s, part: $0) } }
            guard digest == commitment else { throw fail("does not match its commitment") }
            checked += 1
        }
        return checked
    }

    /// Every index holds one entry per indexed event, no more, and the index reaches the checked events.
    private func checkIndexSizes(events: UInt64) throws {
        try indexedRead { itxn, _ in
            let through = try idbs.through(itxn)
            guard through >= events else {
                throw StoreError(.corrupt, "the index reaches position \(through) of \(events) events")
            }
            for (db, name) in [(idbs.eventIDs, "event-id"), (idbs.streamEvents, "stream"),
                               (idbs.categoryEvents, "category"), (idbs.typeEvents, "type")] {
                let count = try itxn.count(db)
                guard count == Int(through) else {
                    throw StoreError(.corrupt, "the \(name) index holds \(count) entries for \(through) events")
                }
            }
        }
    }

    // MARK: - Backup

    /// Writes a compacted, consistent copy of the store into `directory` (created if missing; it must hold no
    /// store) while appends continue; the copy is the log as of one read transaction.
    ///
    /// The copy opens as a store. To restore, stop the process that writes the store, move the store directory
    /// aside and put the backup directory in its place (README, "Backup and restore").
    ///
    /// - Returns: The copy's head (the number of events it holds).
    @discardableResult
    public func backup(to directory: String) throws -> UInt64 {
        try checkOpen()
        if FileManager.default.fileExists(atPath: directory + "/data.mdb") {
            throw StoreError(.alreadyExists, "\(directory) already holds a store; back up into a new directory")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o750])
        do {
            try gate.shared {
                try checkOpen()
                // The index first: the log copied after it holds everything it names, and the copy's writer catches
                // the index up with the rest.
                if let index {
                    let copy = StoreIndex.directory(directory)
                    try? FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true,
                                                             attributes: [.posixPermissions: 0o750])
                    try index.env.copyCompacting(to: copy)
                }
                try env.copyCompacting(to: directory)
            }
        } catch let error as LMDBError {
            throw StoreError(error, while: "backing up to \(directory)")
        }
        fsyncDirectory(directory)
        var options = StoreOptions()
        options.readOnly = true
        options.mapSize = 1 << 20
        let copy = try Store.open(at: directory, options: options)
        defer { copy.close() }
        return copy.head
    }
}
