internal import CLMDB
import Crypto
public import Foundation

extension Store {
    /// Events per read transaction: long reads are cut into short transactions so no reader pins old pages.
    public static let readPageSize = 1024

    // MARK: - Public reads

    /// Reads the log by position.
    ///
    /// - Parameters:
    ///   - position: The first position to read; `nil` starts at the beginning (forward) or the end (backward).
    ///   - direction: ``ReadDirection/forward`` (default) or backward.
    ///   - limit: The most events returned.
    ///   - payloads: Which payload parts to decode.
    /// - Throws: ``StoreError``.
    public func read(from position: UInt64? = nil, direction: ReadDirection = .forward, limit: Int = 1000,
                     payloads: PayloadSelection = .all) throws -> [RecordedEvent] {
        try paged(from: position, direction: direction, limit: limit, key: \.position) { start, forward, n in
            try readTransaction { txn in try txn.withCursor(dbs.records) { cursor in
                var out = [RecordedEvent]()
                var entry = try Self.position(cursor, at: start, forward: forward)
                while let e = entry, out.count < n {
                    out.append(try decode(e.key.nativeUInt64, e.value, payloads, txn))
                    entry = try cursor.get(forward ? .next : .prev)
                }
                return out
            } }
        }
    }

    /// Reads one stream by version.
    ///
    /// - Parameters:
    ///   - stream: The stream's name.
    ///   - version: The first version to read; `nil` starts at version 1 (forward) or the last (backward).
    /// - Returns: The events, or none when the stream does not exist.
    public func readStream(_ stream: String, from version: UInt64? = nil, direction: ReadDirection = .forward,
                           limit: Int = 1000, payloads: PayloadSelection = .all) throws -> [RecordedEvent] {
        guard let number = try streamNumber(stream) else { return [] }
        return try paged(from: version, direction: direction, limit: limit, key: \.record.streamVersion) {
            start, forward, n in
            try indexedRead { itxn, txn in try itxn.withCursor(idbs.streamEvents) { cursor in
                var out = [RecordedEvent]()
                var probe = ((start ?? 0).bigEndian, UInt64(0))
                var entry = try withUnsafeBytes(of: &probe) { p in
                    try Self.seekDuplicate(cursor, key: number, value: start == nil ? nil : p, forward: forward) {
                        $0.bigEndianUInt64(at: 0) > start!
                    }
                }
                while let e = entry, out.count < n {
                    out.append(try load(e.value.bigEndianUInt64(at: 8), payloads, txn))
                    entry = try cursor.get(forward ? .nextDup : .prevDup)
                }
                return out
            } }
        }
    }

    /// Reads the events of a category (streams named `category-…`, or exactly `category`) by position.
    public func readCategory(_ category: String, from position: UInt64? = nil, direction: ReadDirection = .forward,
                             limit: Int = 1000, payloads: PayloadSelection = .all) throws -> [RecordedEvent] {
        try readPostings(\.categoryNames, \.categoryEvents, category, position, direction, limit, payloads)
    }

    /// Reads the events of one type by position.
    public func readType(_ type: String, from position: UInt64? = nil, direction: ReadDirection = .forward,
                         limit: Int = 1000, payloads: PayloadSelection = .all) throws -> [RecordedEvent] {
        try readPostings(\.typeNames, \.typeEvents, type, position, direction, limit, payloads)
    }

    /// The event at `position`, or `nil` past the head.
    public func event(at position: UInt64, payloads: PayloadSelection = .all) throws -> RecordedEvent? {
        try readTransaction { txn in
            guard let bytes = try txn.get(dbs.records, integer: position) else { return nil }
            return try decode(position, bytes, payloads, txn)
        }
    }

    /// The event with this id, or `nil`.
    public func event(id: UUID, payloads: PayloadSelection = .all) throws -> RecordedEvent? {
        try indexedRead { itxn, txn in
            guard let position = try withUnsafeBytes(of: id.uuid, { try itxn.get(idbs.eventIDs, $0) }) else {
                return nil
            }
            return try load(position.nativeUInt64, payloads, txn)
        }
    }

    /// The position of the event with this id, or `nil`.
    public func position(of id: UUID) throws -> UInt64? {
        try indexedRead { itxn, _ in
            try withUnsafeBytes(of: id.uuid) { try itxn.get(idbs.eventIDs, $0)?.nativeUInt64 }
        }
    }

