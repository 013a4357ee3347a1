public import Foundation

extension ApprovalEvent {
    /// The stored type.
    public var type: String {
        switch self {
        case .requested: "ApprovalRequested.v1"
        case .stepApproved: "ApprovalStepApproved.v1"
        case .returnedForRevision: "ApprovalReturnedForRevision.v1"
        case .resubmitted: "ApprovalRevisionResubmitted.v1"
        case .rejected: "ApprovalRejected.v1"
        case .signed, .sealed: "DocumentDigitallySigned.v1"
        case .numbered: "DocumentNumbered.v1"
        case .issued: "DocumentIssued.v1"
        case .withdrawn: "ApprovalWithdrawn.v1"
        case .rerouted: "ApprovalChainRerouted.v1"
        }
    }

    /// Whether the event records someone's free text (which, for a dossier's draft, is personal data).
    public var carriesFreeText: Bool {
        switch self {
        case .stepApproved(_, _, _, _, let comment): comment != nil
        case .returnedForRevision, .rejected, .withdrawn: true
        case .resubmitted(_, _, let note, _): note != nil
        default: false
        }
    }

    /// As a new event; a request names the subject's stream (e.g. the dossier's). With `dataSubject` (the
    /// applicant of the dossier the draft decides) the approvers' and the submitter's free text — a comment, the
    /// comments of a return or a rejection, a change note, a withdrawal's reason — goes into the personal part
    /// under that subject, since it may speak of the applicant; an erasure then takes it.
    public func new(subject: String? = nil, dataSubject: UUID? = nil) -> NewEvent {
        var w = Facts.Writer()
        var p = Facts.Writer()
        var hasText = false
        func text(_ key: String, _ value: String) {
            hasText = true
            if dataSubject == nil { w.field(key, value) } else { p.field(key, value) }
        }
        func texts(_ key: String, _ values: [String]) {
            hasText = true
            if dataSubject == nil { w.field(key, values) } else { p.field(key, values) }
        }
        switch self {
        case .requested(let submitter, let processors, let chain, let sha, let at, let kind, let level):
            if let subject { w.field("subject", subject) }
            if kind != .dossierResult { w.field("subjectType", kind.rawValue) }
            if let level { w.field("securityLevel", level.rawValue) }
            w.field("submitter", submitter)
            w.field("processors", processors)
            w.field("chain", chain)
            w.field("draftSha256", sha)
            w.field("at", instant: at)
        case .stepApproved(let level, let approver, let capacity, let at, let comment):
            w.field("level", level)
            w.field("approver", approver)
            if let capacity { w.field("capacity", capacity.rawValue) }
            w.field("at", instant: at)
            if let comment { text("comment", comment) }
        case .returnedForRevision(let level, let approver, let notes, let at),
             .rejected(let level, let approver, let notes, let at):
            w.field("level", level)
            w.field("approver", approver)
            texts("comments", notes)
            w.field("at", instant: at)
        case .resubmitted(let sha, let at, let note, let restart):
            w.field("draftSha256", sha)
            w.field("at", instant: at)
            if let note { text("changeNote", note) }
            if restart != 1 { w.field("restartLevel", restart) }
        case .signed(let signer, let capacity, let sha, let at, let certificate):
            w.field("signer", signer)
            w.field("signatureType", "PERSONAL")
            if let capacity { w.field("capacity", capacity.rawValue) }
            w.field("signedSha256", sha)
            w.field("at", instant: at)
            Self.write(certificate, &w)
        case .sealed(let by, let sha, let certificate, let at):
            w.field("signer", by)
            w.field("signatureType", "ORGANIZATION")
            w.field("signedSha256", sha)
            w.field("at", instant: at)
            Self.write(certificate, &w)
        case .numbered(let register, let number, let symbol, let date, let by, let at):
            w.field("register", register)
            w.field("number", number)
            w.field("symbol", symbol)
            w.field("issueDate", date.description)
            w.field("by", by)
            w.field("at", instant: at)
        case .issued(let recipients, let channel, let late, let by, let at):
            w.field("recipients", recipients)
            w.field("channel", channel.rawValue)
            w.field("late", late)
            w.field("by", by)
            w.field("at", instant: at)
        case .withdrawn(let reason, let by, let at):
            text("reason", reason)
            w.field("by", by)
            w.field("at", instant: at)
        case .rerouted(let level, let from, let to, let by, let at):
            w.field("level", level)
            w.field("from", from)
            w.field("to", to)
            w.field("by", by)
            w.field("at", instant: at)
        }
        guard let dataSubject, hasText else { return NewEvent(type, w) }
        return NewEvent(type: type, facts: w.finish(), personal: p.finish(), subject: dataSubject)
    }

