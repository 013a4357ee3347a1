/// An incoming work item other than a dossier (domain.md §3.4, stream `task-<id>`): an official letter or an ad-hoc
/// assignment, registered, assigned with a due instant, completed. Evaluations count all assigned work; a registered
/// item never assigned is an omission.
public struct WorkItem: Hashable, Sendable {
    /// Where it stands.
    public enum Status: String, Hashable, Sendable { case registered, assigned, completed }

    /// Where it stands.
    public var status: Status?
    /// The agency's id.
    public var agency = ""
    /// The unit's id.
    public var unit = ""
    /// The staff id of the official who holds it ("" when nobody).
    public var assignee: String?
    /// When it is due.
    public var dueAt: Int64 = 0

    /// Nothing yet.
    public init() {}

    /// What happens to a work item.
    public enum Event: Hashable, Sendable {
        case registered(agency: String, unit: String, kind: String, dueAt: Int64, at: Int64)
        case assigned(assignee: String, by: String, at: Int64)
        case completed(by: String, at: Int64)

        /// The stored type.
        public var type: String {
            switch self {
            case .registered: "IncomingDocumentRegistered.v1"
            case .assigned: "TaskAssigned.v1"
            case .completed: "TaskCompleted.v1"
            }
        }

        /// As a new event.
        public var new: NewEvent {
            var w = Facts.Writer()
            switch self {
            case .registered(let agency, let unit, let kind, let due, let at):
                w.field("agency", agency)
                w.field("unit", unit)
                w.field("kind", kind)
                w.field("dueAt", instant: due)
                w.field("at", instant: at)
            case .assigned(let assignee, let by, let at):
                w.field("assignee", assignee)
                w.field("by", by)
                w.field("at", instant: at)
            case .completed(let by, let at):
                w.field("by", by)
                w.field("at", instant: at)
            }
            return NewEvent(type, w)
        }

        /// Decodes a stored event, or `nil` for another type.
        public init?(type: String, facts: [UInt8]) throws(Facts.DecodingError) {
            let decoded = try Facts.decode(facts) { r throws(Facts.DecodingError) -> Event? in
                switch type {
                case "IncomingDocumentRegistered.v1":
                    return .registered(agency: try r.string("agency"), unit: try r.string("unit"),
                                       kind: try r.string("kind"), dueAt: try r.instant("dueAt"), at: try r.instant("at"))
                case "TaskAssigned.v1":
                    return .assigned(assignee: try r.string("assignee"), by: try r.string("by"), at: try r.instant("at"))
                case "TaskCompleted.v1": return .completed(by: try r.string("by"), at: try r.instant("at"))
                default: return nil
                }
            }
            guard let decoded else { return nil }
            self = decoded
        }
    }

    /// The state after an event.
    public static func evolve(_ state: WorkItem, _ event: Event) -> WorkItem {
        var s = state
        switch event {
        case .registered(let agency, let unit, _, let due, _):
            s.status = .registered
            s.agency = agency
            s.unit = unit
            s.dueAt = due
        case .assigned(let assignee, _, _):
            s.status = .assigned
            s.assignee = assignee
        case .completed:
            s.status = .completed
        }
        return s
    }

    /// Decides a command on a work item.
    public static func decide(_ state: WorkItem, _ event: Event, by actor: Actor) throws(LedgerError) -> Event {
        switch event {
        case .registered(_, _, let kind, let due, let at):
            guard state.status == nil else { throw LedgerError(.invalidState, "the work item is already registered") }
            guard !kind.isEmpty, due > at else {
                throw LedgerError(.invalidCommand, "a work item needs a kind and a due instant after its registration")
            }
        case .assigned(let assignee, _, _):
            guard state.status == .registered || state.status == .assigned else {
                throw LedgerError(.invalidState, "only an open work item is assigned (it is "
                    + "\(state.status?.rawValue ?? "not registered"))")
            }
            guard [.unitHead, .deputyHead, .agencyHead].contains(actor.role) else {
                throw LedgerError(.notPermitted, "a head assigns work items")
            }
            guard !assignee.isEmpty, assignee != state.assignee else {
                throw LedgerError(.invalidCommand, "name a new assignee")
            }
        case .completed:
            guard state.status == .assigned else {
                throw LedgerError(.invalidState, "only an assigned work item is completed")
            }
            guard actor.staffID == state.assignee else {
                throw LedgerError(.notPermitted, "only the assignee (\(state.assignee ?? "none")) completes it")
            }
        }
        return event
    }
}