    /// What the store knows of a stream, or `nil` when it has no events.
    public func streamInfo(_ stream: String) throws -> StreamInfo? {
        try indexedRead { itxn, txn in
            guard let number = try numberOf(stream, idbs.streamNames, itxn) else { return nil }
            return try info(number: number, name: stream, itxn, txn)
        }
    }

    /// Streams whose names start with `prefix`, in bytewise order, after `after` (exclusive), at most `limit`.
    ///
    /// Page by passing the last name returned as `after`.
    public func streams(prefix: String = "", after: String? = nil, limit: Int = 100) throws -> [StreamInfo] {
        let prefixBytes = Array(prefix.utf8)
        return try indexedRead { itxn, txn in
            try itxn.withCursor(idbs.streamNames) { cursor in
                var out = [StreamInfo]()
                var start = after.map { Array($0.utf8) } ?? prefixBytes
                if start.lexicographicallyPrecedes(prefixBytes) { start = prefixBytes }
                var entry = start.isEmpty
                    ? try cursor.get(.first)
                    : try start.withUnsafeBytes { try cursor.get(.setRange, key: $0) }
                if let e = entry, let after, Array(e.key) == Array(after.utf8) { entry = try cursor.get(.next) }
                while let e = entry, out.count < limit, e.key.starts(with: prefixBytes) {
                    let name = String(decoding: e.key, as: UTF8.self)
                    if let info = try info(number: e.value.bigEndianUInt64(), name: name, itxn, txn) {
                        out.append(info)
                    }
                    entry = try cursor.get(.next)
                }
                return out
            }
        }
    }

    /// Calls `body` with every event from `position` up to (not including) `end`, in pages of short read
    /// transactions, until it returns `false`.
    ///
    /// ```swift
    /// try store.scan(from: 0, payloads: .facts) { event in
    ///     total += event.facts?.count ?? 0
    ///     return true
    /// }
    /// ```
    public func scan(from position: UInt64 = 0, to end: UInt64? = nil, payloads: PayloadSelection = .all,
                     pageSize: Int = Store.readPageSize, _ body: (RecordedEvent) throws -> Bool) throws {
        var next = position
        while true {
            if let end, next >= end { return }
            let page = try read(from: next, limit: min(pageSize, Int(clamping: (end ?? .max) - next)),
                                payloads: payloads)
            for event in page where try !body(event) { return }
            guard let last = page.last, page.count == pageSize else { return }
            next = last.position + 1
        }
    }

    // MARK: - Internals

    /// Runs `body` in a read transaction, holding off map resizes, and maps LMDB errors.
    func readTransaction<T>(_ body: (borrowing LMDBTransaction) throws -> T) throws -> T {
        try readTransaction(in: env, body)
    }

    /// Runs `body` in a read transaction of `environment` (the log's or the index's), as ``readTransaction(_:)``.
    func readTransaction<T>(in environment: LMDBEnvironment, _ body: (borrowing LMDBTransaction) throws -> T)
        throws -> T
    {
        for attempt in 0..<2 {
            do {
                return try gate.shared {
                    try checkOpen()  // checked under the gate: close() takes it exclusively
                    return try environment.read(body)
                }
            } catch let error as LMDBError where error == .mapResized && attempt == 0 {
                // The writer process grew a map: remap both while no read transaction of ours is open.
                try gate.exclusive {
                    try checkOpen()
                    do throws(LMDBError) {
                        try env.adoptMapSize()
                        try index?.env.adoptMapSize()
                    } catch { throw StoreError(error, while: "adopting the map size") }
                }
            } catch let error as LMDBError where error == .closed {
                throw StoreError(.closed, "the store at \(path) was closed; open it again")
            } catch let error as LMDBError {
                throw StoreError(error, while: "reading the log")
            }
        }
        throw StoreError(.storage, "reading the log: the map was resized twice in a row; retry")
    }

    /// Runs `body` with a read transaction on the index and then one on the log, holding off map resizes: whatever
    /// the index names, the log holds (the log commits before the index).
    ///
    /// - Throws: ``StoreError/Code/readOnly`` in a store opened read-only that has no index yet.
    func indexedRead<T>(_ body: (borrowing LMDBTransaction, borrowing LMDBTransaction) throws -> T) throws -> T {
        guard let index else {
            throw StoreError(.readOnly, "the store at \(path) has no index yet (a backup, or a store from an older "
                + "version): open it once for writing (`ledgerd serve` does) to build it from the log")
        }
        return try readTransaction(in: index.env) { itxn in try env.read { txn in try body(itxn, txn) } }
    }

    /// The index's databases (only reached through ``indexedRead(_:)``, which checks there is an index).
    var idbs: IndexDatabases { index!.dbs }

