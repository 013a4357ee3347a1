public import EventStore

/// A read model folded from the log into the state store.
///
/// `fold` sees each event once, in log order, inside the state transaction that also moves the projection's
/// checkpoint, so a crash can neither skip nor double-apply an event. Its state must depend only on the events
/// (never on the clock or on a dictionary's order), so a rebuild reproduces it byte for byte (``ProjectionDigest``).
public protocol Projection: Sendable {
    /// A stable name (part of the database names).
    var name: String { get }
    /// The code version; a new one rebuilds the projection from zero beside the old one, which keeps serving.
    var version: UInt32 { get }
    /// The databases it keeps (without prefix).
    var databases: [String] { get }
    /// Folds one event into the state, through `txn`, in the databases `dbs`.
    func fold(_ event: ProjectedEvent, _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases) throws
    /// Folds a batch of events, in order, in one transaction (what the runner calls). The default folds them one by
    /// one; a projection may keep the rows it touches decoded for the batch (``BatchRows``) and write each once.
    /// Either way the result must equal folding the events one at a time.
    func fold(batch events: [ProjectedEvent], _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases) throws
    /// What folding the log costs this projection relative to others (default 1): the runner balances its lanes by
    /// it.
    var foldWeight: Int { get }
    /// Whether its state holds fields from personal parts (default `false`): an erasure then changes what a rebuild
    /// of an earlier position yields, so attestations from before an erasure cannot be re-derived.
    var keepsPersonalData: Bool { get }
    /// The payload parts the fold reads of `record` (default `.all`); it must name every part the fold reads, and
    /// may be given more (a projection folding the same batch asked for them). The runner decodes a part only when
    /// a projection folding the batch reads it, so the events projections pass over (raw imports, other categories)
    /// cost no decompression.
    func payloads(of record: RecordView) -> PayloadSelection
}

extension Projection {
    /// Every projection weighs 1 unless it says otherwise.
    public var foldWeight: Int { 1 }

    /// Projections keep no personal data unless they say so.
    public var keepsPersonalData: Bool { false }

    /// Projections read every part of every event unless they say otherwise.
    public func payloads(of record: RecordView) -> PayloadSelection { .all }

    /// Folds the events one by one.
    public func fold(batch events: [ProjectedEvent], _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases)
        throws
    {
        for event in events { try fold(event, txn, dbs) }
    }
}

/// An event as a projection sees it: the zero-copy record and its decoded parts. Valid only during the fold.
public struct ProjectedEvent {
    /// The record.
    public let record: RecordView
    /// The facts part, if present.
    public let facts: UnsafeRawBufferPointer?
    /// The personal part, if present and not erased.
    public let personal: UnsafeRawBufferPointer?
}

/// A projection version's databases, by the names it declared.
public struct ProjectionDatabases: Sendable {
    let handles: [String: StateDatabase]

    /// The database `name` (one of ``Projection/databases``).
    public subscript(name: String) -> StateDatabase {
        guard let db = handles[name] else { preconditionFailure("database \(name) is not declared by the projection") }
        return db
    }

    /// All of them, by name.
    public var all: [(name: String, database: StateDatabase)] { handles.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
}
