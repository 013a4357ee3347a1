public import Foundation

/// What a draft result proposes: to grant (status 9) or to refuse (status 8).
public enum ProposedOutcome: String, Hashable, Sendable {
    case grant, refuse
}

/// What happened to a dossier (stream `dossier-{id}`); personal data (the applicant) travels only in the personal
/// part of `submitted`, never in facts, stream names or metadata.
public enum DossierEvent: Hashable, Sendable {
    /// Submitted through a channel; the applicant is personal data.
    case submitted(Submitted)
    /// Refused at intake (status 3), with a reason, its code and legal basis when given.
    /// `slipRef`: the refusal slip handed to the applicant (Mẫu 03).
    case intakeRefused(reason: String, at: Int64, code: IntakeRefusalCode? = nil, legalBasis: String? = nil,
                       slipRef: String? = nil)
    /// Intake guidance: the missing items, once and completely (the clock has not started).
    /// `slipRef`: the supplement request slip (Mẫu 02).
    case intakeSupplementRequested(items: [String], at: Int64, slipRef: String? = nil)
    /// Received complete: receipt code, clock start and due instant on the pinned calendar.
    case received(Received)
    /// Handed over to the competent unit (a process-control-sheet step); `handedOverAt` is when the file changed
    /// hands, when it was before the step was recorded; `controlSheetEntry` the row it takes on the dossier's
    /// control sheet (``controlSheetStep``; absent from events recorded before it was kept).
    case transferred(toUnit: String, at: Int64, fromUnit: String? = nil, handedOverAt: Int64? = nil,
                     controlSheetEntry: Int? = nil)
    /// Assigned to its MAIN handler by the unit head (with the step's details, when given).
    case assigned(assignee: String, by: String, at: Int64, details: AssignmentDetails = .init())
    /// A co-handler (CO_HANDLER) or an official kept informed (FOR_INFO) added by the unit head; stored as
    /// `DossierAssigned.v1` with its role.
    case supportAssigned(person: String, role: AssignmentRole, by: String, note: String?, at: Int64)
    /// Taken from one officer and given to another by the unit head, with the reason (a control-sheet step).
    case reassigned(from: String, to: String, by: String, reason: String, at: Int64)
    /// The assignee started processing.
    case processingStarted(by: String, at: Int64)
    /// The unit head allows one more supplementation request (the override a second request needs).
    case secondSupplementApproved(by: String, at: Int64)
    /// Supplementation requested from the applicant; the clock pauses.
    case supplementRequested(items: [String], ordinal: Int, secondRequest: Bool, at: Int64, reason: String? = nil,
                             contactVia: ContactChannel? = nil)
    /// The supplement arrived; the due instant moves by the paused working time.
    case supplementReceived(at: Int64, pausedMinutes: Int, newDueAt: Int64, receivedVia: Channel? = nil)
    /// A financial obligation (fee) requested (status 6): the items of the procedure's fee schedule, and their sum.
    case paymentRequested(amount: Int64, items: [ProcedureVersion.Fee] = [], at: Int64)
    /// The fee paid, online or not; processing resumes.
    case feePaid(amount: Int64, online: Bool, at: Int64)
    /// The draft result submitted for approval (opens `approval-{id}`).
    case submittedForApproval(approvalID: UUID, draftSha256: String, outcome: ProposedOutcome, at: Int64)
    /// The approval returned the draft for revision (or rejected it): back to processing.
    case approvalReturned(approvalID: UUID, rejected: Bool, at: Int64)
    /// The scheduler found the due instant within one working day.
    case deadlineApproaching(dueAt: Int64, remainingMinutes: Int, at: Int64)
    /// The scheduler found the due instant passed with the dossier still open.
    case deadlineBreached(dueAt: Int64, at: Int64)
    /// Resolved (status 9): the result document's number, and where given its reference in the agency's records
    /// (`resultDocRef`) and the link to its electronic copy (`eResultLink`, https; in the personal part, as it opens
    /// the applicant's document).
    case resolved(resultNumber: String, at: Int64, signature: Signature? = nil, documentRef: String? = nil,
                  eResultLink: String? = nil)
    /// Refused after processing (status 8), with reasons.
    case refused(reasons: [String], at: Int64, signature: Signature? = nil)
    /// An apology and a new appointment for the citizen (never moves the statistical due instant).
    /// `previousDueAt` is the appointment it replaces; `reason` why the dossier is late.
    /// `slipRef`: the apology and new-appointment slip (Mẫu 04).
    case apologyIssued(newAppointmentAt: Int64, signedBy: String, at: Int64, previousDueAt: Int64? = nil,
                       reason: String? = nil, slipRef: String? = nil)
    /// Withdrawn at the applicant's request (status 7).
    case withdrawn(reason: String, at: Int64)
    /// The applicant asked to withdraw (online, or at the counter through a one-stop officer); an officer confirms.
    case withdrawalRequested(reason: String, at: Int64)
    /// The result handed back (status 10): at the counter, online, or by post with the postal tracking number.
    /// The recipient (when not the applicant in person) is personal data.
    case resultReturned(method: Channel, trackingNumber: String? = nil, at: Int64, recipient: String? = nil)
    /// The submitter withdrew the draft's approval before a decision: back to processing.
    case approvalWithdrawn(approvalID: UUID, at: Int64)
    /// A processing note by the assignee; the note is personal data (it may speak of the applicant).
    case noteAdded(by: String, note: String, at: Int64)
    /// A question sent to another agency (an inter-agency procedure); it does not pause the clock. The question is
    /// personal data.
    case consultationSent(consultation: UUID, toAgency: String, question: String, dueAt: Int64, at: Int64)
    /// The other agency's answer, by its reference.
    case consultationAnswered(consultation: UUID, answerRef: String, at: Int64)
    /// The postal service delivered a result sent by post.
    case postalDelivered(at: Int64)
    /// The applicant's rating of the service after the result came back (1–5 per criterion); the comment is
    /// personal data.
    case feedbackRecorded(score: Int, criteria: [String], comment: String?, at: Int64)