    /// Repeats `page` (each in its own transactions) until `limit` events were read or the source ran out.
    private func paged(
        from start: UInt64?, direction: ReadDirection, limit: Int, key: KeyPath<RecordedEvent, UInt64>,
        _ page: (UInt64?, Bool, Int) throws -> [RecordedEvent]
    ) throws -> [RecordedEvent] {
        guard limit > 0 else { return [] }
        let forward = direction == .forward
        var out = [RecordedEvent]()
        var next = start
        while out.count < limit {
            let want = min(Self.readPageSize, limit - out.count)
            let events = try page(next, forward, want)
            out.append(contentsOf: events)
            guard events.count == want, let last = events.last?[keyPath: key] else { break }
            if forward { next = last + 1 } else if last == 0 { break } else { next = last - 1 }
        }
        return out
    }

    private func readPostings(_ names: KeyPath<IndexDatabases, MDB_dbi>, _ postings: KeyPath<IndexDatabases, MDB_dbi>,
                              _ name: String, _ start: UInt64?, _ direction: ReadDirection, _ limit: Int,
                              _ payloads: PayloadSelection) throws -> [RecordedEvent]
    {
        guard let number = try indexedRead({ itxn, _ in try numberOf(name, idbs[keyPath: names], itxn) }) else {
            return []
        }
        return try paged(from: start, direction: direction, limit: limit, key: \.position) { start, forward, n in
            try indexedRead { itxn, txn in
                try postingEvents(idbs[keyPath: postings], number, start, forward, n, payloads, itxn, txn)
            }
        }
    }

    /// One subscription page of a category or type: events from `position`, and how far the log was examined (as
    /// far as the index reaches, which may trail the log's head by a commit).
    func postingsPage(_ names: KeyPath<IndexDatabases, MDB_dbi>, _ postings: KeyPath<IndexDatabases, MDB_dbi>,
                      _ name: String, _ position: UInt64, _ limit: Int, _ payloads: PayloadSelection) throws
        -> ([RecordedEvent], UInt64)
    {
        try indexedRead { itxn, txn in
            let head = try idbs.through(itxn)
            guard let number = try numberOf(name, idbs[keyPath: names], itxn) else { return ([], max(head, position)) }
            let events = try postingEvents(idbs[keyPath: postings], number, position, true, limit, payloads, itxn, txn)
            let scanned = events.count == limit ? events.last!.position + 1 : max(head, position)
            return (events, scanned)
        }
    }

    /// Events of one posting list (a category's or a type's) from `start` in either direction.
    private func postingEvents(_ postings: MDB_dbi, _ number: UInt64, _ start: UInt64?, _ forward: Bool, _ n: Int,
                               _ payloads: PayloadSelection, _ itxn: borrowing LMDBTransaction,
                               _ txn: borrowing LMDBTransaction) throws -> [RecordedEvent]
    {
        try itxn.withCursor(postings) { cursor in
            var out = [RecordedEvent]()
            var probe = start ?? 0
            var entry = try withUnsafeBytes(of: &probe) { p in
                try Self.seekDuplicate(cursor, key: number, value: start == nil ? nil : p, forward: forward) {
                    $0.nativeUInt64 > start!
                }
            }
            while let e = entry, out.count < n {
                out.append(try load(e.value.nativeUInt64, payloads, txn))
                entry = try cursor.get(forward ? .nextDup : .prevDup)
            }
            return out
        }
    }

    /// Positions a cursor on `key`'s duplicates: at the first one ≥ `value` (forward) or the last one ≤ `value`
    /// (backward), or at the first or last one without a value; `nil` when there is none. `isAfter` says whether a
    /// duplicate is beyond `value`.
    private static func seekDuplicate(
        _ cursor: borrowing LMDBCursor, key: UInt64, value: UnsafeRawBufferPointer?, forward: Bool,
        isAfter: (UnsafeRawBufferPointer) -> Bool
    ) throws -> LMDBCursor.Entry? {
        guard try cursor.find(integer: key) != nil else { return nil }
        guard let value else { return try cursor.get(forward ? .firstDup : .lastDup) }
        var k = key
        let entry = try withUnsafeBytes(of: &k) { try cursor.get(.getBothRange, key: $0, value: value) }
        if forward { return entry }
        if let e = entry { return isAfter(e.value) ? try cursor.get(.prevDup) : e }
        // Past the last duplicate: re-seek the key (a failed GET_BOTH_RANGE leaves the cursor unset).
        _ = try cursor.find(integer: key)
        return try cursor.get(.lastDup)
    }

