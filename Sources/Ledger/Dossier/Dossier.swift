public import Foundation

/// A dossier's state, folded from its events: what the decisions need.
public struct Dossier: Hashable, Sendable {
    /// `nil` until the dossier is submitted.
    public var status: DossierStatus?
    /// The procedure code.
    public var procedureCode = ""
    /// The procedure version.
    public var procedureVersion = 0
    /// The agency's id.
    public var agencyID = ""
    /// How it reached the desk.
    public var channel: Channel = .online
    /// The receipt code `<agency>-<yyMMdd>-<seq>`.
    public var receiptCode: String?
    /// When the clock started.
    public var clockStartAt: Int64?
    /// The calendar version the dossier was received under (its deadlines use it for good).
    public var calendarVersion = 0
    /// The statistical due instant (moved only by supplementation pauses).
    public var dueAt: Int64?
    /// The citizen's appointment, moved by an apology.
    public var appointmentAt: Int64?
    /// The staff id of the official who holds it ("" when nobody).
    public var assignee: String?
    /// The unit holding the dossier (the receiving desk, then the unit it was transferred to).
    public var unit: String?
    /// Everyone who was assigned or processed it (never its approvers: four eyes).
    public var processors: [String] = []
    /// The open approval, its proposed outcome, and the number of drafts returned for revision.
    public var approvalID: UUID?
    /// The proposed outcome.
    public var proposedOutcome: ProposedOutcome?
    /// Drafts returned for revision.
    public var revisions = 0
    /// The deadline findings already recorded (each once).
    public var deadlineApproachingRecorded = false
    /// Whether the deadline breach was recorded.
    public var deadlineBreachedRecorded = false
    /// The supplement requests.
    public var supplementRequests = 0
    /// The reason of the applicant's pending withdrawal request.
    public var withdrawalReason: String?
    /// The unit head who allowed the next supplementation request beyond the first, until it is made.
    public var secondSupplementApprovedBy: String?
    /// When the open supplementation request was made, if one is open.
    public var supplementOpenSince: Int64?
    /// The apology issued at.
    public var apologyIssuedAt: Int64?
    /// Apology slips issued (Mẫu 04), and intake supplement requests made (Mẫu 02): each slip is numbered by them.
    public var apologies = 0, intakeSupplements = 0
    /// When processing finished (resolved, refused, withdrawn after receipt).
    public var finishedAt: Int64?
    /// When the file last changed hands (received, or handed over to a unit).
    public var lastStepAt: Int64?
    /// How the result went back, once returned.
    public var returnedBy: Channel?
    /// Whether the post delivered a result sent by post.
    public var postalDelivered = false
    /// Whether the applicant rated the service.
    public var feedbackRecorded = false
    /// Consultations of other agencies not yet answered.
    public var openConsultations: Set<UUID> = []
    /// Every consultation sent (an id is never reused).
    public var consultations: Set<UUID> = []
    /// Co-handlers and officials kept informed, by staff id.
    public var support: [String: DossierEvent.AssignmentRole] = [:]
    /// The procedure's field (sector) code.
    public var fieldCode = ""
    /// The components handed in (attachments, and those presented on receipt).
    public var components: Set<String> = []
    /// The grading of state-secret material (assignees work on site the day they are given it).
    public var securityLevel: SecurityLevel?
    /// Rows on the dossier's process control sheet so far (``DossierEvent/controlSheetStep``).
    public var controlSheetRows = 0
    /// The applicant's pseudonymous data-subject id (from the submission's metadata), which later personal parts
    /// are encrypted under.
    public var subject: UUID?

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
            d.fieldCode = s.fieldCode
            d.agencyID = s.agencyID
            d.channel = s.channel
            d.components = Set(s.attachments.map(\.component))
        case .intakeRefused(_, let at, _, _, _):
            d.status = .intakeRefused
            d.finishedAt = at
        case .intakeSupplementRequested:
            d.intakeSupplements += 1
        case .received(let r):
            d.status = .received
            d.unit = r.unit
            d.calendarVersion = r.calendarVersion
            d.receiptCode = r.receiptCode
            d.securityLevel = r.securityLevel
            d.clockStartAt = r.clockStartAt
            d.dueAt = r.dueAt
            d.appointmentAt = r.dueAt
            d.components.formUnion(r.components)
            d.lastStepAt = r.at
        case .transferred(let unit, let at, _, let handedOver, _):
            d.unit = unit
            d.lastStepAt = handedOver ?? at
            d.assignee = nil
            if d.status == .assigned { d.status = .received }
        case .assigned(let assignee, _, _, _), .reassigned(_, let assignee, _, _, _):
            d.assignee = assignee
            if !d.processors.contains(assignee) { d.processors.append(assignee) }
            if d.status == .received { d.status = .assigned }
            d.support[assignee] = nil
        case .supportAssigned(let person, let role, _, _, _):
            d.support[person] = role
            // A co-handler processes the dossier: four eyes keep them off its approval.
            if role == .coHandler, !d.processors.contains(person) { d.processors.append(person) }
        case .processingStarted:
            d.status = .inProcess
        case .supplementRequested(_, let ordinal, _, let at, _, _):
            d.status = .awaitingSupplement
            d.supplementRequests = ordinal
            d.supplementOpenSince = at
            if ordinal > 1 { d.secondSupplementApprovedBy = nil }
        case .secondSupplementApproved(let by, _):
            d.secondSupplementApprovedBy = by
        case .supplementReceived(_, _, let newDue, _):
            d.status = .inProcess
            d.supplementOpenSince = nil
            if let appointment = d.appointmentAt, let due = d.dueAt, appointment == due { d.appointmentAt = newDue }
            d.dueAt = newDue
        case .paymentRequested:
            d.status = .awaitingPayment
        case .feePaid:
            d.status = .inProcess
        case .submittedForApproval(let approval, _, let outcome, _):
            d.status = .pendingApproval
            d.approvalID = approval
            d.proposedOutcome = outcome
        case .approvalReturned(_, let rejected, _):
            d.status = .inProcess
            d.approvalID = nil
            d.proposedOutcome = nil
            if !rejected { d.revisions += 1 }
        case .deadlineApproaching:
            d.deadlineApproachingRecorded = true
        case .deadlineBreached:
            d.deadlineBreachedRecorded = true
        case .resolved(_, let at, _, _, _):
            d.status = .resolved
            d.finishedAt = at
        case .refused(_, let at, _):
            d.status = .refused
            d.finishedAt = at
        case .apologyIssued(let appointment, _, let at, _, _, _):
            d.apologyIssuedAt = at
            d.apologies += 1
            d.appointmentAt = appointment
        case .withdrawalRequested(let reason, _):
            d.withdrawalReason = reason
        case .withdrawn(_, let at):
            d.status = .withdrawn
            if d.receiptCode != nil { d.finishedAt = at }
        case .resultReturned(let method, _, _, _):
            d.status = .returned
            d.returnedBy = method
        case .approvalWithdrawn:
            d.status = .inProcess
            d.approvalID = nil
            d.proposedOutcome = nil
        case .noteAdded:
            break
        case .consultationSent(let id, _, _, _, _):
            d.openConsultations.insert(id)
            d.consultations.insert(id)
        case .consultationAnswered(let id, _, _):
            d.openConsultations.remove(id)
        case .postalDelivered:
            d.postalDelivered = true
        case .feedbackRecorded:
            d.feedbackRecorded = true
        }
        if event.controlSheetStep != nil { d.controlSheetRows += 1 }
        return d
    }
}

/// Who acts: the official's pseudonymous staff id and the role they act in.
public struct Actor: Hashable, Sendable {
    /// The role in which an official acts (domain.md §3).
    public enum Role: String, Hashable, Sendable {
        case applicant, oneStopOfficer, specialist, unitHead, deputyHead, agencyHead, superiorHead, hrOfficer, clerk
        case system
    }

    /// The official's pseudonymous staff id.
    public var staffID: String
    /// The role acted in.
    public var role: Role
    /// The unit the official acts from, when the command needs it (a receipt records the desk).
    public var unit: String?

    /// Creates one.
    public init(staffID: String, role: Role, unit: String? = nil) {
        self.staffID = staffID
        self.role = role
        self.unit = unit
    }
}
