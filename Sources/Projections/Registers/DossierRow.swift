public import Ledger

/// One dossier as the read side keeps it (the dossier register's row): what queues, statistics, the apology
/// register, evaluations and the heads' accountability are computed from. Instants are domain time (UTC seconds).
public struct DossierRow: Hashable, Sendable {
    public var id = ""
    public var agency = ""
    /// The unit holding it (the desk, then the processing unit).
    public var unit = ""
    public var assignee = ""
    /// Assignments in order: who, and from when (who held it when its deadline passed).
    public var assignments: [String] = []
    public var assignedAt: [Int64] = []
    public var status: DossierStatus = .submitted
    /// How processing ended: resolved, refused, withdrawn, intakeRefused ("" while open); kept after the result
    /// is returned.
    public var outcome = ""
    public var procedure = ""
    public var field = ""
    public var channel: Channel = .online
    public var receiptCode = ""
    public var submittedAt: Int64 = 0
    public var receivedAt: Int64?
    public var dueAt: Int64?
    public var appointmentAt: Int64?
    public var finishedAt: Int64?
    public var returnedAt: Int64?
    public var calendarVersion = 0
    public var supplements = 0
    /// When the open supplementation request was made.
    public var pausedSince: Int64?
    public var apologyAt: Int64?
    public var apologyBy = ""
    public var revisions = 0
    public var feeRequested = false
    public var paidOnline = false
    public var breachRecorded = false
    /// Personal: dropped when the subject is erased.
    public var applicantName = ""
    public var subject = ""

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
        return w.finish()
    }

    /// Reads stored bytes.
    public init(bytes: UnsafeRawBufferPointer) throws(Facts.DecodingError) {
        let r = try Facts.Reader(bytes)
        id = try r.string("id")
        agency = try r.string("agency")
        unit = try r.string("unit")
        assignee = try r.string("assignee")
        assignments = try r.strings("assignments")
        if case .array(let items)? = try r.value("assignedAt") {
            assignedAt = items.compactMap { if case .instant(let t) = $0 { t } else { nil } }
        }
        guard let s = DossierStatus(rawValue: try r.string("status")),
              let c = Channel(rawValue: Int(try r.int("channel")))
        else { throw Facts.DecodingError(what: "status or channel", offset: 0) }
        status = s
        channel = c
        outcome = try r.string("outcome")
        procedure = try r.string("procedure")
        field = try r.string("field")
        receiptCode = try r.string("receiptCode")
        submittedAt = try r.instant("submittedAt")
        func optional(_ key: String) throws(Facts.DecodingError) -> Int64? {
            r.contains(key) ? try r.instant(key) : nil
        }
        receivedAt = try optional("receivedAt")
        dueAt = try optional("dueAt")
        appointmentAt = try optional("appointmentAt")
        finishedAt = try optional("finishedAt")
        returnedAt = try optional("returnedAt")
        pausedSince = try optional("pausedSince")
        apologyAt = try optional("apologyAt")
        calendarVersion = Int(try r.int("calendarVersion"))
        supplements = Int(try r.int("supplements"))
        apologyBy = try r.string("apologyBy")
        revisions = Int(try r.int("revisions"))
        feeRequested = try r.bool("feeRequested") ?? false
        paidOnline = try r.bool("paidOnline") ?? false
        breachRecorded = try r.bool("breachRecorded") ?? false
        applicantName = try r.string("applicantName")
        subject = try r.string("subject")
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