    /// The facts of a submission.
    public struct Submitted: Hashable, Sendable {
        /// The procedure code.
        public var procedureCode: String
        /// The procedure version.
        public var procedureVersion: Int
        /// The field code.
        public var fieldCode: String
        /// The agency's id.
        public var agencyID: String
        /// How it reached the desk.
        public var channel: Channel
        /// Whether it is on Directive 16's urgent list.
        public var urgent: Bool
        /// The domain time.
        public var at: Int64
        /// Personal: the applicant's name and ID number.
        public var applicantName: String
        /// The applicant's ID number (personal).
        public var applicantID: String
        /// The applicant's phone, for supplementation requests by phone or Zalo (personal).
        public var applicantPhone: String?
        /// The components handed in, each with its file and digest.
        public var attachments: [Attachment] = []
        /// How the applicant wants the result back.
        public var returnMethod: Channel?

        /// Creates one.
        public init(procedureCode: String, procedureVersion: Int, fieldCode: String, agencyID: String, channel: Channel,
                    urgent: Bool, at: Int64, applicantName: String, applicantID: String, applicantPhone: String? = nil,
                    attachments: [Attachment] = [], returnMethod: Channel? = nil) {
            self.applicantPhone = applicantPhone
            self.attachments = attachments
            self.returnMethod = returnMethod
            self.procedureCode = procedureCode
            self.procedureVersion = procedureVersion
            self.fieldCode = fieldCode
            self.agencyID = agencyID
            self.channel = channel
            self.urgent = urgent
            self.at = at
            self.applicantName = applicantName
            self.applicantID = applicantID
        }
    }

    /// Why a dossier is refused at intake (domain.md §3.1 `IntakeRefused.reasonCode`).
    public enum IntakeRefusalCode: String, Hashable, Sendable, CaseIterable {
        case notInScope = "NOT_IN_SCOPE", notEligible = "NOT_ELIGIBLE", incomplete = "INCOMPLETE", other = "OTHER"
    }

    /// How the applicant is reached about a supplement: under Directive 16 by phone or Zalo, so they need not come in.
    public enum ContactChannel: String, Hashable, Sendable, CaseIterable {
        case phone = "PHONE", zalo = "ZALO", email = "EMAIL", sms = "SMS", post = "POST"
    }

    /// The part an official has in a dossier (domain.md §3.1 `DossierAssigned.role`).
    public enum AssignmentRole: String, Hashable, Sendable, CaseIterable {
        case main = "MAIN", coHandler = "CO_HANDLER", forInfo = "FOR_INFO"
    }

    /// What a MAIN assignment may add: the step's due instant (never past the dossier's), a note, and a warning
    /// that the assignee is on approved leave that day.
    public struct AssignmentDetails: Hashable, Sendable {
        /// The step's due instant.
        public var stepDueAt: Int64?
        /// The head's note.
        public var note: String?
        /// Whether the assignee was on approved leave when assigned (a warning, not a refusal).
        public var assigneeOnLeave: Bool

