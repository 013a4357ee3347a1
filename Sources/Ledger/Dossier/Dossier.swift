/// A dossier's state, folded from its events: what the decisions need.
public struct Dossier: Hashable, Sendable {
    /// `nil` until the dossier is submitted.
    public var status: DossierStatus?
    public var procedureCode = ""
    public var procedureVersion = 0
    public var agencyID = ""
    public var channel: Channel = .online
    public var receiptCode: String?
    public var clockStartAt: Int64?
    /// The statistical due instant (moved only by supplementation pauses).
    public var dueAt: Int64?
    /// The citizen's appointment, moved by an apology.
    public var appointmentAt: Int64?
    public var assignee: String?
    public var supplementRequests = 0
    /// When the open supplementation request was made, if one is open.
    public var supplementOpenSince: Int64?
    public var apologyIssuedAt: Int64?
    /// When processing finished (resolved, refused, withdrawn after receipt).
    public var finishedAt: Int64?

    /// No dossier yet.
    public init() {}

    /// The state after `event` (pure).
    public static func evolve(_ state: Dossier, _ event: DossierEvent) -> Dossier {
        var d = state
        switch event {
        case .submitted(let s):
            d.status = .submitted
            d.procedureCode = s.procedureCode
            d.procedureVersion = s.procedureVersion
            d.agencyID = s.agencyID
            d.channel = s.channel
        case .intakeRefused(_, let at):
            d.status = .intakeRefused
            d.finishedAt = at
        case .received(let r):
            d.status = .received
            d.receiptCode = r.receiptCode
            d.clockStartAt = r.clockStartAt
            d.dueAt = r.dueAt
            d.appointmentAt = r.dueAt
        case .assigned(let assignee, _, _):
            d.assignee = assignee
            if d.status == .received { d.status = .assigned }
        case .processingStarted:
            d.status = .inProcess
        case .supplementRequested(_, let ordinal, _, let at):
            d.status = .awaitingSupplement
            d.supplementRequests = ordinal
            d.supplementOpenSince = at
        case .supplementReceived(_, _, let newDue):
            d.status = .inProcess
            d.supplementOpenSince = nil
            if let appointment = d.appointmentAt, let due = d.dueAt, appointment == due { d.appointmentAt = newDue }
            d.dueAt = newDue
        case .resolved(_, let at):
            d.status = .resolved
            d.finishedAt = at
        case .refused(_, let at):
            d.status = .refused
            d.finishedAt = at
        case .apologyIssued(let appointment, _, let at):
            d.apologyIssuedAt = at
            d.appointmentAt = appointment
        case .withdrawn(_, let at):
            d.status = .withdrawn
            if d.receiptCode != nil { d.finishedAt = at }
        case .resultReturned:
            d.status = .returned
        }
        return d
    }
}

/// Who acts: the official's pseudonymous staff id and the role they act in.
public struct Actor: Hashable, Sendable {
    /// The role in which an official acts (domain.md §3).
    public enum Role: String, Hashable, Sendable {
        case applicant, oneStopOfficer, specialist, unitHead, deputyHead, agencyHead, clerk, system
    }

    public var staffID: String
    public var role: Role

    public init(staffID: String, role: Role) {
        self.staffID = staffID
        self.role = role
    }
}
