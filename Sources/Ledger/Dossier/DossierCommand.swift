public import Foundation

/// What officials (and the applicant) ask of a dossier.
public enum DossierCommand: Hashable, Sendable {
    /// A processing note by the assignee.
    case addNote(note: String, at: Int64)
    /// A question to another agency (`toAgency` checked to exist by the caller), answered by `dueAt`.
    case consult(consultation: UUID, toAgency: String, question: String, dueAt: Int64, at: Int64)
    /// The other agency's answer to a consultation.
    case recordConsultationAnswer(consultation: UUID, answerRef: String, at: Int64)
    /// The post's confirmation that a result sent by post was delivered.
    case confirmDelivery(at: Int64)
    /// The applicant's rating (1–5) of the service, with the criteria rated and an optional comment.
    case recordFeedback(score: Int, criteria: [String], comment: String?, at: Int64)
    /// Submit under a procedure version through a channel; `intake` is the duty policy's intake rule in force
    /// (under Directive 16: online only for level 3/4 procedures; other channels only for the urgent list).
    case submit(procedure: ProcedureVersion, agencyID: String, channel: Channel, applicantName: String,
                applicantID: String, at: Int64, intake: ReferenceData.DutyPolicy.Intake?,
                attachments: [DossierEvent.Attachment] = [], returnMethod: Channel? = nil, applicantPhone: String? = nil)
    /// Slip references (`slipRef`, here and on the other slips' commands): the number printed on the form; by default
    /// derived from the receipt code, or for a dossier not received yet from `slipPrefix` (the dossier's short id).
    case refuseIntake(reason: String, at: Int64, code: DossierEvent.IntakeRefusalCode? = nil, legalBasis: String? = nil,
                      slipRef: String? = nil)
    /// Intake guidance: every missing item, once (the dossier stays submitted; the clock has not started).
    /// With the procedure's `required` components, the items are the missing ones among them.
    case requestIntakeSupplement(items: [String], required: [String] = [], at: Int64, slipRef: String? = nil)
    /// Receive complete; the receipt code comes from the agency-day counter (gap-free): pass "" and
    /// ``DossierHandler`` allocates the next one.
    /// `presented`: components handed in at the counter on receipt (those an intake supplement asked for); with
    /// the attachments they must cover the procedure's required components.
    /// `securityLevel`: the grading the receiving officer gives state-secret material (see ``SecurityLevel``).
    case receive(receiptCode: String, procedure: ProcedureVersion, calendar: WorkingCalendar, calendarVersion: Int,
                 at: Int64, presented: [String] = [], securityLevel: SecurityLevel? = nil)
    /// Hand the dossier over to the competent unit (its head then assigns it).
    /// `competent`: whether the unit handles the dossier's field (the caller reads the unit's fields).
    case transfer(toUnit: String, at: Int64, competent: Bool = true, handedOverAt: Int64? = nil)
    /// Assign; when someone already holds the dossier it is a reassignment and needs a reason. `role` CO_HANDLER or
    /// FOR_INFO adds a supporting official instead. `leads` says whether the actor heads the dossier's unit (a
    /// leader of it, or the agency head); `onLeave` whether the assignee is on approved leave today (recorded as a
    /// warning); `assigneeOnsite` whether the assignee checked in ONSITE today (a graded dossier needs it).
    case assign(assignee: String, reason: String? = nil, at: Int64, role: DossierEvent.AssignmentRole = .main,
                stepDueAt: Int64? = nil, note: String? = nil, leads: Bool = true, onLeave: Bool = false,
                assigneeOnsite: Bool = false)
    case startProcessing(at: Int64)
    /// A second request needs the unit head's override (``approveSecondSupplement(at:)`` first; the service passes
    /// `headOverride` from the dossier's state) and is flagged (Decision 766 counts it overdue).
    case requestSupplement(items: [String], headOverride: Bool, at: Int64, reason: String? = nil,
                           contactVia: DossierEvent.ContactChannel? = nil)
    /// The unit head's override for one more supplementation request.
    case approveSecondSupplement(at: Int64)
    case receiveSupplement(calendar: WorkingCalendar, at: Int64, receivedVia: Channel? = nil)
    /// A fee request: with a fee `schedule` (the pinned procedure version's), the `items` must be the schedule's (all
    /// of it when none are named) and the amount is their sum; without one, a positive `amount`.
    case requestPayment(amount: Int64, items: [ProcedureVersion.Fee] = [], schedule: [ProcedureVersion.Fee] = [],
                        at: Int64)
    case payFee(amount: Int64, online: Bool, at: Int64)
    /// The assignee submits the draft result; ``DossierHandler`` opens the approval beside it.
    case submitForApproval(approvalID: UUID, draftSha256: String, outcome: ProposedOutcome, at: Int64)
    /// The approval returned (or rejected) the draft: processing resumes.
    case approvalReturned(approvalID: UUID, rejected: Bool, at: Int64)
    /// The submitter withdrew the approval before a decision: back to processing (no revision counted).
    case approvalWithdrawn(approvalID: UUID, at: Int64)
    /// Resolve: needs the dossier's approval, signed, proposing to grant.
    case resolve(resultNumber: String, approval: Approval, at: Int64, approvalID: UUID? = nil, documentRef: String? = nil,
                 eResultLink: String? = nil)
    /// Refuse after processing: needs the dossier's approval, signed, proposing to refuse.
    case refuse(reasons: [String], approval: Approval, at: Int64, approvalID: UUID? = nil)
    /// The scheduler's deadline check: records "approaching" (≤ 1 working day left) and "breached", each once.
    case checkDeadline(calendar: WorkingCalendar, at: Int64)
    case issueApology(newAppointmentAt: Int64, at: Int64, reason: String? = nil, slipRef: String? = nil)
    /// The applicant's request to withdraw, with the reason (not after the dossier is resolved or refused).
    case requestWithdrawal(reason: String, at: Int64)
    /// An officer confirms the applicant's withdrawal request (status 7); `reason` is the request's when empty.
    case withdraw(reason: String, at: Int64)
    /// Hand the result back; by post with the postal service's tracking number.
    case returnResult(method: Channel, trackingNumber: String? = nil, at: Int64, recipient: String? = nil)
}

