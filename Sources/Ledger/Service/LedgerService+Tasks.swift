import EventStore
import Foundation

extension LedgerService {
    static let taskCommands: Set<String> = ["task.register", "task.assign", "task.complete", "system.taskCheck"]

    func executeTask(_ c: Command) async throws -> AppendResult {
        let b = c.body
        let id = try b.uuid("task")
        let stream = "task-\(id.uuidString.lowercased())"
        return try await handler.execute(c.context) {
            let (state, version) = try handler.load(stream, WorkItem()) { s, e in
                guard let event = try WorkItem.Event(type: e.record.eventType, facts: e.facts ?? []) else { return s }
                return WorkItem.evolve(s, event)
            }
            let day = try c.today()
            let event: WorkItem.Event
            switch c.envelope.type {
            case "task.register":
                let unit = try b.string("unit")
                guard let agency = c.reference.agency(ofUnit: unit) else { throw LedgerError(.notFound, "no unit \(unit)") }
                if let mine = c.reference.assignment(of: c.actor.staffID, on: day),
                   c.reference.agency(ofUnit: mine.unit) != agency {
                    throw LedgerError(.notPermitted, "\(c.actor.staffID) works for another agency than \(agency)")
                }
                event = .registered(agency: agency, unit: unit, kind: try b.string("kind"), dueAt: try b.instant("dueAt"),
                                    at: c.at)
            case "task.assign":
                let assignee = try b.string("assignee")
                guard c.reference.assignment(of: assignee, on: day)?.unit == state.unit || state.status == nil else {
                    throw LedgerError(.invalidCommand, "\(assignee) is not on the staff of \(state.unit) on \(day)")
                }
                let role = try b.optionalChoice("role", WorkItem.Role.self) ?? .main
                let due = b.fields["dueAt"] == nil ? nil : try b.instant("dueAt")
                event = .assigned(assignee: assignee, role: role, dueAt: due, by: c.actor.staffID, at: c.at)
            case "task.complete":
                event = .completed(by: c.actor.staffID, at: c.at)
            default:  // system.taskCheck
                try c.requireSystem()
                event = .overdue(dueAt: 0, assignee: nil, at: c.at)
            }
            let leads = c.reference.leads(state.unit, staff: c.actor.staffID, on: day)
            guard let decided = try WorkItem.decide(state, event, by: c.actor, leads: leads) else {
                throw LedgerError(.nothingToRecord, "work item \(id) is not overdue (or was found so already)")
            }
            return [PlannedAppend(stream: stream, readVersion: version, events: [decided.new])]
        }
    }
}
