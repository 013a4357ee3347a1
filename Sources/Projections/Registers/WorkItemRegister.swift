public import EventStore
import Ledger

/// Work items other than dossiers (domain.md §3.4): one row per item (`rows`: task id → agency, unit, kind,
/// registeredAt, dueAt (the main handler's step, else the item's), itemDueAt, assignee (the MAIN handler), assignedAt,
/// coHandlers, informed, completedAt, overdueAt).
public struct WorkItemRegister: Projection {
    /// The projection's stable name.
    public var name = "work-items"
    /// The projection's code version (2: rows keep the item's due instant apart from the main handler's step).
    public var version: UInt32 = 2
    /// The databases it keeps.
    public var databases = ["rows"]

    /// The register.
    public init() {}

    /// The facts of work-item events.
    public func payloads(of record: RecordView) -> PayloadSelection {
        record.streamBytes.starts(with: "task-".utf8) ? .facts : .none
    }

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
            case .assigned(let assignee, let role, let due, _, let at):
                let co = row.strings("coHandlers").filter { $0 != assignee }
                let informed = row.strings("informed").filter { $0 != assignee }
                switch role {
                case .main:
                    row["assignee"] = .string(assignee)
                    row["assignedAt"] = .instant(at)
                    // A new main handler works to their step's due instant, else to the item's.
                    if row["itemDueAt"] == nil, let itemDue = row.instant("dueAt") { row["itemDueAt"] = .instant(itemDue) }
                    if let due = due ?? row.instant("itemDueAt") { row["dueAt"] = .instant(due) }
                    row["coHandlers"] = co.isEmpty ? nil : .array(co.map(Facts.Value.string))
                    row["informed"] = informed.isEmpty ? nil : .array(informed.map(Facts.Value.string))
                case .co:
                    row["coHandlers"] = .array((co + [assignee]).map(Facts.Value.string))
                    row["informed"] = informed.isEmpty ? nil : .array(informed.map(Facts.Value.string))
                case .forInfo:
                    row["informed"] = .array((informed + [assignee]).map(Facts.Value.string))
                    row["coHandlers"] = co.isEmpty ? nil : .array(co.map(Facts.Value.string))
                }
            case .completed(_, let at):
                row["completedAt"] = .instant(at)
            case .overdue(_, _, let at):
                row["overdueAt"] = .instant(at)
            }
        }
    }
}