extension DossierCommand {
    /// Whether the step handles the dossier's material (its file, a note on it, its result, a consultation about it): on a graded
    /// dossier (``Dossier/securityLevel``) such a step is taken only by someone checked in ONSITE that day, as its
    /// assignment and its approval are. Assignment is checked for the assignee (``assign(assignee:reason:at:role:stepDueAt:note:leads:onLeave:assigneeOnsite:)``).
    public var handlesMaterial: Bool {
        switch self {
        case .startProcessing, .requestSupplement, .receiveSupplement, .consult, .recordConsultationAnswer, .addNote,
             .resolve, .refuse, .returnResult:
            true
        default:
            false
        }
    }
}

extension Dossier {
    /// The events a command produces, or the reason it is refused (pure: no I/O, no clock).
    ///
    /// `actorOnsite`: whether the actor has an open ONSITE check-in today; read only for a step that
    /// ``DossierCommand/handlesMaterial`` on a graded dossier, which it must be `true` for unless the applicant (the
    /// portal) takes the step; the service passes `true` for the system only when the sender is trusted.
    public static func decide(_ state: Dossier, _ command: DossierCommand, by actor: Actor,
                              actorOnsite: Bool = false) throws(LedgerError) -> [DossierEvent]
    {
        func require(_ ok: Bool, _ code: LedgerError.Code, _ message: @autoclosure () -> String,
                     field: String? = nil) throws(LedgerError) {
            if !ok { throw LedgerError(code, message(), field: field) }
        }
        if let level = state.securityLevel, command.handlesMaterial, actor.role != .applicant {
            try require(actorOnsite, .notPermitted, "the dossier is graded \(level.rawValue): state-secret material is "
                + "not handled from home, so \(actor.staffID) must check in ONSITE today before taking this step on it")
        }
        func requireStatus(_ allowed: Set<DossierStatus>, _ doing: String) throws(LedgerError) {
            guard let status = state.status, allowed.contains(status) else {
                throw LedgerError(.invalidState, "cannot \(doing): the dossier is "
                    + "\(state.status.map { "\($0.rawValue) (status \($0.nationalCode))" } ?? "not submitted")")
            }
        }
        /// The current assignee, while the dossier is assigned or being processed (a supplement or fee pending too).
        func requireAssignee(_ doing: String) throws(LedgerError) {
            try requireStatus([.assigned, .inProcess, .awaitingSupplement, .awaitingPayment, .pendingApproval], doing)
            try require(actor.staffID == state.assignee, .notPermitted,
                        "only the assignee (\(state.assignee ?? "none")) may \(doing)")
        }
        /// The signature a result rests on, when the approval's id is known.
        func signature(_ approval: Approval, _ id: UUID?) -> DossierEvent.Signature? {
            guard let id, let signer = approval.signer, let at = approval.signedAt else { return nil }
            return .init(approvalID: id, signedBy: signer, signedAt: at)
        }
        func requireSigned(_ approval: Approval, _ outcome: ProposedOutcome) throws(LedgerError) {
            try require(approval.status == .signed, .invalidState, "the result needs its approval signed first (the "
                + "approval is \(approval.status?.rawValue ?? "not requested"))")
            try require(state.proposedOutcome == outcome, .invalidCommand, "the approved draft proposes to "
                + "\(state.proposedOutcome?.rawValue ?? "nothing"), not to \(outcome.rawValue)")
        }
        switch command {
        case .submit(let p, let agency, let channel, let name, let id, let at, let intake, let attachments, let returnMethod,
                     let phone):
            try require(state.status == nil, .invalidState, "the dossier was already submitted")
            try require(p.channels.contains(channel), .channelNotAllowed,
                        "procedure \(p.code) cannot be submitted \(channel) (it accepts "
                            + p.channels.map { "\($0)" }.sorted().joined(separator: ", ") + ")")
            if let intake {
                if channel == .online {
                    try require(p.onlineLevel >= 3, .channelNotAllowed, "under the duty policy in force only level 3/4 "
                        + "procedures are received online; \(p.code) is level \(p.onlineLevel)")
                }
                try require(intake.channels.contains(channel) || intake.isUrgent(p), .channelNotAllowed,
                            "under the duty policy in force \(channel.name) intake is only for urgent procedures (birth, "
                                + "death, certifications, COVID-related); submit \(p.code) through "
                                + intake.channels.map(\.name).sorted().joined(separator: " or "))
            }
            // Online, the applicant submits through the portal; at the counter or by post, the desk records it.
            try require(channel == .online ? [.applicant, .system].contains(actor.role)
                            : [.oneStopOfficer, .system].contains(actor.role), .notPermitted,
                        channel == .online ? "an online dossier is submitted by the applicant through the portal"
                            : "a \(channel.name) dossier is recorded by the one-stop desk")
            try require(!name.isEmpty && !id.isEmpty, .invalidCommand, "the applicant's name and ID number are required")
            for a in attachments {
                try require(!a.component.isEmpty && !a.fileRef.isEmpty && a.sha256.count == 64
                                && a.sha256.allSatisfy(\.isHexDigit), .invalidCommand,
                            "an attachment names its component, its file and the file's SHA-256 (64 hex digits)")
            }
            try require(Set(attachments.map(\.component)).count == attachments.count, .invalidCommand,
                        "each component is attached once")
            return [.submitted(.init(procedureCode: p.code, procedureVersion: p.version, fieldCode: p.fieldCode,
                                     agencyID: agency, channel: channel, urgent: intake?.isUrgent(p) ?? p.urgentWhitelist, at: at,
                                     applicantName: name, applicantID: id, applicantPhone: phone,
                                     attachments: attachments, returnMethod: returnMethod))]

        case .refuseIntake(let reason, let at, let code, let basis, let slip):
            try requireStatus([.submitted], "refuse intake")
            try require(actor.role == .oneStopOfficer, .notPermitted, "the one-stop desk refuses a dossier at intake")
            try require(!reason.isEmpty, .invalidCommand, "an intake refusal needs a written reason")
            return [.intakeRefused(reason: reason, at: at, code: code, legalBasis: basis, slipRef: slip)]

        case .requestIntakeSupplement(let items, let required, let at, let slip):
            try requireStatus([.submitted], "request intake supplements")
            try require(actor.role == .oneStopOfficer, .notPermitted, "the one-stop desk asks for intake supplements")
            try require(!items.isEmpty, .invalidCommand, "list every missing item, once and completely")
            if !required.isEmpty {
                let missing = Set(required).subtracting(state.components)
                try require(Set(items).isSubset(of: missing), .invalidCommand, "ask only for the procedure's required "
                    + "components still missing (" + missing.sorted().joined(separator: ", ") + ")")
            }
            return [.intakeSupplementRequested(items: items, at: at, slipRef: slip)]

        case .receive(let code, let p, let calendar, let calendarVersion, let at, let presented, let level):
            try requireStatus([.submitted], "receive")
            try require(actor.role == .oneStopOfficer, .notPermitted, "only a one-stop officer receives dossiers")
            try require(p.code == state.procedureCode && p.version == state.procedureVersion, .invalidCommand,
                        "receive under the procedure version the dossier was submitted with "
                            + "(\(state.procedureCode) v\(state.procedureVersion))")
            let missing = Set(p.requiredComponents).subtracting(state.components).subtracting(presented)
            try require(missing.isEmpty, .invalidState, "the dossier lacks required components "
                + missing.sorted().joined(separator: ", ") + "; ask for them once (dossier.requestIntakeSupplement) or "
                + "name them in body.components when handed in at the counter")
            let due: Int64
            var minutes: Int?
            switch p.duration {
            case .sameDay: due = calendar.sameDayDue(receivedAt: at)
            case .workingDays(let d):
                minutes = d * calendar.minutesPerDay
                due = calendar.addingWorkingMinutes(minutes!, to: at)
            case .workingHours(let h):
                minutes = h * 60
                due = calendar.addingWorkingMinutes(minutes!, to: at)
            }
            return [.received(.init(receiptCode: code, at: at, clockStartAt: at, dueAt: due, durationMinutes: minutes,
                                    calendarVersion: calendarVersion, unit: actor.unit,
                                    components: presented.filter { !state.components.contains($0) }.sorted(),
                                    securityLevel: level, slipRef: "01/\(code)"))]

        case .transfer(let unit, let at, let competent, let handedOver):
            try requireStatus([.received, .assigned], "transfer")
            if let handedOver {
                try require(handedOver <= at, .badField, "body.handedOverAt: the file cannot change hands after the step "
                    + "is recorded", field: "body.handedOverAt")
                try require(handedOver >= (state.lastStepAt ?? state.clockStartAt ?? handedOver), .badField,
                            "body.handedOverAt: the file cannot change hands before the dossier's last step",
                            field: "body.handedOverAt")
            }
            try require(competent, .invalidCommand, "unit \(unit) does not handle field \(state.fieldCode) of procedure "
                + "\(state.procedureCode); hand the dossier to a unit that does")
            try require(!unit.isEmpty && unit != state.unit, .invalidCommand,
                        "name the unit to hand the dossier to (it is at \(state.unit ?? "the desk"))")
            return [.transferred(toUnit: unit, at: at, fromUnit: state.unit, handedOverAt: handedOver,
                                 controlSheetEntry: state.controlSheetRows + 1)]

        case .assign(let assignee, let reason, let at, let role, let stepDue, let note, let leads, let onLeave,
                     let onsite):
            try requireStatus([.received, .assigned, .inProcess], "assign")
            try require([.unitHead, .deputyHead, .agencyHead].contains(actor.role) && leads, .notPermitted,
                        "only the head of the dossier's unit \(state.unit ?? "") (or a deputy of it) assigns it")
            if let level = state.securityLevel {
                try require(onsite, .notPermitted, "the dossier is graded \(level.rawValue): state-secret material is "
                    + "not handled from home, so \(assignee) must check in ONSITE today before it is assigned to them")
            }
            try require((note?.count ?? 0) <= 500, .invalidCommand, "an assignment note is at most 500 characters")
            guard role == .main else {
                try require(stepDue == nil, .invalidCommand, "only the main handler's assignment sets a step due instant")
                try require(!assignee.isEmpty && assignee != state.assignee && state.support[assignee] != role,
                            .invalidCommand, "\(assignee) already has the dossier as "
                                + (assignee == state.assignee ? "MAIN" : role.rawValue))
                return [.supportAssigned(person: assignee, role: role, by: actor.staffID, note: note, at: at)]
            }
            try require(!assignee.isEmpty && assignee != state.assignee, .invalidCommand,
                        "name a new assignee (the dossier is with \(state.assignee ?? "nobody"))")
            if let stepDue {
                try require(stepDue > at && stepDue <= (state.dueAt ?? .max), .invalidCommand,
                            "a step's due instant falls after now and no later than the dossier's")
            }
            guard let holder = state.assignee else {
                return [.assigned(assignee: assignee, by: actor.staffID, at: at,
                                  details: .init(stepDueAt: stepDue, note: note, assigneeOnLeave: onLeave))]
            }
            let why = reason?.trimmingCharacters(in: .whitespaces) ?? ""
            try require(!why.isEmpty, .invalidCommand,
                        "the dossier is with \(holder): a reassignment records its reason (body.reason)")
            try require(stepDue == nil && note == nil, .invalidCommand, "a reassignment records its reason only; a "
                + "step due instant and a note go with a first assignment")
            return [.reassigned(from: holder, to: assignee, by: actor.staffID, reason: why, at: at)]

        case .startProcessing(let at):
            try requireStatus([.assigned], "start processing")
            try require(actor.staffID == state.assignee, .notPermitted,
                        "only the assignee (\(state.assignee ?? "none")) starts processing")
            return [.processingStarted(by: actor.staffID, at: at)]

        case .requestSupplement(let items, let headOverride, let at, let reason, let via):
            try requireStatus([.inProcess], "request a supplement")
            try require(actor.staffID == state.assignee, .notPermitted,
                        "only the assignee (\(state.assignee ?? "none")) asks the applicant for a supplement")
            try require(!items.isEmpty, .invalidCommand, "list every missing item, once and completely")
            let ordinal = state.supplementRequests + 1
            if ordinal > 1 {
                guard headOverride else {
                    throw LedgerError(.secondSupplementNeedsOverride, "this would be supplementation request "
                        + "\(ordinal); a second request needs the unit head's override and counts the dossier as "
                        + "overdue (Decision 766)")
                }
            }
            return [.supplementRequested(items: items, ordinal: ordinal, secondRequest: ordinal > 1, at: at, reason: reason,
                                         contactVia: via)]

        case .approveSecondSupplement(let at):
            try requireStatus([.inProcess], "allow another supplementation request")
            try require([.unitHead, .deputyHead].contains(actor.role), .notPermitted,
                        "only the unit head (or a deputy) allows a second supplementation request")
            try require(state.supplementRequests >= 1, .invalidCommand,
                        "no supplementation was requested yet: the first request needs no override")
            try require(state.secondSupplementApprovedBy == nil, .invalidCommand,
                        "another request was already allowed by \(state.secondSupplementApprovedBy ?? "")")
            return [.secondSupplementApproved(by: actor.staffID, at: at)]

        case .receiveSupplement(let calendar, let at, let via):
            try requireStatus([.awaitingSupplement], "receive a supplement")
            try require([.oneStopOfficer, .applicant, .system].contains(actor.role), .notPermitted,
                        "a supplement arrives at the one-stop desk or through the portal")
            guard let since = state.supplementOpenSince, let due = state.dueAt else {
                throw LedgerError(.invalidState, "no open supplementation request")
            }
            let paused = calendar.workingMinutes(from: since, to: at)
            return [.supplementReceived(at: at, pausedMinutes: paused,
                                        newDueAt: paused == 0 ? due : calendar.addingWorkingMinutes(paused, to: due),
                                        receivedVia: via)]

        case .requestPayment(let amount, let items, let schedule, let at):
            try requireStatus([.inProcess], "request a fee")
            try require(actor.staffID == state.assignee, .notPermitted,
                        "only the assignee (\(state.assignee ?? "none")) asks for the fee")
            guard !schedule.isEmpty else {
                try require(amount > 0, .invalidCommand, "a fee request needs a positive amount")
                return [.paymentRequested(amount: amount, items: items, at: at)]
            }
            let asked = items.isEmpty ? schedule : items
            for item in asked {
                try require(schedule.contains(item), .invalidCommand, "fee item \(item.code) of \(item.amount) VND is not "
                    + "in the procedure's schedule (" + schedule.map { "\($0.code) \($0.amount)" }.joined(separator: ", ")
                    + ")")
            }
            try require(Set(asked.map(\.code)).count == asked.count, .invalidCommand, "each fee item is asked once")
            let total = asked.reduce(Int64(0)) { $0 + $1.amount }
            try require(amount == 0 || amount == total, .invalidCommand,
                        "the amount \(amount) VND is not the items' sum \(total) VND")
            try require(total > 0, .invalidCommand, "the schedule asks nothing to pay")
            return [.paymentRequested(amount: total, items: asked, at: at)]

        case .payFee(let amount, let online, let at):
            try requireStatus([.awaitingPayment], "record a payment")
            try require([.oneStopOfficer, .system].contains(actor.role), .notPermitted,
                        "a payment is recorded by the one-stop desk or the payment gateway")
            try require(amount > 0, .invalidCommand, "a payment needs a positive amount")
            return [.feePaid(amount: amount, online: online, at: at)]

        case .submitForApproval(let approval, let sha, let outcome, let at):
            try requireStatus([.inProcess], "submit for approval")
            try require(actor.staffID == state.assignee, .notPermitted,
                        "only the assignee (\(state.assignee ?? "none")) submits the draft result")
            try require(sha.count == 64 && sha.allSatisfy(\.isHexDigit), .invalidCommand,
                        "draftSha256 must be the draft's SHA-256 in 64 hex digits")
            return [.submittedForApproval(approvalID: approval, draftSha256: sha, outcome: outcome, at: at)]

        case .approvalReturned(let approval, let rejected, let at):
            try requireStatus([.pendingApproval], "take a draft back")
            try require(approval == state.approvalID, .invalidCommand, "approval \(approval) is not this dossier's")
            return [.approvalReturned(approvalID: approval, rejected: rejected, at: at)]

        case .approvalWithdrawn(let approval, let at):
            try requireStatus([.pendingApproval], "withdraw its approval")
            try require(approval == state.approvalID, .invalidCommand, "approval \(approval) is not this dossier's")
            return [.approvalWithdrawn(approvalID: approval, at: at)]

        case .resolve(let number, let approval, let at, let approvalID, let documentRef, let link):
            try requireStatus([.pendingApproval], "resolve")
            try require([.clerk, .oneStopOfficer].contains(actor.role), .notPermitted,
                        "the clerk or the one-stop desk records the signed result")
            try require(!number.isEmpty, .invalidCommand, "a resolution needs the result document's number")
            try requireSigned(approval, .grant)
            if let documentRef {
                try require(!documentRef.isEmpty && documentRef.utf8.count <= 120
                                && !documentRef.unicodeScalars.contains { $0.properties.generalCategory == .control },
                            .badField, "body.resultDocRef has 1–120 bytes of printable text", field: "body.resultDocRef")
            }
            if let link {
                try require(Self.isResultLink(link), .badField, "body.eResultLink must be an https URL of at most 500 "
                    + "printable ASCII characters, without a user name or password", field: "body.eResultLink")
            }
            return [.resolved(resultNumber: number, at: at, signature: signature(approval, approvalID),
                              documentRef: documentRef, eResultLink: link)]

        case .refuse(let reasons, let approval, let at, let approvalID):
            try requireStatus([.pendingApproval], "refuse")
            try require([.clerk, .oneStopOfficer].contains(actor.role), .notPermitted,
                        "the clerk or the one-stop desk records the signed refusal")
            try require(!reasons.isEmpty, .invalidCommand, "a refusal needs written reasons")
            try requireSigned(approval, .refuse)
            return [.refused(reasons: reasons, at: at, signature: signature(approval, approvalID))]

        case .checkDeadline(let calendar, let at):
            guard let status = state.status, let due = state.dueAt, !status.isFinished else {
                throw LedgerError(.nothingToRecord, "the dossier has no running deadline")
            }
            if status == .awaitingSupplement { throw LedgerError(.nothingToRecord, "the clock is paused") }
            if at > due {
                guard !state.deadlineBreachedRecorded else {
                    throw LedgerError(.nothingToRecord, "the breach is already recorded")
                }
                return [.deadlineBreached(dueAt: due, at: at)]
            }
            let remaining = calendar.workingMinutes(from: at, to: due)
            guard remaining <= calendar.minutesPerDay, !state.deadlineApproachingRecorded else {
                throw LedgerError(.nothingToRecord, "\(remaining) working minutes left; nothing to record")
            }
            return [.deadlineApproaching(dueAt: due, remainingMinutes: remaining, at: at)]

        case .issueApology(let appointment, let at, let reason, let slip):
            try requireStatus([.received, .assigned, .inProcess, .awaitingSupplement, .awaitingPayment, .pendingApproval],
                              "issue an apology")
            try require([.agencyHead, .deputyHead].contains(actor.role), .notPermitted,
                        "the agency head (or a deputy signing for them) signs apology slips")
            guard let due = state.appointmentAt ?? state.dueAt else {
                throw LedgerError(.invalidState, "the dossier has no appointment")
            }
            try require(at <= due, .deadlineRule, "an apology must be issued no later than the current appointment")
            try require(appointment > due, .deadlineRule, "the new appointment must be after the current one")
            let why = reason?.trimmingCharacters(in: .whitespaces) ?? ""
            try require(!why.isEmpty && why.count <= 500, .invalidCommand,
                        "an apology slip gives the reason for the delay (1–500 characters)")
            return [.apologyIssued(newAppointmentAt: appointment, signedBy: actor.staffID, at: at, previousDueAt: due,
                                   reason: why, slipRef: slip ?? "04/\(state.receiptCode ?? "")-\(state.apologies + 1)")]

        case .requestWithdrawal(let reason, let at):
            try requireStatus(Self.withdrawable, "request a withdrawal")
            try require([.applicant, .oneStopOfficer].contains(actor.role), .notPermitted,
                        "the applicant asks to withdraw (online, or at the counter through a one-stop officer)")
            try require(state.withdrawalReason == nil, .invalidCommand, "a withdrawal is already requested")
            try require(!reason.trimmingCharacters(in: .whitespaces).isEmpty, .invalidCommand,
                        "a withdrawal request records the applicant's reason")
            return [.withdrawalRequested(reason: reason, at: at)]

        case .withdraw(let reason, let at):
            try requireStatus(Self.withdrawable, "withdraw")
            try require(actor.role != .applicant && actor.role != .system, .notPermitted,
                        "an officer confirms a withdrawal the applicant asked for")
            guard let requested = state.withdrawalReason else {
                throw LedgerError(.invalidState, "the applicant has not asked to withdraw (dossier.requestWithdrawal)")
            }
            return [.withdrawn(reason: reason.isEmpty ? requested : reason, at: at)]

        case .returnResult(let method, let tracking, let at, let recipient):
            try requireStatus([.resolved, .refused], "return the result")
            try require([.clerk, .oneStopOfficer, .system].contains(actor.role), .notPermitted,
                        "the one-stop desk (or the portal or the post, as the system) returns the result")
            if method == .postal {
                try require(tracking.map(Self.isTrackingNumber) ?? false, .invalidCommand,
                            "a postal return records the postal tracking number: 4–40 letters and digits (body.trackingNumber)")
            } else {
                try require(tracking == nil, .invalidCommand, "only a postal return has a tracking number")
            }
            try require((recipient?.count ?? 0) <= 200, .invalidCommand, "a recipient's name is at most 200 characters")
            return [.resultReturned(method: method, trackingNumber: tracking, at: at, recipient: recipient)]

        case .addNote(let note, let at):
            try requireAssignee("add a processing note")
            try require(!note.trimmingCharacters(in: .whitespaces).isEmpty && note.count <= 2_000, .invalidCommand,
                        "a processing note is 1–2000 characters")
            return [.noteAdded(by: actor.staffID, note: note, at: at)]

        case .consult(let id, let agency, let question, let due, let at):
            try requireAssignee("consult another agency")
            try require(agency != state.agencyID, .invalidCommand, "a consultation goes to another agency than \(agency)")
            try require(!question.isEmpty, .invalidCommand, "a consultation asks a question")
            try require(due > at, .invalidCommand, "a consultation's answer is due after it is sent")
            try require(!state.consultations.contains(id), .invalidState, "consultation \(id) was already sent")
            return [.consultationSent(consultation: id, toAgency: agency, question: question, dueAt: due, at: at)]

        case .recordConsultationAnswer(let id, let answer, let at):
            try requireAssignee("record a consultation's answer")
            try require(state.openConsultations.contains(id), .invalidState, "consultation \(id) is not open")
            try require(!answer.isEmpty, .invalidCommand, "an answer is recorded by its document reference")
            return [.consultationAnswered(consultation: id, answerRef: answer, at: at)]

        case .confirmDelivery(let at):
            try requireStatus([.returned], "confirm a postal delivery")
            try require(state.returnedBy == .postal, .invalidState, "only a result sent by post is delivered by post")
            try require(!state.postalDelivered, .invalidState, "the delivery was already confirmed")
            try require([.oneStopOfficer, .system].contains(actor.role), .notPermitted,
                        "the one-stop desk or the postal service's gateway confirms a delivery")
            return [.postalDelivered(at: at)]

        case .recordFeedback(let score, let criteria, let comment, let at):
            try requireStatus([.returned], "rate the service")
            try require(actor.role == .applicant, .notPermitted, "the applicant rates the service")
            try require(!state.feedbackRecorded, .invalidState, "the service was already rated for this dossier")
            try require((1...5).contains(score), .invalidCommand, "a score is 1 to 5")
            try require((comment?.count ?? 0) <= 2_000, .invalidCommand, "a comment is at most 2000 characters")
            return [.feedbackRecorded(score: score, criteria: criteria, comment: comment, at: at)]
        }
    }
}

extension Dossier {
    /// The states a withdrawal may be asked for and confirmed in: not after the dossier is resolved or refused.
    static let withdrawable: Set<DossierStatus> = [.submitted, .received, .assigned, .inProcess, .awaitingSupplement,
                                                .awaitingPayment, .pendingApproval]

    /// A postal tracking number as the postal services print them (e.g. UPU S10 `EB123456789VN`).
    static func isTrackingNumber(_ text: String) -> Bool {
        (4...40).contains(text.count) && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}

extension Dossier {
    /// A link to an electronic result: https (any case), a host, no user or password, printable ASCII without spaces,
    /// at most 500 characters.
    static func isResultLink(_ link: String) -> Bool {
        guard link.utf8.count <= 500, link.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
              let url = URLComponents(string: link), url.scheme?.lowercased() == "https",
              let host = url.host, !host.isEmpty, url.user == nil, url.password == nil
        else { return false }
        return true
    }
}
