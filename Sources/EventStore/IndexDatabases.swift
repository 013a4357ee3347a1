internal import CLMDB
import Foundation

/// The named databases of the index environment (`index/` beside the log; layout in ARCHITECTURE.md, "On disk").
///
/// Everything here is derived from the log's records, so the environment commits without fsync and is caught up
/// from the log when it is behind (after a crash) or rebuilt when it cannot be trusted (after a system crash).
struct IndexDatabases: Sendable {
    /// `"through"` → the first position not yet indexed (u64, big-endian).
    let meta: MDB_dbi
    /// stream name → stream number (u64, big-endian).
    let streamNames: MDB_dbi
    /// stream number (u64, native) → stream name.
    let streams: MDB_dbi
    /// stream number (u64, native) → dups of version (u64 BE) ‖ position (u64 BE).
    let streamEvents: MDB_dbi
    /// event id (16 bytes) → position (u64, native).
    let eventIDs: MDB_dbi
    /// category name → category number (u64, big-endian).
    let categoryNames: MDB_dbi
    /// category number (u64, native) → dups of position (u64, native).
    let categoryEvents: MDB_dbi
    /// event type → type number (u64, big-endian).
    let typeNames: MDB_dbi
    /// type number (u64, native) → dups of position (u64, native).
    let typeEvents: MDB_dbi
    /// data-subject id (16 bytes), `DUPSORT`/`INTEGERDUP` → positions of events with the subject's personal part
    /// (the record's `subject` metadata and a personal commitment): what an erasure deletes.
    let subjectEvents: MDB_dbi

    static let count: UInt32 = 10

    /// The names of these databases; stores written before the index had its own environment kept them in the
    /// log's environment, from which they are dropped once the index is built.
    static let names = ["stream_names", "streams", "stream_events", "event_ids", "category_names",
                        "category_events", "type_names", "type_events", "subject_events"]

    init(_ env: LMDBEnvironment) throws(LMDBError) {
        let integer = MDB_INTEGERKEY
        let postings = MDB_INTEGERKEY | MDB_DUPSORT | MDB_DUPFIXED | MDB_INTEGERDUP
        meta = try env.openDatabase("index_meta")
        streamNames = try env.openDatabase("stream_names")
        streams = try env.openDatabase("streams", flags: integer)
        streamEvents = try env.openDatabase("stream_events", flags: MDB_INTEGERKEY | MDB_DUPSORT | MDB_DUPFIXED)
        eventIDs = try env.openDatabase("event_ids")
        categoryNames = try env.openDatabase("category_names")
        categoryEvents = try env.openDatabase("category_events", flags: postings)
        typeNames = try env.openDatabase("type_names")
        typeEvents = try env.openDatabase("type_events", flags: postings)
        subjectEvents = try env.openDatabase("subject_events", flags: MDB_DUPSORT | MDB_DUPFIXED | MDB_INTEGERDUP)
    }

    /// Every database, for emptying the index before a rebuild.
    var all: [MDB_dbi] {
        [meta, streamNames, streams, streamEvents, eventIDs, categoryNames, categoryEvents, typeNames, typeEvents,
         subjectEvents]
    }

    /// Lists the event at `position` under the subject of its personal part (positions only grow: appended).
    func noteSubjectEvent(_ subject: UUID, _ position: UInt64, _ itxn: borrowing LMDBTransaction) throws {
        var at = position
        try withUnsafeBytes(of: subject.uuid) { id in
            try withUnsafeBytes(of: &at) { try itxn.put(subjectEvents, id, $0, flags: MDB_APPENDDUP) }
        }
    }

    static let throughKey = Array("through".utf8)
    static let layoutKey = Array("layout".utf8)

    /// The index's layout: an index of another layout (an older one, without `subject_events`) is rebuilt.
    static let layout: UInt32 = 2

    /// The layout the index was built with (1 for indexes that did not say).
    func storedLayout(_ txn: borrowing LMDBTransaction) throws -> UInt32 {
        try Self.layoutKey.withUnsafeBytes { key in
            try txn.get(meta, key).map { UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) }
        } ?? 1
    }

    /// Records this build's layout.
    func setLayout(_ txn: borrowing LMDBTransaction) throws {
        try Self.layoutKey.withUnsafeBytes { key in
            try withUnsafeBytes(of: Self.layout.bigEndian) { try txn.put(meta, key, $0) }
        }
    }

    /// The first position not yet indexed.
    func through(_ txn: borrowing LMDBTransaction) throws -> UInt64 {
        try Self.throughKey.withUnsafeBytes { try txn.get(meta, $0)?.bigEndianUInt64() } ?? 0
    }

    /// Records that every position below `position` is indexed.
    func setThrough(_ position: UInt64, _ txn: borrowing LMDBTransaction) throws {
        try Self.throughKey.withUnsafeBytes { key in
            try withUnsafeBytes(of: position.bigEndian) { try txn.put(meta, key, $0) }
        }
    }
}

extension IndexDatabases {
    static let lastEventIDKey = Array("last_event_id".utf8)

    /// The id of the last indexed event: checked against the log at open, so an index that was built from another
    /// log (a store directory restored around it) is rebuilt.
    func lastEventID(_ txn: borrowing LMDBTransaction) throws -> UUID? {
        try Self.lastEventIDKey.withUnsafeBytes { key in
            try txn.get(meta, key).flatMap { $0.count == 16 ? UUID(bytes: $0) : nil }
        }
    }

    /// Records the id of the last indexed event (nothing when `id` is `nil`).
    func setLastEventID(_ id: UUID?, _ txn: borrowing LMDBTransaction) throws {
        guard let id else { return }
        try Self.lastEventIDKey.withUnsafeBytes { key in
            try withUnsafeBytes(of: id.uuid) { try txn.put(meta, key, $0) }
        }
    }
}
