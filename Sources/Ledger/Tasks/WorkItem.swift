/// An incoming work item other than a dossier (domain.md §3.4, stream `task-<id>`): an official letter or an ad-hoc
/// assignment, registered, assigned (a MAIN handler, co-handlers, officials informed) with a due instant, completed
/// by its main handler, and found overdue by the scheduler. Evaluations count all assigned work; a registered item
/// with no main handler is an omission.
///
/// Schema: `TaskAssigned.v1` gained `role` and `dueAt` later; an event without them is a MAIN assignment keeping the
/// registration's due instant.
public struct WorkItem: Hashable, Sendable {
    /// Where it stands.
    public enum Status: String, Hashable, Sendable { case registered, assigned, completed }

    /// The part an official is given (domain.md §3.4).
    public enum Role: String, Hashable, Sendable, CaseIterable {
        /// Handles it and answers for it.
        case main = "MAIN"
        /// Works on it with the main handler.
        case co = "CO"
        /// Is informed.
        case forInfo = "FOR_INFO"
    }

    /// Where it stands.
    public var status: Status?
    /// The agency's id.
    public var agency = ""
    /// The unit's id.
    public var unit = ""
    /// The main handler's staff id, or `nil` while nobody handles it.
    public var assignee: String?
    /// Co-handlers and officials informed.
    public var others: [String: Role] = [:]
    /// When it is due: the main handler's step due instant when one was set, else the item's.
    public var dueAt: Int64 = 0
    /// The item's own due instant (set at registration; a step never goes past it).
    public var itemDueAt: Int64 = 0
    /// Whether the scheduler found it overdue.
    public var overdueRecorded = false

    /// Nothing yet.
    public init() {}

    /// What happens to a work item.
    public enum Event: Hashable, Sendable {
        case registered(agency: String, unit: String, kind: String, dueAt: Int64, at: Int64)
        /// An assignment; `dueAt` is the step's due instant when the assigner sets one (never past the item's).
        case assigned(assignee: String, role: Role, dueAt: Int64?, by: String, at: Int64)
        case completed(by: String, at: Int64)
        /// The scheduler's finding: open past its due instant.
        case overdue(dueAt: Int64, assignee: String?, at: Int64)

        /// The stored type.
        public var type: String {
            switch self {
            case .registered: "IncomingDocumentRegistered.v1"
            case .assigned: "TaskAssigned.v1"
            case .completed: "TaskCompleted.v1"
            case .overdue: "TaskOverdue.v1"
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
            case .assigned(let assignee, let role, let due, let by, let at):
                w.field("assignee", assignee)
                w.field("role", role.rawValue)
                if let due { w.field("dueAt", instant: due) }
                w.field("by", by)
                w.field("at", instant: at)
            case .completed(let by, let at):
                w.field("by", by)
                w.field("at", instant: at)
            case .overdue(let due, let assignee, let at):
                w.field("dueAt", instant: due)
                if let assignee { w.field("assignee", assignee) }
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
                    let role = try r.optionalChoice("role", Role.self) ?? .main
                    return .assigned(assignee: try r.string("assignee"), role: role,
                                     dueAt: r.contains("dueAt") ? try r.instant("dueAt") : nil, by: try r.string("by"),
                                     at: try r.instant("at"))
                case "TaskCompleted.v1": return .completed(by: try r.string("by"), at: try r.instant("at"))
                case "TaskOverdue.v1":
                    return .overdue(dueAt: try r.instant("dueAt"), assignee: try r.optionalString("assignee"),
                                    at: try r.instant("at"))
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
            s.itemDueAt = due
        case .assigned(let assignee, let role, let due, _, _):
            s.others[assignee] = nil
            if role == .main {
                s.status = .assigned
                s.assignee = assignee
                s.dueAt = due ?? s.itemDueAt
            } else {
                s.others[assignee] = role
            }
        case .completed:
            s.status = .completed
        case .overdue:
            s.overdueRecorded = true
        }
        return s
    }

    /// Decides a command on a work item. `leads` says whether the actor heads the item's unit (a leader of it, or
    /// the agency head): only they assign.
    public static func decide(_ state: WorkItem, _ event: Event, by actor: Actor, leads: Bool) throws(LedgerError)
        -> Event?
    {
        switch event {
        case .registered(_, _, let kind, let due, let at):
            guard state.status == nil else { throw LedgerError(.invalidState, "the work item is already registered") }
            guard [.clerk, .unitHead, .deputyHead, .agencyHead].contains(actor.role) else {
                throw LedgerError(.notPermitted, "a clerk or a head registers incoming work")
            }
            guard !kind.isEmpty, due > at else {
                throw LedgerError(.invalidCommand, "a work item needs a kind and a due instant after its registration")
            }
        case .assigned(let assignee, let role, let due, _, let at):
            guard state.status == .registered || state.status == .assigned else {
                throw LedgerError(.invalidState, "only an open work item is assigned (it is "
                    + "\(state.status?.rawValue ?? "not registered"))")
            }
            guard [.unitHead, .deputyHead, .agencyHead].contains(actor.role), leads else {
                throw LedgerError(.notPermitted, "the head of \(state.unit) assigns its work items; \(actor.staffID) "
                    + "does not lead it")
            }
            guard !assignee.isEmpty else { throw LedgerError(.invalidCommand, "name an assignee") }
            guard role != .main || assignee != state.assignee else {
                throw LedgerError(.invalidCommand, "\(assignee) already handles it; name a new main handler")
            }
            guard role == .main || (assignee != state.assignee && state.others[assignee] != role) else {
                throw LedgerError(.invalidCommand, "\(assignee) already has it as \(state.assignee == assignee ? "MAIN" : role.rawValue)")
            }
            if let due {
                guard role == .main else {
                    throw LedgerError(.badField, "only the main handler's assignment sets a due instant", field: "body.dueAt")
                }
                guard due > at, due <= state.itemDueAt else {
                    throw LedgerError(.badField, "body.dueAt must fall after now and no later than the item's due "
                        + "instant", field: "body.dueAt")
                }
            }
        case .completed:
            guard state.status == .assigned else {
                throw LedgerError(.invalidState, "only an assigned work item is completed")
            }
            guard actor.staffID == state.assignee else {
                throw LedgerError(.notPermitted, "only the main handler (\(state.assignee ?? "none")) completes it")
            }
        case .overdue(_, _, let at):
            guard actor.role == .system else { throw LedgerError(.notPermitted, "only the scheduler records overdue work") }
            guard state.status != nil else { throw LedgerError(.notFound, "no such work item") }
            guard state.status != .completed, !state.overdueRecorded, at > state.dueAt else { return nil }
            return .overdue(dueAt: state.dueAt, assignee: state.assignee, at: at)
        }
        return event
    }
}