        /// Details.
        public init(stepDueAt: Int64? = nil, note: String? = nil, assigneeOnLeave: Bool = false) {
            self.stepDueAt = stepDueAt
            self.note = note
            self.assigneeOnLeave = assigneeOnLeave
        }
    }

    /// The signature a result or refusal rests on: its approval, who signed, when.
    public struct Signature: Hashable, Sendable {
        /// The approval.
        public var approvalID: UUID
        /// The signer.
        public var signedBy: String
        /// When it was signed.
        public var signedAt: Int64

        /// A signature.
        public init(approvalID: UUID, signedBy: String, signedAt: Int64) {
            self.approvalID = approvalID
            self.signedBy = signedBy
            self.signedAt = signedAt
        }

        func write(_ w: inout Facts.Writer) {
            w.field("approval", approvalID)
            w.field("signedBy", signedBy)
            w.field("signedAt", instant: signedAt)
        }

        static func read(_ r: Facts.Reader) throws(Facts.DecodingError) -> Signature? {
            guard r.contains("approval") else { return nil }
            return Signature(approvalID: try r.uuid("approval"), signedBy: try r.string("signedBy"),
                             signedAt: try r.instant("signedAt"))
        }
    }

    /// One component of a dossier as handed in: its code in the procedure, the stored file, the file's SHA-256.
    public struct Attachment: Hashable, Sendable {
        /// The component's code (one of the procedure's required components, or another document).
        public var component: String
        /// Where the file is kept (the document store's reference).
        public var fileRef: String
        /// The file's SHA-256 in hex.
        public var sha256: String

        /// An attachment.
        public init(component: String, fileRef: String, sha256: String) {
            self.component = component
            self.fileRef = fileRef
            self.sha256 = sha256
        }
    }

    /// The facts of a receipt.
    public struct Received: Hashable, Sendable {
        /// The receipt code `<agency>-<yyMMdd>-<seq>`.
        public var receiptCode: String
        /// The domain time.
        public var at: Int64
        /// When the clock started.
        public var clockStartAt: Int64
        /// The statistical due instant (moved only by supplementation pauses).
        public var dueAt: Int64
        /// The legal duration in working minutes.
        public var durationMinutes: Int?
        /// The calendar version it was received under.
        public var calendarVersion: Int
        /// The receiving desk.
        public var unit: String?
        /// Components presented at the counter on receipt (those asked for at intake), beside the attachments.
        public var components: [String] = []
        /// The grading of state-secret material, when the receiving officer gave one.
        public var securityLevel: SecurityLevel?
        /// The receipt and appointment slip handed to the applicant (Mẫu 01).
        public var slipRef: String?

        /// Creates one.
        public init(receiptCode: String, at: Int64, clockStartAt: Int64, dueAt: Int64, durationMinutes: Int?,
                    calendarVersion: Int, unit: String? = nil, components: [String] = [],
                    securityLevel: SecurityLevel? = nil, slipRef: String? = nil) {
            self.unit = unit
            self.slipRef = slipRef
            self.securityLevel = securityLevel
            self.components = components
            self.receiptCode = receiptCode
            self.at = at
            self.clockStartAt = clockStartAt
            self.dueAt = dueAt
            self.durationMinutes = durationMinutes
            self.calendarVersion = calendarVersion
        }
    }

