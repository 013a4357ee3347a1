public import Ledger

/// One dossier as the read side keeps it (the dossier register's row): what queues, statistics, the apology
/// register, evaluations and the heads' accountability are computed from. Instants are domain time (UTC seconds).
public struct DossierRow: Hashable, Sendable {
    /// Its id.
    public var id = ""
    /// The agency's id.
    public var agency = ""
    /// The unit holding it (the desk, then the processing unit).
    public var unit = ""
    /// The staff id of the official who holds it ("" when nobody).
    public var assignee = ""
    /// Assignments in order: who, and from when (who held it when its deadline passed).
    public var assignments: [String] = []
    /// The assigned at.
    public var assignedAt: [Int64] = []
    /// Where it stands.
    public var status: DossierStatus = .submitted
    /// How processing ended: resolved, refused, withdrawn, intakeRefused ("" while open); kept after the result
    /// is returned.
    public var outcome = ""
    /// The procedure code.
    public var procedure = ""
    /// The field (sector) code.
    public var field = ""
    /// How it reached the desk.
    public var channel: Channel = .online
    /// The receipt code `<agency>-<yyMMdd>-<seq>`.
    public var receiptCode = ""
    /// When it was submitted (UTC seconds).
    public var submittedAt: Int64 = 0
    /// When the clock started (UTC seconds).
    public var receivedAt: Int64?
    /// The statistical due instant (moved only by supplementation pauses).
    public var dueAt: Int64?
    /// The citizen's appointment (moved by an apology).
    public var appointmentAt: Int64?
    /// When processing finished, if it has.
    public var finishedAt: Int64?
    /// When the result was handed back.
    public var returnedAt: Int64?
    /// The calendar version it was received under.
    public var calendarVersion = 0
    /// Supplementation requests so far.
    public var supplements = 0
    /// When the open supplementation request was made.
    public var pausedSince: Int64?
    /// When an apology was issued.
    public var apologyAt: Int64?
    /// Who signed the apology.
    public var apologyBy = ""
    /// Drafts returned for revision.
    public var revisions = 0
    /// Whether a fee was requested.
    public var feeRequested = false
    /// Whether the fee was paid online.
    public var paidOnline = false
    /// Whether the scheduler recorded the deadline breach.
    public var breachRecorded = false
    /// Personal: dropped when the subject is erased.
    public var applicantName = ""
    /// The applicant's pseudonymous data-subject id.
    public var subject = ""
    /// The grading of state-secret material, when the desk gave one.
    public var securityLevel: SecurityLevel?

    /// An empty row.
    public init() {}

    /// Who held the dossier at `instant` (the last assignment before it), or "" when nobody did.
    public func holder(at instant: Int64) -> String {
        Array(zip(assignments, assignedAt)).last { $0.1 <= instant }?.0 ?? ""
    }

    /// Whether Decision 766 counts it overdue however it ends: more than one supplementation request.
    public var secondSupplement: Bool { supplements > 1 }

    // MARK: - Encoding (facts v1, fixed field order: the digest depends on it)

    /// The stored bytes.
    public var encoded: [UInt8] {
        var w = Facts.Writer()
        w.field("id", id)
        w.field("agency", agency)
        w.field("unit", unit)
        w.field("assignee", assignee)
        w.field("assignments", assignments)
        w.field("assignedAt", value: .array(assignedAt.map { .instant($0) }))
        w.field("status", status.rawValue)
        w.field("outcome", outcome)
        w.field("procedure", procedure)
        w.field("field", field)
        w.field("channel", channel.rawValue)
        w.field("receiptCode", receiptCode)
        w.field("submittedAt", instant: submittedAt)
        for (key, value) in [("receivedAt", receivedAt), ("dueAt", dueAt), ("appointmentAt", appointmentAt),
                             ("finishedAt", finishedAt), ("returnedAt", returnedAt), ("pausedSince", pausedSince),
                             ("apologyAt", apologyAt)] {
            if let value { w.field(key, instant: value) }
        }
        w.field("calendarVersion", calendarVersion)
        w.field("supplements", supplements)
        w.field("apologyBy", apologyBy)
        w.field("revisions", revisions)
        w.field("feeRequested", feeRequested)
        w.field("paidOnline", paidOnline)
        w.field("breachRecorded", breachRecorded)
        w.field("applicantName", applicantName)
        w.field("subject", subject)
        // Only when set, so the rows of ungraded dossiers (and the digest over them) stay as they were.
        if let securityLevel { w.field("securityLevel", securityLevel.rawValue) }
        return w.finish()
    }

