public import EventStore
import Ledger

/// Work items other than dossiers (domain.md §3.4): one row per item (`rows`: task id → agency, unit, kind,
/// registeredAt, dueAt, assignee, assignedAt, completedAt).
public struct WorkItemRegister: Projection {
    /// The projection's stable name.
    public var name = "work-items"
    /// The projection's code version.
    public var version: UInt32 = 1
    /// The databases it keeps.
    public var databases = ["rows"]

    /// The register.
    public init() {}

    /// Folds one event (see ``Projection``).
    public func fold(_ event: ProjectedEvent, _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases) throws {
        let record = event.record
        guard record.streamBytes.starts(with: "task-".utf8), let facts = event.facts else { return }
        guard let decoded = try WorkItem.Event(type: record.eventType, facts: Array(facts)) else { return }
        let key = Array(record.streamBytes.dropFirst(5))
        try StateRows.update(dbs["rows"], key, txn) { row in
            switch decoded {
            case .registered(let agency, let unit, let kind, let due, let at):
                row["agency"] = .string(agency)
                row["unit"] = .string(unit)
                row["kind"] = .string(kind)
                row["dueAt"] = .instant(due)
                row["registeredAt"] = .instant(at)
            case .assigned(let assignee, _, let at):
                row["assignee"] = .string(assignee)
                row["assignedAt"] = .instant(at)
            case .completed(_, let at):
                row["completedAt"] = .instant(at)
            }
        }
    }
}
