public import EventStore

/// The audit trail's index: the positions of every domain event of dossiers, approvals, work items and people by
/// acting official (`byActor`: `actor 0 position(u64 BE)` → empty). The lines themselves are read from the log when
/// queried (``ReadModel/auditTrail(stream:)`` reads a stream straight from the store's own stream index), so the
/// trail can never disagree with the log it audits, and the fold writes one short key per event instead of copying
/// the log. Reference data and personal parts are not part of the trail.
public struct AuditTrail: Projection {
    /// The projection's stable name.
    public var name = "audit"
    /// The projection's code version.
    public var version: UInt32 = 4
    /// The databases it keeps.
    public var databases = ["byActor"]

    /// The stream categories the trail covers.
    public static let categories: Set<String> = ["dossier", "approval", "task", "person", "delegation", "roster",
                                                 "leaderroster", "eod"]

    /// The trail.
    public init() {}

    /// Folds one event (see ``Projection``).
    public func fold(_ event: ProjectedEvent, _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases) throws {
        let record = event.record
        guard record.leafType == .event, !record.actorBytes.isEmpty else { return }
        guard record.isIn(categories: Self.categoryBytes) else { return }
        var key = [UInt8]()
        key.reserveCapacity(record.actorBytes.count + 9)
        key.append(contentsOf: record.actorBytes)
        key.append(0)
        withUnsafeBytes(of: record.position.bigEndian) { key.append(contentsOf: $0) }
        try txn.put(dbs["byActor"], key: key, value: [])
    }

    /// The trail keeps positions only: it reads no payload.
    public func payloads(of record: RecordView) -> PayloadSelection { .none }

    private static let categoryBytes = categories.map { Array($0.utf8) }
}