    /// Positions a records cursor at `start` (or the nearest entry in the reading direction).
    private static func position(_ cursor: borrowing LMDBCursor, at start: UInt64?, forward: Bool) throws
        -> LMDBCursor.Entry?
    {
        guard let start else { return try cursor.get(forward ? .first : .last) }
        let found = try cursor.seek(integer: start)
        if forward { return found }
        if let found, found.key.nativeUInt64 == start { return found }
        return try cursor.get(found == nil ? .last : .prev)
    }

    func streamNumber(_ stream: String) throws -> UInt64? {
        try indexedRead { itxn, _ in try numberOf(stream, idbs.streamNames, itxn) }
    }

    private func numberOf(_ name: String, _ db: MDB_dbi, _ txn: borrowing LMDBTransaction) throws -> UInt64? {
        try Array(name.utf8).withUnsafeBytes { try txn.get(db, $0)?.bigEndianUInt64() }
    }

    private func info(number: UInt64, name: String, _ itxn: borrowing LMDBTransaction,
                      _ txn: borrowing LMDBTransaction) throws -> StreamInfo? {
        let ends: (first: (UInt64, UInt64), last: (UInt64, UInt64))? = try itxn.withCursor(idbs.streamEvents) { c in
            guard try c.find(integer: number) != nil, let first = try c.get(.firstDup), let last = try c.get(.lastDup)
            else { return nil }
            return ((first.value.bigEndianUInt64(at: 0), first.value.bigEndianUInt64(at: 8)),
                    (last.value.bigEndianUInt64(at: 0), last.value.bigEndianUInt64(at: 8)))
        }
        guard let ends, let firstRecord = try txn.get(dbs.records, integer: ends.first.1) else { return nil }
        let created = try EventRecord(buffer: firstRecord, expectedPosition: ends.first.1).recordedAt
        return StreamInfo(name: name, number: number, version: ends.last.0, firstPosition: ends.first.1,
                          lastPosition: ends.last.1, createdAt: created)
    }

    /// Loads a dictionary stored after this process opened the store (a reader beside the writer).
    func loadDictionary(_ id: UInt8, _ txn: borrowing LMDBTransaction) throws {
        guard let bytes = try txn.get(dbs.dictionaries, integer: UInt64(id)) else { return }
        do {
            codec.install(try ZstdDictionary(id: id, bytes: Array(bytes), level: codec.level), makeCurrent: false)
        } catch {
            throw StoreError(corrupt: "compression dictionary \(id)", position: nil, detail: "\(error)")
        }
    }

    private func load(_ position: UInt64, _ payloads: PayloadSelection, _ txn: borrowing LMDBTransaction) throws
        -> RecordedEvent
    {
        guard let bytes = try txn.get(dbs.records, integer: position) else {
            throw StoreError(corrupt: "index", position: position, detail: "an index names a position with no record")
        }
        return try decode(position, bytes, payloads, txn)
    }

    /// Parses a record and decodes the payload parts asked for.
    func decode(_ position: UInt64, _ bytes: UnsafeRawBufferPointer, _ payloads: PayloadSelection,
                _ txn: borrowing LMDBTransaction) throws -> RecordedEvent {
        let record = try EventRecord(buffer: bytes, expectedPosition: position)
        guard record.position == position else {
            throw StoreError(corrupt: "record", position: position, detail: "it says position \(record.position)")
        }
        var facts: [UInt8]?
        var personal: [UInt8]?
        if payloads != .none {
            facts = try part(position, personal: false, length: record.factsLength, txn)
            if payloads == .all, record.personalCommitment != nil {
                personal = try part(position, personal: true, length: record.personalLength, txn)
            }
        }
        return RecordedEvent(record: record, facts: facts, personal: personal)
    }

    private func part(_ position: UInt64, personal: Bool, length: UInt32, _ txn: borrowing LMDBTransaction) throws
        -> [UInt8]?
    {
        var buffer = [UInt8]()
        guard try decodeStoredPart(position, personal: personal, length: length, into: &buffer, txn) != nil else {
            return nil
        }
        return buffer
    }