    /// Decodes a stored approval event (and the subject a request names), or `nil` for another type. Free text is
    /// read from the facts (events of outgoing documents, and those recorded before it moved), else from the
    /// `personal` part; without it (erased, or not read) it is empty.
    public static func decode(type: String, facts: [UInt8], personal: [UInt8]? = nil) throws(Facts.DecodingError)
        -> (event: ApprovalEvent, subject: String?)?
    {
        try Facts.decode(facts) { r throws(Facts.DecodingError) -> (ApprovalEvent, String?)? in
            func text(_ key: String) throws(Facts.DecodingError) -> String? {
                if r.contains(key) { return try r.optionalString(key) }
                guard let personal else { return nil }
                return try Facts.decode(personal) { p throws(Facts.DecodingError) in try p.optionalString(key) }
            }
            func texts(_ key: String) throws(Facts.DecodingError) -> [String] {
                if r.contains(key) { return try r.strings(key) }
                guard let personal else { return [] }
                return try Facts.decode(personal) { p throws(Facts.DecodingError) in
                    p.contains(key) ? try p.strings(key) : []
                }
            }
            switch type {
            case "ApprovalRequested.v1":
                // Without a subjectType (older events, and dossiers' drafts) the subject is a dossier's result.
                let kind = try r.optionalChoice("subjectType", Delegation.Subject.self) ?? .dossierResult
                return (.requested(submitter: try r.string("submitter"), processors: try r.strings("processors"),
                                   chain: try r.strings("chain"), draftSha256: try r.string("draftSha256"),
                                   at: try r.instant("at"), kind: kind,
                                   securityLevel: try r.optionalChoice("securityLevel", SecurityLevel.self)),
                        try r.optionalString("subject"))
            case "ApprovalStepApproved.v1":
                return (.stepApproved(level: Int(try r.int("level")), approver: try r.string("approver"),
                                      capacity: try r.optionalString("capacity").flatMap(Delegation.Capacity.init),
                                      at: try r.instant("at"), comment: try text("comment")), nil)
            case "ApprovalReturnedForRevision.v1":
                return (.returnedForRevision(level: Int(try r.int("level")), approver: try r.string("approver"),
                                             comments: try texts("comments"), at: try r.instant("at")), nil)
            case "ApprovalRejected.v1":
                return (.rejected(level: Int(try r.int("level")), approver: try r.string("approver"),
                                  reasons: try texts("comments"), at: try r.instant("at")), nil)
            case "ApprovalRevisionResubmitted.v1":
                return (.resubmitted(draftSha256: try r.string("draftSha256"), at: try r.instant("at"),
                                     changeNote: try text("changeNote"),
                                     restartLevel: Int(try r.optionalInt("restartLevel") ?? 1)), nil)
            case "DocumentDigitallySigned.v1":
                // Without a signatureType (older events) it is the personal signature.
                let certificate = try Self.readCertificate(r)
                let signatureType = try r.optionalString("signatureType") ?? "PERSONAL"
                guard ["PERSONAL", "ORGANIZATION"].contains(signatureType) else {
                    throw Facts.DecodingError(what: "signatureType \(signatureType)", offset: 0)
                }
                if signatureType == "ORGANIZATION" {
                    return (.sealed(by: try r.string("signer"), signedSha256: try r.string("signedSha256"),
                                    certificate: certificate, at: try r.instant("at")), nil)
                }
                return (.signed(signer: try r.string("signer"),
                                capacity: try r.optionalString("capacity").flatMap(Delegation.Capacity.init),
                                signedSha256: try r.string("signedSha256"), at: try r.instant("at"),
                                certificate: certificate), nil)
            case "DocumentNumbered.v1":
                guard let date = CivilDate(try r.string("issueDate")) else {
                    throw Facts.DecodingError(what: "issueDate", offset: 0)
                }
                return (.numbered(register: try r.string("register"), number: Int(try r.int("number")),
                                  symbol: try r.string("symbol"), issueDate: date, by: try r.string("by"),
                                  at: try r.instant("at")), nil)
            case "DocumentIssued.v1":
                guard let channel = Approval.IssueChannel(rawValue: try r.string("channel")) else {
                    throw Facts.DecodingError(what: "channel", offset: 0)
                }
                return (.issued(recipients: try r.strings("recipients"), channel: channel,
                                late: try r.bool("late") ?? false, by: try r.string("by"), at: try r.instant("at")), nil)
            case "ApprovalWithdrawn.v1":
                return (.withdrawn(reason: try text("reason") ?? "", by: try r.string("by"), at: try r.instant("at")), nil)
            case "ApprovalChainRerouted.v1":
                let level = try r.int("level")
                guard level >= 1, level <= 1_000 else { throw Facts.DecodingError(what: "level \(level)", offset: 0) }
                return (.rerouted(level: Int(level), from: try r.string("from"), to: try r.string("to"),
                                  by: try r.string("by"), at: try r.instant("at")), nil)
            default: return nil
            }
        }
    }
}

