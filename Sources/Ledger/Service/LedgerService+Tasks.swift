import EventStore
import Foundation

extension LedgerService {
    static let taskCommands: Set<String> = ["task.register", "task.assign", "task.complete"]

    func executeTask(_ c: Command) async throws -> AppendResult {
        let b = c.body
        let id = try b.uuid("task")
        let stream = "task-\(id.uuidString.lowercased())"
        return try await handler.execute(c.context) {
            let (state, version) = try handler.load(stream, WorkItem()) { s, e in
                guard let event = try WorkItem.Event(type: e.record.eventType, facts: e.facts ?? []) else { return s }
                return WorkItem.evolve(s, event)
            }
            let event: WorkItem.Event
            switch c.envelope.type {
            case "task.register":
                let unit = try b.string("unit")
                guard let agency = c.reference.agency(ofUnit: unit) else { throw LedgerError(.notFound, "no unit \(unit)") }
                event = .registered(agency: agency, unit: unit, kind: try b.string("kind"), dueAt: try b.instant("dueAt"),
                                    at: c.at)
            case "task.assign":
                let assignee = try b.string("assignee")
                let day = try c.today()
                guard c.reference.assignment(of: assignee, on: day)?.unit == state.unit || state.status == nil else {
                    throw LedgerError(.invalidCommand, "\(assignee) is not on the staff of \(state.unit) on \(day)")
                }
                event = .assigned(assignee: assignee, by: c.actor.staffID, at: c.at)
            default:
                event = .completed(by: c.actor.staffID, at: c.at)
            }
            return [PlannedAppend(stream: stream, readVersion: version,
                                  events: [try WorkItem.decide(state, event, by: c.actor).new])]
        }
    }
}