    /// The event type with its schema version, as stored.
    public var type: String {
        switch self {
        case .submitted: "DossierSubmitted.v1"
        case .intakeRefused: "IntakeRefused.v1"
        case .intakeSupplementRequested: "IntakeSupplementRequested.v1"
        case .received: "DossierReceived.v1"
        case .transferred: "DossierTransferred.v1"
        case .paymentRequested: "FinancialObligationRequested.v1"
        case .feePaid: "FeePaid.v1"
        case .submittedForApproval: "DraftResultSubmittedForApproval.v1"
        case .approvalReturned: "DraftReturnedForRevision.v1"
        case .deadlineApproaching: "DeadlineApproaching.v1"
        case .deadlineBreached: "DeadlineBreached.v1"
        case .assigned, .supportAssigned: "DossierAssigned.v1"
        case .reassigned: "DossierReassigned.v1"
        case .processingStarted: "ProcessingStarted.v1"
        case .supplementRequested: "SupplementRequested.v1"
        case .secondSupplementApproved: "DossierSecondSupplementApproved.v1"
        case .supplementReceived: "SupplementReceived.v1"
        case .resolved: "DossierResolved.v1"
        case .refused: "DossierRefused.v1"
        case .apologyIssued: "DelayApologyIssued.v1"
        case .withdrawn: "DossierWithdrawn.v1"
        case .withdrawalRequested: "WithdrawalRequested.v1"
        case .resultReturned: "ResultReturned.v1"
        case .approvalWithdrawn: "DossierApprovalWithdrawn.v1"
        case .noteAdded: "ProcessingNoteAdded.v1"
        case .consultationSent: "InterAgencyConsultationSent.v1"
        case .consultationAnswered: "InterAgencyConsultationAnswered.v1"
        case .postalDelivered: "PostalDelivered.v1"
        case .feedbackRecorded: "CitizenFeedbackRecorded.v1"
        }
    }

    // MARK: - Payload parts