extension ApprovalEvent {
    fileprivate static func write(_ certificate: Approval.Certificate?, _ w: inout Facts.Writer) {
        guard let certificate else { return }
        w.field("certSerial", certificate.serial)
        w.field("certIssuer", certificate.issuer)
        w.field("certValidFrom", instant: certificate.validFrom)
        w.field("certValidTo", instant: certificate.validTo)
    }

    fileprivate static func readCertificate(_ r: Facts.Reader) throws(Facts.DecodingError) -> Approval.Certificate? {
        guard r.contains("certSerial") else { return nil }
        return .init(serial: try r.string("certSerial"), issuer: try r.string("certIssuer"),
                     validFrom: try r.instant("certValidFrom"), validTo: try r.instant("certValidTo"))
    }
}

extension Delegation {
    /// The stream of the delegations a person gave.
    public static func stream(from person: String) -> String { "delegation-\(person)" }

    /// As a new event (`ApprovalDelegated.v1`, named `DelegationGranted.v1` by older stores; `delegation`,
    /// `subjects` and `documentRef` came later: a grant
    /// without them reads with the id of its event, every subject and no document).
    public var new: NewEvent {
        var w = Facts.Writer()
        w.field("delegation", id)
        if !subjects.isEmpty { w.field("subjects", subjects.map(\.rawValue).sorted()) }
        if let documentRef { w.field("documentRef", documentRef) }
        w.field("from", from)
        w.field("to", to)
        w.field("capacity", capacity.rawValue)
        w.field("validFrom", instant: validFrom)
        w.field("validTo", instant: validTo)
        w.field("at", instant: recordedAt)
        return NewEvent("ApprovalDelegated.v1", w)
    }

    /// A revocation of the delegation `id`, or of those from `from` to `to` in `capacity` (`DelegationRevoked.v1`):
    /// from `at` on they no longer cover anything (never retroactive).
    public static func revocation(id: UUID?, from: String, to: String, capacity: Capacity, by: String, at: Int64)
        -> NewEvent
    {
        var w = Facts.Writer()
        if let id { w.field("delegation", id) }
        w.field("from", from)
        w.field("to", to)
        w.field("capacity", capacity.rawValue)
        w.field("by", by)
        w.field("at", instant: at)
        return NewEvent("DelegationRevoked.v1", w)
    }

    /// Folds one event of a `delegation-<from>` stream into the delegations it gave: a grant adds one, a revocation
    /// ends the matching ones at its instant (one that had not started yet is dropped).
    public static func apply(_ type: String, _ facts: [UInt8], to list: [Delegation], eventID: UUID)
        throws(Facts.DecodingError) -> [Delegation]
    {
        guard type == "DelegationRevoked.v1" else { return list + [try Delegation(facts: facts, eventID: eventID)] }
        let (id, to, capacity, at) = try Facts.decode(facts) { r throws(Facts.DecodingError) in
            (r.contains("delegation") ? try r.uuid("delegation") : nil, try r.string("to"), try r.string("capacity"),
             try r.instant("at"))
        }
        return list.compactMap { d in
            let named = id.map { $0 == d.id } ?? (d.to == to && d.capacity.rawValue == capacity)
            guard named, d.validTo > at else { return d }
            guard d.validFrom < at else { return nil }
            var ended = d
            ended.validTo = at - 1  // `covers` includes validTo: nothing at or after the revocation
            return ended
        }
    }

    /// Decodes a stored delegation (`eventID` names one recorded before delegations had ids).
    public init(facts: [UInt8], eventID: UUID) throws(Facts.DecodingError) {
        self = try Facts.decode(facts) { r throws(Facts.DecodingError) in
            guard let capacity = Capacity(rawValue: try r.string("capacity")) else {
                throw Facts.DecodingError(what: "capacity", offset: 0)
            }
            var subjects = Set<Subject>()
            if r.contains("subjects") {
                for name in try r.strings("subjects") {
                    guard let subject = Subject(rawValue: name) else { throw Facts.DecodingError(what: "subject", offset: 0) }
                    subjects.insert(subject)
                }
            }
            return Delegation(id: r.contains("delegation") ? try r.uuid("delegation") : eventID,
                              from: try r.string("from"), to: try r.string("to"), capacity: capacity,
                              validFrom: try r.instant("validFrom"), validTo: try r.instant("validTo"),
                              recordedAt: try r.instant("at"), subjects: subjects,
                              documentRef: try r.optionalString("documentRef"))
        }
    }
}