    /// Decodes a stored part into `buffer` (reused between calls) and returns its salt; `nil` when the part is
    /// absent or erased. Loads dictionaries stored after this process opened the store, and decrypts a subject's
    /// part with the subject's key.
    func decodeStoredPart(_ position: UInt64, personal: Bool, length: UInt32, into buffer: inout [UInt8],
                          _ txn: borrowing LMDBTransaction) throws -> [UInt8]? {
        guard let stored = try txn.get(dbs.payloads, integer: StoreDatabases.payloadKey(position, personal: personal))
        else { return nil }
        if stored.count > 2, stored[2] != 0, codec.dictionary(id: stored[2]) == nil {
            try loadDictionary(stored[2], txn)
        }
        var key: SymmetricKey?
        if let number = StoredPart.keyNumber(stored) {
            guard let bytes = try txn.get(dbs.keyNumbers, integer: UInt64(number)) else {
                return nil  // the subject's key is destroyed: erased
            }
            key = SymmetricKey(data: bytes)
        }
        return Array(try StoredPart.decode(stored, into: &buffer, length: Int(length), codec: codec,
                                           position: position, key: key, personal: personal))
    }
}

extension Store {
    /// Stored payload parts: how many, their stored bytes (headers, salts and bodies) and the salts' share.
    public func payloadStorage() throws -> (parts: Int, storedBytes: Int, saltBytes: Int) {
        try readTransaction { txn in
            try txn.withCursor(dbs.payloads) { cursor in
                var parts = 0
                var bytes = 0
                var entry = try cursor.get(.first)
                while let e = entry {
                    parts += 1
                    bytes += e.value.count
                    entry = try cursor.get(.next)
                }
                return (parts, bytes, parts * StoredPart.saltLength)
            }
        }
    }
}

extension Store {
    /// Calls `body` with every record from `position` up to (not including) `end` as a zero-copy ``RecordView``,
    /// with its payload parts decoded into buffers reused from one event to the next, until it returns `false`.
    ///
    /// The fastest way through the log (verification, projection rebuilds, benchmarks). The view and the buffers
    /// are valid only during the call; copy what you keep. Pages are short read transactions.
    public func scanRecords(
        from position: UInt64 = 0, to end: UInt64? = nil, payloads: PayloadSelection = .all,
        pageSize: Int = Store.readPageSize,
        _ body: (_ record: RecordView, _ facts: UnsafeRawBufferPointer?, _ personal: UnsafeRawBufferPointer?) throws
            -> Bool
    ) throws {
        try scanRecords(from: position, to: end, choosingPayloads: { _ in payloads }, pageSize: pageSize, body)
    }

    /// Like ``scanRecords(from:to:payloads:pageSize:_:)``, with the parts to decode chosen record by record: a part
    /// not chosen is never read nor decompressed, so a reader interested in a few streams or types of a log pays
    /// for the others' records only.
    public func scanRecords(
        from position: UInt64 = 0, to end: UInt64? = nil,
        choosingPayloads choose: (_ record: RecordView) -> PayloadSelection,
        pageSize: Int = Store.readPageSize,
        _ body: (_ record: RecordView, _ facts: UnsafeRawBufferPointer?, _ personal: UnsafeRawBufferPointer?) throws
            -> Bool
    ) throws {
        var next = position
        var factsBuffer = [UInt8]()
        var personalBuffer = [UInt8]()
        var more = true
        while more {
            if let end, next >= end { return }
            let limit = end ?? .max
            var count = 0
            try readTransaction { txn in
                try txn.withCursor(dbs.records) { cursor in
                    var entry = try cursor.seek(integer: next)
                    while let e = entry, count < pageSize, e.key.nativeUInt64 < limit {
                        let at = e.key.nativeUInt64
                        let view = try RecordView(e.value, position: at)
                        let payloads = choose(view)
                        let hasFacts = try payloads != .none
                            && decodePart(at, personal: false, length: view.factsLength, into: &factsBuffer, txn)
                        let hasPersonal = try payloads == .all && view.personalLength > 0
                            && decodePart(at, personal: true, length: view.personalLength, into: &personalBuffer, txn)
                        count += 1
                        next = at + 1
                        let goOn = try factsBuffer.withUnsafeBytes { facts in
                            try personalBuffer.withUnsafeBytes { personal in
                                try body(view, hasFacts ? facts : nil, hasPersonal ? personal : nil)
                            }
                        }
                        guard goOn else {
                            more = false
                            return
                        }
                        entry = try cursor.get(.next)
                    }
                }
            }
            if count < pageSize { return }
        }
    }

    /// Decodes one stored part into `buffer`; `false` when the part is absent.
    func decodePart(_ position: UInt64, personal: Bool, length: UInt32, into buffer: inout [UInt8],
                    _ txn: borrowing LMDBTransaction) throws -> Bool {
        try decodeStoredPart(position, personal: personal, length: length, into: &buffer, txn) != nil
    }
}