    /// The facts part (and the personal part, for a submission) in the facts v1 encoding.
    public var encoded: (facts: [UInt8], personal: [UInt8]?) {
        var w = Facts.Writer()
        var personal: [UInt8]?
        switch self {
        case .submitted(let s):
            w.field("procedure", s.procedureCode)
            w.field("procedureVersion", s.procedureVersion)
            w.field("field", s.fieldCode)
            w.field("agency", s.agencyID)
            w.field("channel", s.channel.rawValue)
            w.field("urgent", s.urgent)
            w.field("at", instant: s.at)
            if !s.attachments.isEmpty {
                w.field("attachments", maps: s.attachments.map { a in
                    var m = Facts.Writer()
                    m.field("component", a.component)
                    m.field("fileRef", a.fileRef)
                    m.field("sha256", a.sha256)
                    return m
                })
            }
            if let method = s.returnMethod { w.field("returnMethod", method.rawValue) }
            var p = Facts.Writer()
            p.field("applicantName", s.applicantName)
            p.field("applicantID", s.applicantID)
            if let phone = s.applicantPhone { p.field("applicantPhone", phone) }
            personal = p.finish()
        case .intakeRefused(let reason, let at, let code, let basis, let slip):
            // Free text about the applicant's file: personal (as every reason below).
            personal = Self.personal("reason", reason)
            w.field("at", instant: at)
            if let code { w.field("reasonCode", code.rawValue) }
            if let basis { w.field("legalBasis", basis) }
            if let slip { w.field("slipRef", slip) }
        case .withdrawn(let reason, let at), .withdrawalRequested(let reason, let at):
            personal = Self.personal("reason", reason)
            w.field("at", instant: at)
        case .received(let r):
            w.field("receiptCode", r.receiptCode)
            w.field("at", instant: r.at)
            w.field("clockStartAt", instant: r.clockStartAt)
            w.field("dueAt", instant: r.dueAt)
            if let d = r.durationMinutes { w.field("durationMinutes", d) }
            w.field("calendarVersion", r.calendarVersion)
            if let unit = r.unit { w.field("unit", unit) }
            if !r.components.isEmpty { w.field("components", r.components) }
            if let level = r.securityLevel { w.field("securityLevel", level.rawValue) }
            if let slip = r.slipRef { w.field("slipRef", slip) }
        case .intakeSupplementRequested(let items, let at, let slip):
            w.field("items", items)
            w.field("at", instant: at)
            if let slip { w.field("slipRef", slip) }
        case .transferred(let unit, let at, let from, let handedOver, let entry):
            w.field("toUnit", unit)
            w.field("at", instant: at)
            if let from { w.field("fromUnit", from) }
            if let handedOver { w.field("handedOverAt", instant: handedOver) }
            if let entry { w.field("controlSheetEntry", entry) }
        case .paymentRequested(let amount, let items, let at):
            w.field("amount", amount)
            if !items.isEmpty {
                w.field("items", maps: items.map { fee in
                    var m = Facts.Writer()
                    m.field("code", fee.code)
                    m.field("amount", fee.amount)
                    return m
                })
            }
            w.field("at", instant: at)
        case .feePaid(let amount, let online, let at):
            w.field("amount", amount)
            w.field("online", online)
            w.field("at", instant: at)
        case .submittedForApproval(let approval, let sha, let outcome, let at):
            w.field("approval", approval)
            w.field("draftSha256", sha)
            w.field("outcome", outcome.rawValue)
            w.field("at", instant: at)
        case .approvalReturned(let approval, let rejected, let at):
            w.field("approval", approval)
            w.field("rejected", rejected)
            w.field("at", instant: at)
        case .deadlineApproaching(let due, let remaining, let at):
            w.field("dueAt", instant: due)
            w.field("remainingMinutes", remaining)
            w.field("at", instant: at)
        case .deadlineBreached(let due, let at):
            w.field("dueAt", instant: due)
            w.field("at", instant: at)
        case .assigned(let assignee, let by, let at, let details):
            w.field("assignee", assignee)
            w.field("by", by)
            w.field("at", instant: at)
            if let due = details.stepDueAt { w.field("stepDueAt", instant: due) }
            if let note = details.note { personal = Self.personal("note", note) }
            if details.assigneeOnLeave { w.field("assigneeOnLeave", true) }
        case .supportAssigned(let person, let role, let by, let note, let at):
            w.field("assignee", person)
            w.field("role", role.rawValue)
            w.field("by", by)
            w.field("at", instant: at)
            if let note { personal = Self.personal("note", note) }
        case .processingStarted(let by, let at):
            w.field("by", by)
            w.field("at", instant: at)
        case .secondSupplementApproved(let by, let at):
            w.field("by", by)
            w.field("at", instant: at)
        case .supplementRequested(let items, let ordinal, let second, let at, let reason, let via):
            w.field("items", items)
            w.field("ordinal", ordinal)
            w.field("secondRequest", second)
            w.field("at", instant: at)
            if let via { w.field("contactVia", via.rawValue) }
            // The reason may speak of the applicant: personal.
            if let reason { personal = Self.personal("reason", reason) }
        case .supplementReceived(let at, let paused, let newDue, let via):
            w.field("at", instant: at)
            w.field("pausedMinutes", paused)
            w.field("newDueAt", instant: newDue)
            if let via { w.field("receivedVia", via.rawValue) }
        case .resolved(let number, let at, let signature, let documentRef, let link):
            w.field("resultNumber", number)
            w.field("at", instant: at)
            signature?.write(&w)
            if let documentRef { w.field("resultDocRef", documentRef) }
            // A working link to the applicant's result document: personal, erased with the applicant.
            if let link { personal = Self.personal("eResultLink", link) }
        case .refused(let reasons, let at, let signature):
            var p = Facts.Writer()
            p.field("reasons", reasons)
            personal = p.finish()
            w.field("at", instant: at)
            signature?.write(&w)
        case .apologyIssued(let appointment, let signedBy, let at, let previous, let reason, let slip):
            w.field("newAppointmentAt", instant: appointment)
            w.field("signedBy", signedBy)
            w.field("at", instant: at)
            if let previous { w.field("previousDueAt", instant: previous) }
            if let slip { w.field("slipRef", slip) }
            // The reason may speak of the applicant: personal, under the dossier's subject.
            if let reason { personal = Self.personal("reason", reason) }
        case .reassigned(let from, let to, let by, let reason, let at):
            w.field("fromAssignee", from)
            w.field("toAssignee", to)
            w.field("by", by)
            // It may speak of the officer it takes the file from (leave, illness): personal.
            personal = Self.personal("reason", reason)
            w.field("at", instant: at)
        case .resultReturned(let method, let tracking, let at, let recipient):
            w.field("method", method.rawValue)
            if let tracking { w.field("postalTrackingNo", tracking) }
            w.field("at", instant: at)
            if let recipient { personal = Self.personal("recipient", recipient) }
        case .approvalWithdrawn(let approval, let at):
            w.field("approval", approval)
            w.field("at", instant: at)
        case .noteAdded(let by, let note, let at):
            w.field("by", by)
            w.field("at", instant: at)
            personal = Self.personal("note", note)
        case .consultationSent(let id, let agency, let question, let due, let at):
            w.field("consultation", id)
            w.field("toAgency", agency)
            w.field("dueAt", instant: due)
            w.field("at", instant: at)
            personal = Self.personal("question", question)
        case .consultationAnswered(let id, let answer, let at):
            w.field("consultation", id)
            w.field("answerRef", answer)
            w.field("at", instant: at)
        case .postalDelivered(let at):
            w.field("at", instant: at)
        case .feedbackRecorded(let score, let criteria, let comment, let at):
            w.field("score", score)
            w.field("criteria", criteria)
            w.field("at", instant: at)
            if let comment { personal = Self.personal("comment", comment) }
        }
        return (w.finish(), personal)
    }

