public import EventStore
import Foundation
import Ledger

/// The audit trail: every domain event of dossiers, approvals, work items and people, by stream (`byStream`:
/// `stream 0 position(u64 BE)`) and by acting official (`byActor`: `actor 0 position` → the stream, whose entry holds
/// the line), each with its type, actor,
/// principal, role, capacity, on-behalf-of, domain time and the facts part (facts v1 bytes, rendered as JSON when
/// read). Reference data and personal parts are not copied here.
public struct AuditTrail: Projection {
    /// The projection's stable name.
    public var name = "audit"
    /// The projection's code version.
    public var version: UInt32 = 3
    /// The databases it keeps.
    public var databases = ["byStream", "byActor"]

    static let categories: Set<String> = ["dossier", "approval", "task", "person", "delegation", "roster",
                                          "leaderroster", "eod"]

    /// The trail.
    public init() {}

    /// Folds one event (see ``Projection``).
    public func fold(_ event: ProjectedEvent, _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases) throws {
        let record = event.record
        guard record.leafType == .event else { return }
        let stream = record.stream
        guard Self.categories.contains(EventRecord.category(of: stream)) else { return }
        let facts = event.facts.map(Array.init) ?? []
        var w = Facts.Writer()
        w.field("stream", stream)
        w.field("type", record.eventType)
        let actor = String(decoding: record.actorBytes, as: UTF8.self)
        w.field("actor", actor)
        for key in ["principal", "role", "unit", "capacity", "on_behalf_of"] {
            if let v = record.metadataValue(key) { w.field(key, v) }
        }
        let at = try? Facts.decode(facts) { r throws(Facts.DecodingError) in try r.instant("at") }
        if let at { w.field("at", instant: at) }
        w.field("facts", value: .bytes(facts))
        let value = w.finish()
        var position = [UInt8]()
        withUnsafeBytes(of: record.position.bigEndian) { position.append(contentsOf: $0) }
        try txn.put(dbs["byStream"], key: Array(stream.utf8) + [0] + position, value: value)
        // By actor, a reference: the stream, whose entry at the same position holds the line.
        if !actor.isEmpty { try txn.put(dbs["byActor"], key: Array(actor.utf8) + [0] + position, value: Array(stream.utf8)) }
    }
}
