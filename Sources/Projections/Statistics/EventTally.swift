public import EventStore

/// Events per type and per category: the log's own statistics, and the simplest projection (used by the engine's
/// tests and benchmarks because it depends on nothing but the records).
public struct EventTally: Projection {
    /// The projection's stable name.
    public var name = "event-tally"
    /// The projection's code version.
    public var version: UInt32 = 1
    /// The databases it keeps.
    public var databases = ["byType", "byCategory"]

    /// The tally.
    public init() {}

    /// The tally counts records: it reads no payload.
    public func payloads(of record: RecordView) -> PayloadSelection { .none }

    /// Folds one event (see ``Projection``).
    public func fold(_ event: ProjectedEvent, _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases) throws {
        try Self.increment(dbs["byType"], Array(event.record.eventTypeBytes), txn)
        try Self.increment(dbs["byCategory"], Array(EventRecord.category(of: event.record.stream).utf8), txn)
    }

    /// The count under `key`.
    public static func count(_ db: StateDatabase, _ key: String, _ txn: borrowing StateTransaction) throws -> UInt64 {
        try txn.get(db, key: Array(key.utf8)).map(decode) ?? 0
    }

    private static func increment(_ db: StateDatabase, _ key: [UInt8], _ txn: borrowing StateTransaction) throws {
        let old = try txn.get(db, key: key).map(decode) ?? 0
        try txn.put(db, key: key, value: withUnsafeBytes(of: (old + 1).bigEndian, Array.init))
    }

    private static func decode(_ bytes: [UInt8]) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }
}