    /// A personal part of one text field.
    private static func personal(_ key: String, _ text: String) -> [UInt8] {
        var p = Facts.Writer()
        p.field(key, text)
        return p.finish()
    }

    /// A text field that moved from the facts to the personal part: the personal part's when there is one, else the
    /// facts' (events recorded before the move), else `nil` (erased, or never given).
    private static func moved(_ r: Facts.Reader, _ personal: [UInt8]?, _ key: String) throws(Facts.DecodingError)
        -> String?
    {
        guard let personal else { return try r.optionalString(key) }
        return try Facts.decode(personal) { p throws(Facts.DecodingError) in try p.optionalString(key) }
    }

    /// The text field of a personal part, or "" when erased.
    private static func personalText(_ personal: [UInt8]?, _ key: String) throws(Facts.DecodingError) -> String {
        guard let personal else { return "" }
        return try Facts.decode(personal) { p throws(Facts.DecodingError) in try p.optionalString(key) ?? "" }
    }

    /// The names stores written before the event catalogue followed domain.md §3.1 used, by today's name: they
    /// are read as today's (`DossierApprovalReturned.v1` is `DraftReturnedForRevision.v1`, and so on).
    public static let formerNames: [String: String] = [
        "DossierIntakeRefused.v1": "IntakeRefused.v1",
        "DossierIntakeSupplementRequested.v1": "IntakeSupplementRequested.v1",
        "DossierProcessingStarted.v1": "ProcessingStarted.v1",
        "DossierSupplementRequested.v1": "SupplementRequested.v1",
        "DossierSupplementReceived.v1": "SupplementReceived.v1",
        "DossierPaymentRequested.v1": "FinancialObligationRequested.v1",
        "DossierFeePaid.v1": "FeePaid.v1",
        "DossierSubmittedForApproval.v1": "DraftResultSubmittedForApproval.v1",
        "DossierApprovalReturned.v1": "DraftReturnedForRevision.v1",
        "DossierDeadlineApproaching.v1": "DeadlineApproaching.v1",
        "DossierDeadlineBreached.v1": "DeadlineBreached.v1",
        "DossierApologyIssued.v1": "DelayApologyIssued.v1",
        "DossierWithdrawalRequested.v1": "WithdrawalRequested.v1",
        "DossierResultReturned.v1": "ResultReturned.v1",
    ]

    /// Today's name of a stored type (a former name mapped; any other unchanged).
    public static func currentName(of type: String) -> String { formerNames[type] ?? type }

    /// Decodes a stored event; `personal` is `nil` after an erasure (the applicant then reads as erased).
    public init(type: String, facts: [UInt8], personal: [UInt8]?) throws(Facts.DecodingError) {
        let decoded = facts.withUnsafeBytes { buffer in
            Result { () throws(Facts.DecodingError) -> DossierEvent in
                try DossierEvent.decode(type, Facts.Reader(buffer), personal)
            }
        }
        self = try decoded.get()
    }