    /// Reads stored bytes in one pass over the fields (the fold reads a row per event).
    public init(bytes: UnsafeRawBufferPointer) throws(Facts.DecodingError) {
        var status: DossierStatus?
        var channel: Channel?
        for (key, value) in try Facts.Reader(bytes).entries() {
            switch (key, value) {
            case ("id", .string(let v)): id = v
            case ("agency", .string(let v)): agency = v
            case ("unit", .string(let v)): unit = v
            case ("assignee", .string(let v)): assignee = v
            case ("assignments", .array(let items)):
                assignments = items.compactMap { if case .string(let s) = $0 { s } else { nil } }
            case ("assignedAt", .array(let items)):
                assignedAt = items.compactMap { if case .instant(let t) = $0 { t } else { nil } }
            case ("status", .string(let v)): status = DossierStatus(rawValue: v)
            case ("outcome", .string(let v)): outcome = v
            case ("procedure", .string(let v)): procedure = v
            case ("field", .string(let v)): field = v
            case ("channel", .int(let v)): channel = Channel(rawValue: Int(v))
            case ("receiptCode", .string(let v)): receiptCode = v
            case ("submittedAt", .instant(let v)): submittedAt = v
            case ("receivedAt", .instant(let v)): receivedAt = v
            case ("dueAt", .instant(let v)): dueAt = v
            case ("appointmentAt", .instant(let v)): appointmentAt = v
            case ("finishedAt", .instant(let v)): finishedAt = v
            case ("returnedAt", .instant(let v)): returnedAt = v
            case ("pausedSince", .instant(let v)): pausedSince = v
            case ("apologyAt", .instant(let v)): apologyAt = v
            case ("calendarVersion", .int(let v)): calendarVersion = Int(v)
            case ("supplements", .int(let v)): supplements = Int(v)
            case ("apologyBy", .string(let v)): apologyBy = v
            case ("revisions", .int(let v)): revisions = Int(v)
            case ("feeRequested", .bool(let v)): feeRequested = v
            case ("paidOnline", .bool(let v)): paidOnline = v
            case ("breachRecorded", .bool(let v)): breachRecorded = v
            case ("applicantName", .string(let v)): applicantName = v
            case ("subject", .string(let v)): subject = v
            case ("securityLevel", .string(let v)):
                guard let level = SecurityLevel(rawValue: v) else {
                    throw Facts.DecodingError(what: "dossier row securityLevel \(v)", offset: 0)
                }
                securityLevel = level
            default: throw Facts.DecodingError(what: "dossier row field \(key)", offset: 0)
            }
        }
        guard let status, let channel else { throw Facts.DecodingError(what: "dossier row status or channel", offset: 0) }
        self.status = status
        self.channel = channel
    }

    /// Reads stored bytes.
    public init(bytes: [UInt8]) throws(Facts.DecodingError) {
        let result = bytes.withUnsafeBytes { b in Result { () throws(Facts.DecodingError) in try DossierRow(bytes: b) } }
        self = try result.get()
    }

    /// The queue tab of its status (domain.md §4.1).
    public var tab: QueueTab {
        switch status {
        case .submitted, .received, .assigned: .new
        case .inProcess: .processing
        case .awaitingSupplement: .awaitingSupplement
        case .awaitingPayment: .awaitingPayment
        case .pendingApproval: .awaitingApproval
        case .resolved, .refused: .awaitingReturn
        case .withdrawn, .intakeRefused: .stopped
        case .returned: .returned
        }
    }
}

/// The tabs of the work queues, as the vendors' systems show them (domain.md §4.1).
public enum QueueTab: String, Hashable, Sendable, CaseIterable {
    case new, processing, awaitingSupplement, awaitingPayment, awaitingApproval, awaitingReturn, stopped, returned
}