    private static func decode(_ stored: String, _ r: Facts.Reader, _ personal: [UInt8]?) throws(Facts.DecodingError)
        -> DossierEvent
    {
        let type = currentName(of: stored)
        switch type {
        case "DossierSubmitted.v1":
            var name = "", id = "", phone: String?
            if let personal {
                let people = personal.withUnsafeBytes { buffer in
                    Result { () throws(Facts.DecodingError) in
                        let p = try Facts.Reader(buffer)
                        return (try p.string("applicantName"), try p.string("applicantID"),
                                try p.optionalString("applicantPhone"))
                    }
                }
                (name, id, phone) = try people.get()
            }
            var attachments = [Attachment]()
            if r.contains("attachments") {
                for m in try r.maps("attachments") {
                    attachments.append(Attachment(component: try m.string("component"), fileRef: try m.string("fileRef"),
                                                  sha256: try m.string("sha256")))
                }
            }
            let returnMethod = try r.optionalInt("returnMethod").map { (n) throws(Facts.DecodingError) -> Channel in
                guard let c = Channel(rawValue: Int(n)) else { throw Facts.DecodingError(what: "returnMethod", offset: 0) }
                return c
            }
            guard let channel = Channel(rawValue: Int(try r.int("channel"))) else {
                throw Facts.DecodingError(what: "channel", offset: 0)
            }
            return .submitted(Submitted(
                procedureCode: try r.string("procedure"), procedureVersion: Int(try r.int("procedureVersion")),
                fieldCode: try r.string("field"), agencyID: try r.string("agency"), channel: channel,
                urgent: try r.bool("urgent") ?? false, at: try r.instant("at"), applicantName: name, applicantID: id,
                applicantPhone: phone, attachments: attachments, returnMethod: returnMethod))
        case "IntakeRefused.v1":
            let code = try r.optionalChoice("reasonCode", IntakeRefusalCode.self)
            return .intakeRefused(reason: try Self.moved(r, personal, "reason") ?? "", at: try r.instant("at"), code: code,
                                  legalBasis: try r.optionalString("legalBasis"), slipRef: try r.optionalString("slipRef"))
        case "DossierReceived.v1":
            return .received(Received(
                receiptCode: try r.string("receiptCode"), at: try r.instant("at"),
                clockStartAt: try r.instant("clockStartAt"), dueAt: try r.instant("dueAt"),
                durationMinutes: try r.optionalInt("durationMinutes").map(Int.init),
                calendarVersion: Int(try r.int("calendarVersion")), unit: try r.optionalString("unit"),
                components: r.contains("components") ? try r.strings("components") : [],
                securityLevel: try r.optionalChoice("securityLevel", SecurityLevel.self),
                slipRef: try r.optionalString("slipRef")))
        case "IntakeSupplementRequested.v1":
            return .intakeSupplementRequested(items: try r.strings("items"), at: try r.instant("at"),
                                              slipRef: try r.optionalString("slipRef"))
        case "DossierTransferred.v1":
            return .transferred(toUnit: try r.string("toUnit"), at: try r.instant("at"),
                                fromUnit: try r.optionalString("fromUnit"),
                                handedOverAt: r.contains("handedOverAt") ? try r.instant("handedOverAt") : nil,
                                controlSheetEntry: try r.optionalInt("controlSheetEntry").map(Int.init))
        case "FinancialObligationRequested.v1":
            var items = [ProcedureVersion.Fee]()
            if r.contains("items") {
                for m in try r.maps("items") { items.append(.init(code: try m.string("code"), amount: try m.int("amount"))) }
            }
            return .paymentRequested(amount: try r.int("amount"), items: items, at: try r.instant("at"))
        case "FeePaid.v1":
            return .feePaid(amount: try r.int("amount"), online: try r.bool("online") ?? false, at: try r.instant("at"))
        case "DraftResultSubmittedForApproval.v1":
            guard let outcome = ProposedOutcome(rawValue: try r.string("outcome")) else {
                throw Facts.DecodingError(what: "outcome", offset: 0)
            }
            return .submittedForApproval(approvalID: try r.uuid("approval"), draftSha256: try r.string("draftSha256"),
                                         outcome: outcome, at: try r.instant("at"))
        case "DraftReturnedForRevision.v1":
            return .approvalReturned(approvalID: try r.uuid("approval"), rejected: try r.bool("rejected") ?? false,
                                     at: try r.instant("at"))
        case "DeadlineApproaching.v1":
            return .deadlineApproaching(dueAt: try r.instant("dueAt"), remainingMinutes: Int(try r.int("remainingMinutes")),
                                        at: try r.instant("at"))
        case "DeadlineBreached.v1": return .deadlineBreached(dueAt: try r.instant("dueAt"), at: try r.instant("at"))
        case "DossierAssigned.v1":
            // Without a role (older events, and MAIN ones) it is the main assignment.
            let role = try r.optionalChoice("role", AssignmentRole.self) ?? .main
            if role != .main {
                return .supportAssigned(person: try r.string("assignee"), role: role, by: try r.string("by"),
                                        note: try Self.moved(r, personal, "note"), at: try r.instant("at"))
            }
            return .assigned(assignee: try r.string("assignee"), by: try r.string("by"), at: try r.instant("at"),
                             details: .init(stepDueAt: r.contains("stepDueAt") ? try r.instant("stepDueAt") : nil,
                                            note: try Self.moved(r, personal, "note"),
                                            assigneeOnLeave: try r.bool("assigneeOnLeave") ?? false))
        case "DossierReassigned.v1":
            return .reassigned(from: try r.string("fromAssignee"), to: try r.string("toAssignee"), by: try r.string("by"),
                               reason: try Self.moved(r, personal, "reason") ?? "", at: try r.instant("at"))
        case "ProcessingStarted.v1": return .processingStarted(by: try r.string("by"), at: try r.instant("at"))
        case "DossierSecondSupplementApproved.v1":
            return .secondSupplementApproved(by: try r.string("by"), at: try r.instant("at"))
        case "SupplementRequested.v1":
            guard case .array(let items)? = try r.value("items") else { throw Facts.DecodingError(what: "items", offset: 0) }
            return .supplementRequested(
                items: items.compactMap { if case .string(let s) = $0 { s } else { nil } },
                ordinal: Int(try r.int("ordinal")), secondRequest: try r.bool("secondRequest") ?? false,
                at: try r.instant("at"), reason: personal == nil ? nil : try personalText(personal, "reason"),
                contactVia: try r.optionalString("contactVia").flatMap(ContactChannel.init(rawValue:)))
        case "SupplementReceived.v1":
            return .supplementReceived(at: try r.instant("at"), pausedMinutes: Int(try r.int("pausedMinutes")),
                                       newDueAt: try r.instant("newDueAt"),
                                       receivedVia: try r.optionalInt("receivedVia").flatMap { Channel(rawValue: Int($0)) })
        case "DossierResolved.v1":
            return .resolved(resultNumber: try r.string("resultNumber"), at: try r.instant("at"),
                             signature: try Signature.read(r), documentRef: try r.optionalString("resultDocRef"),
                             eResultLink: personal == nil ? nil : try personalText(personal, "eResultLink"))
        case "DossierRefused.v1":
            // The reasons are personal; refusals recorded before kept them in the facts; erased, there are none.
            let reasons: [String]
            if let personal {
                reasons = try Facts.decode(personal) { p throws(Facts.DecodingError) in try p.strings("reasons") }
            } else {
                reasons = r.contains("reasons") ? try r.strings("reasons") : []
            }
            return .refused(reasons: reasons, at: try r.instant("at"), signature: try Signature.read(r))
        case "DelayApologyIssued.v1":
            return .apologyIssued(newAppointmentAt: try r.instant("newAppointmentAt"), signedBy: try r.string("signedBy"),
                                  at: try r.instant("at"),
                                  previousDueAt: r.contains("previousDueAt") ? try r.instant("previousDueAt") : nil,
                                  // (Slips recorded before the reason became personal kept it in the facts.)
                                  reason: personal == nil ? try r.optionalString("reason") : try personalText(personal, "reason"),
                                  slipRef: try r.optionalString("slipRef"))
        case "DossierWithdrawn.v1":
            return .withdrawn(reason: try Self.moved(r, personal, "reason") ?? "", at: try r.instant("at"))
        case "WithdrawalRequested.v1":
            return .withdrawalRequested(reason: try Self.moved(r, personal, "reason") ?? "", at: try r.instant("at"))
        case "ResultReturned.v1":
            guard let method = Channel(rawValue: Int(try r.int("method"))) else {
                throw Facts.DecodingError(what: "method", offset: 0)
            }
            return .resultReturned(method: method, trackingNumber: try r.optionalString("postalTrackingNo"),
                                   at: try r.instant("at"),
                                   recipient: personal == nil ? nil : try personalText(personal, "recipient"))
        case "DossierApprovalWithdrawn.v1":
            return .approvalWithdrawn(approvalID: try r.uuid("approval"), at: try r.instant("at"))
        case "ProcessingNoteAdded.v1":
            return .noteAdded(by: try r.string("by"), note: try personalText(personal, "note"), at: try r.instant("at"))
        case "InterAgencyConsultationSent.v1":
            return .consultationSent(consultation: try r.uuid("consultation"), toAgency: try r.string("toAgency"),
                                     question: try personalText(personal, "question"), dueAt: try r.instant("dueAt"),
                                     at: try r.instant("at"))
        case "InterAgencyConsultationAnswered.v1":
            return .consultationAnswered(consultation: try r.uuid("consultation"), answerRef: try r.string("answerRef"),
                                         at: try r.instant("at"))
        case "PostalDelivered.v1": return .postalDelivered(at: try r.instant("at"))
        case "CitizenFeedbackRecorded.v1":
            let comment = try personalText(personal, "comment")
            return .feedbackRecorded(score: Int(try r.int("score")), criteria: try r.strings("criteria"),
                                     comment: comment.isEmpty ? nil : comment, at: try r.instant("at"))
        default:
            throw Facts.DecodingError(what: "unknown dossier event type \(type)", offset: 0)
        }
    }
}
