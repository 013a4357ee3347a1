import Foundation

/// An approval of a draft (stream `approval-<id>`): a chain of levels resolved from the org chart, four eyes at
/// every level, returns for revision, rejection, the signature over the approved draft's hash, then the document's
/// number in its register and its issue; the submitter may withdraw it before a final decision.
public struct Approval: Hashable, Sendable {
    /// Where it stands.
    public enum Status: String, Hashable, Sendable { case pending, returned, approved, rejected, signed, withdrawn }

    /// The certificate a digital signature was made with (domain.md §3.3).
    public struct Certificate: Hashable, Sendable {
        /// Its serial number.
        public var serial: String
        /// Who issued it (a licensed certification authority).
        public var issuer: String
        /// Valid from.
        public var validFrom: Int64
        /// Valid to.
        public var validTo: Int64

        /// A certificate.
        public init(serial: String, issuer: String, validFrom: Int64, validTo: Int64) {
            self.serial = serial
            self.issuer = issuer
            self.validFrom = validFrom
            self.validTo = validTo
        }
    }

    /// How a signed document goes out (domain.md §3.3 `DocumentIssued.channel`).
    public enum IssueChannel: String, Hashable, Sendable, CaseIterable {
        /// The e-document interconnection between agencies.
        case edoc = "EDOC"
        /// Public postal service.
        case post = "POST"
        /// The public-service portal.
        case portal = "PORTAL"
    }

    /// Where it stands.
    public var status: Status?
    /// Who submitted the draft.
    public var submitter = ""
    /// The subject's processors and assignees (never approvers).
    public var processors: [String] = []
    /// The chain, level by level: the person holding each level.
    public var chain: [String] = []
    /// Levels approved so far.
    public var approvedLevels = 0
    /// The draft's SHA-256.
    public var draftSha256 = ""
    /// What is approved: a delegation acts here only if it covers this kind of subject.
    public var kind = Delegation.Subject.dossierResult
    /// When it was signed.
    public var signedAt: Int64?
    /// Who signed.
    public var signer: String?
    /// The level that last returned the draft.
    public var returnedAtLevel = 1
    /// Whether the clerk added the organisation's signature after the personal one.
    public var sealed = false
    /// The document's number in its register, once numbered.
    public var number: Int?
    /// Whether the document was issued.
    public var issued = false
    /// The draft's grading, when it is state-secret material.
    public var securityLevel: SecurityLevel?
    /// Who approved each level standing (holders or delegates): nobody decides two levels of one approval.
    public var approvedBy: [Int: String] = [:]

    /// Everyone whose approval of a level stands.
    public var approvers: Set<String> { Set(approvedBy.values) }

    /// Creates one.
    public init() {}

    public static func evolve(_ state: Approval, _ event: ApprovalEvent) -> Approval {
        var a = state
        switch event {
        case .requested(let submitter, let processors, let chain, let sha, _, let kind, let level):
            a.status = .pending
            a.kind = kind
            a.securityLevel = level
            a.submitter = submitter
            a.processors = processors
            a.chain = chain
            a.draftSha256 = sha
            a.approvedLevels = 0
        case .stepApproved(let level, let approver, _, _, _):
            a.approvedLevels = level
            a.approvedBy[level] = approver
            if level == a.chain.count { a.status = .approved }
        case .returnedForRevision(let level, _, _, _):
            a.status = .returned
            a.returnedAtLevel = level
        case .resubmitted(let sha, _, _, let restart):
            a.status = .pending
            a.draftSha256 = sha
            a.approvedLevels = max(0, restart - 1)
            // The levels from the restart on are decided again: their approvals no longer stand.
            a.approvedBy = a.approvedBy.filter { $0.key < restart }
        case .rejected:
            a.status = .rejected
        case .sealed:
            a.sealed = true
        case .signed(let signer, _, _, let at, _):
            a.status = .signed
            a.signedAt = at
            a.signer = signer
        case .numbered(_, let number, _, _, _, _):
            a.number = number
        case .issued:
            a.issued = true
        case .withdrawn:
            a.status = .withdrawn
        case .rerouted(let level, _, let to, _, _):
            // (The decoder refuses a level outside the chain; a stray one changes nothing.)
            if a.chain.indices.contains(level - 1) { a.chain[level - 1] = to }
        }
        return a
    }
}

/// What happens to an approval.
public enum ApprovalEvent: Hashable, Sendable {
    /// Requested for a subject of `kind` (a dossier's result, or an outgoing document).
    /// `securityLevel`: a graded draft's steps are decided and signed on site.
    case requested(submitter: String, processors: [String], chain: [String], draftSha256: String, at: Int64,
                   kind: Delegation.Subject = .dossierResult, securityLevel: SecurityLevel? = nil)
    /// `capacity` when the approver acts for the chain holder under a delegation.
    case stepApproved(level: Int, approver: String, capacity: Delegation.Capacity?, at: Int64, comment: String? = nil)
    case returnedForRevision(level: Int, approver: String, comments: [String], at: Int64)
    /// A revised draft; the chain starts again at `restartLevel` (1, or the level that returned it), with the
    /// submitter's note of what changed.
    case resubmitted(draftSha256: String, at: Int64, changeNote: String? = nil, restartLevel: Int = 1)
    case rejected(level: Int, approver: String, reasons: [String], at: Int64)
    /// The personal signature of the final approver or a delegate, with the certificate used when given.
    case signed(signer: String, capacity: Delegation.Capacity?, signedSha256: String, at: Int64,
                certificate: Approval.Certificate? = nil)
    /// The organisation's signature (the agency's seal) the clerk adds after the personal one; stored as
    /// `DocumentDigitallySigned.v1` with signatureType ORGANIZATION.
    case sealed(by: String, signedSha256: String, certificate: Approval.Certificate?, at: Int64)
    /// The signed document's number in its register (gap-free per register and calendar year), with its symbol.
    case numbered(register: String, number: Int, symbol: String, issueDate: CivilDate, by: String, at: Int64)
    /// The numbered document sent out; `late` when after the end of the next working day after signing.
    case issued(recipients: [String], channel: Approval.IssueChannel, late: Bool, by: String, at: Int64)
    /// Taken back by its submitter before a final decision.
    case withdrawn(reason: String, by: String, at: Int64)
    /// A level not yet decided handed from a holder who left the service to another leader, by the agency head.
    case rerouted(level: Int, from: String, to: String, by: String, at: Int64)
}

/// What approvers ask of an approval.
public enum ApprovalCommand: Hashable, Sendable {
    case request(processors: [String], chain: [String], draftSha256: String, at: Int64,
                 kind: Delegation.Subject = .dossierResult, securityLevel: SecurityLevel? = nil)
    case approve(at: Int64, comment: String? = nil)
    case returnForRevision(comments: [String], at: Int64)
    /// `fromReturningLevel`: start again where the draft was returned (the levels below keep their approval) rather
    /// than at level 1.
    case resubmit(draftSha256: String, at: Int64, changeNote: String? = nil, fromReturningLevel: Bool = false)
    case reject(reasons: [String], at: Int64)
    case sign(signedSha256: String, at: Int64, certificate: Approval.Certificate? = nil)
    /// The organisation's signature after the personal one (the clerk).
    case seal(signedSha256: String, certificate: Approval.Certificate?, at: Int64)
    /// Numbers the signed document: `number` is its register's next (the caller reads the register).
    case number(register: String, number: Int, symbol: String, issueDate: CivilDate, at: Int64)
    /// Issues the numbered document; `deadline` is the end of the next working day after signing.
    case issue(recipients: [String], channel: Approval.IssueChannel, deadline: Int64, at: Int64)
    /// Withdraws the approval (its submitter, before a final decision).
    case withdraw(reason: String, at: Int64)
    /// Hands `level` to `to` (the agency head), when its holder is no longer on any staff (`holderOnStaff`), and `to`
    /// is a leader on the staff of the approval's agency (`toIsLeader`).
    case reroute(level: Int, to: String, holderOnStaff: Bool, toIsLeader: Bool, at: Int64)
}

extension Approval {
    /// Decides an approval command by `actor`, who may act for a chain holder under `delegations`; `onsite` says
    /// whether the actor checked in ONSITE today (a graded draft's steps and signature need it).
    public static func decide(_ state: Approval, _ command: ApprovalCommand, by actor: String,
                              delegations: [Delegation] = [], onsite: Bool = false) throws(LedgerError)
        -> [ApprovalEvent]
    {
        /// A graded draft is not submitted, decided or signed from home.
        func requireOnsite(_ act: String, _ level: SecurityLevel? = state.securityLevel) throws(LedgerError) {
            guard let level, !onsite else { return }
            throw LedgerError(.notPermitted, "the draft is graded \(level.rawValue): state-secret material is not "
                + "handled from home, so \(actor) must check in ONSITE today before they \(act) it")
        }
        /// The level the actor may act at now, and in which capacity.
        func standing(at instant: Int64) throws(LedgerError) -> (level: Int, capacity: Delegation.Capacity?) {
            guard state.status == .pending else {
                throw LedgerError(.invalidState, "the approval is \(state.status?.rawValue ?? "not requested")")
            }
            let level = state.approvedLevels + 1
            let holder = state.chain[level - 1]
            guard actor != state.submitter, !state.processors.contains(actor) else {
                throw LedgerError(.notPermitted, "four eyes: \(actor) submitted or processed this subject and cannot "
                    + "approve it")
            }
            if let earlier = state.approvedBy.first(where: { $0.value == actor && $0.key != level }) {
                throw LedgerError(.notPermitted, "four eyes: \(actor) already approved level \(earlier.key) of this "
                    + "approval and cannot decide level \(level) too")
            }
            var capacity: Delegation.Capacity?
            if actor != holder {
                guard let d = delegations.first(where: { $0.from == holder && $0.to == actor && $0.covers(instant, state.kind) })
                else {
                    throw LedgerError(.notPermitted, "level \(level) belongs to \(holder); \(actor) holds no delegation "
                        + "from them")
                }
                capacity = d.capacity
            }
            try requireOnsite("decide")
            return (level, capacity)
        }
        switch command {
        case .request(let processors, let chain, let sha, let at, let kind, let level):
            guard state.status == nil else { throw LedgerError(.invalidState, "the approval was already requested") }
            guard !chain.isEmpty, sha.count == 64, sha.allSatisfy(\.isHexDigit) else {
                throw LedgerError(.invalidCommand, "an approval needs a chain and the draft's SHA-256 (64 hex digits)")
            }
            if let conflict = chain.first(where: { $0 == actor || processors.contains($0) }) {
                throw LedgerError(.notPermitted, "four eyes: \(conflict) cannot approve a subject they submitted or "
                    + "processed; route the level to someone else")
            }
            guard kind == .dossierResult || kind == .outgoingDocument else {
                throw LedgerError(.invalidCommand, "an approval is for a dossier's result or an outgoing document")
            }
            try requireOnsite("submit", level)
            return [.requested(submitter: actor, processors: processors, chain: chain, draftSha256: sha, at: at,
                               kind: kind, securityLevel: level)]
        case .approve(let at, let comment):
            let (level, capacity) = try standing(at: at)
            guard (comment?.count ?? 0) <= 1_000 else { throw LedgerError(.invalidCommand, "a comment is at most 1000 characters") }
            return [.stepApproved(level: level, approver: actor, capacity: capacity, at: at, comment: comment)]
        case .returnForRevision(let comments, let at):
            let (level, _) = try standing(at: at)
            guard !comments.isEmpty else { throw LedgerError(.invalidCommand, "a return needs comments") }
            return [.returnedForRevision(level: level, approver: actor, comments: comments, at: at)]
        case .resubmit(let sha, let at, let note, let fromReturning):
            guard state.status == .returned else { throw LedgerError(.invalidState, "nothing was returned to resubmit") }
            guard actor == state.submitter else { throw LedgerError(.notPermitted, "only the submitter resubmits") }
            guard sha != state.draftSha256 else {
                throw LedgerError(.invalidCommand, "a revision must change the draft (its SHA-256 is unchanged)")
            }
            guard (note?.count ?? 0) <= 1_000 else { throw LedgerError(.invalidCommand, "a change note is at most 1000 characters") }
            try requireOnsite("resubmit")
            return [.resubmitted(draftSha256: sha, at: at, changeNote: note,
                                 restartLevel: fromReturning ? state.returnedAtLevel : 1)]
        case .reject(let reasons, let at):
            let (level, _) = try standing(at: at)
            guard !reasons.isEmpty else { throw LedgerError(.invalidCommand, "a rejection needs reasons") }
            return [.rejected(level: level, approver: actor, reasons: reasons, at: at)]
        case .seal(let sha, let certificate, let at):
            guard state.status == .signed else {
                throw LedgerError(.invalidState, "the organisation signs after the personal signature")
            }
            guard !state.sealed else { throw LedgerError(.invalidState, "the organisation's signature is already on it") }
            guard state.number == nil, !state.issued else {
                throw LedgerError(.invalidState, "the organisation signs before the document is numbered and issued")
            }
            guard sha == state.draftSha256 else {
                throw LedgerError(.invalidCommand, "the sealed document's SHA-256 is not the signed one's")
            }
            try requireOnsite("seal")
            try Self.checkCertificate(certificate, at: at)
            return [.sealed(by: actor, signedSha256: sha, certificate: certificate, at: at)]
        case .sign(let sha, let at, let certificate):
            try Self.checkCertificate(certificate, at: at)
            guard state.status == .approved else {
                throw LedgerError(.invalidState, "only an approved draft is signed (the approval is "
                    + "\(state.status?.rawValue ?? "not requested"))")
            }
            guard sha == state.draftSha256 else {
                throw LedgerError(.invalidCommand, "the signed document's SHA-256 is not the approved draft's")
            }
            let last = state.chain.last!
            guard actor != state.submitter, !state.processors.contains(actor) else {
                throw LedgerError(.notPermitted, "four eyes: \(actor) submitted or processed this subject and cannot sign it")
            }
            let delegation = delegations.first { $0.from == last && $0.to == actor && $0.covers(at, state.kind) }
            guard actor == last || delegation != nil
            else { throw LedgerError(.notPermitted, "the final approver \(last) (or a delegate) signs") }
            try requireOnsite("sign")
            return [.signed(signer: actor, capacity: actor == last ? nil : delegation?.capacity, signedSha256: sha, at: at,
                            certificate: certificate)]
        case .number(let register, let number, let symbol, let date, let at):
            guard state.status == .signed else {
                throw LedgerError(.invalidState, "only a signed document is numbered (the approval is "
                    + "\(state.status?.rawValue ?? "not requested"))")
            }
            guard state.number == nil else {
                throw LedgerError(.invalidState, "the document already has number \(state.number!)")
            }
            guard !symbol.isEmpty, symbol.count <= 40 else {
                throw LedgerError(.invalidCommand, "a document's symbol (e.g. QĐ-UBND) is 1–40 characters")
            }
            return [.numbered(register: register, number: number, symbol: symbol, issueDate: date, by: actor, at: at)]
        case .issue(let recipients, let channel, let deadline, let at):
            guard state.status == .signed, state.number != nil else {
                throw LedgerError(.invalidState, "a document is issued once signed and numbered")
            }
            guard !state.issued else { throw LedgerError(.invalidState, "the document was already issued") }
            guard !recipients.isEmpty else { throw LedgerError(.invalidCommand, "an issue names its recipients") }
            return [.issued(recipients: recipients, channel: channel, late: at > deadline, by: actor, at: at)]
        case .reroute(let level, let to, let holderOnStaff, let toIsLeader, let at):
            // A level still to decide; once all are approved, the last (whose holder signs) until it is signed.
            let open: ClosedRange<Int>? = switch state.status {
            case .pending?, .returned?: state.approvedLevels < state.chain.count
                ? (state.approvedLevels + 1)...state.chain.count : nil
            case .approved?: state.chain.count...state.chain.count
            default: nil
            }
            guard let open else {
                throw LedgerError(.invalidState, "only an approval awaiting a decision or a signature is re-routed (it "
                    + "is \(state.status?.rawValue ?? "not requested"))")
            }
            guard open.contains(level) else {
                throw LedgerError(.invalidCommand, "level \(level) is not one still to decide or sign (levels "
                    + "\(open.lowerBound)–\(open.upperBound))")
            }
            let holder = state.chain[level - 1]
            guard !holderOnStaff else {
                throw LedgerError(.invalidState, "\(holder) is still on staff: level \(level) stays theirs (they may "
                    + "delegate it)")
            }
            guard toIsLeader else { throw LedgerError(.invalidCommand, "\(to) is not a leader on staff today") }
            guard to != state.submitter, !state.processors.contains(to) else {
                throw LedgerError(.notPermitted, "four eyes: \(to) submitted or processed this subject and cannot "
                    + "approve it")
            }
            guard !state.chain.contains(to), !state.approvers.contains(to) else {
                throw LedgerError(.invalidCommand, "\(to) already holds or approved a level of this approval")
            }
            return [.rerouted(level: level, from: holder, to: to, by: actor, at: at)]
        case .withdraw(let reason, let at):
            guard state.status == .pending || state.status == .returned else {
                throw LedgerError(.invalidState, "only an approval awaiting a decision is withdrawn (it is "
                    + "\(state.status?.rawValue ?? "not requested"))")
            }
            guard actor == state.submitter else {
                throw LedgerError(.notPermitted, "only the submitter (\(state.submitter)) withdraws an approval")
            }
            guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw LedgerError(.invalidCommand, "a withdrawal gives its reason")
            }
            return [.withdrawn(reason: reason, by: actor, at: at)]
        }
    }
}

extension Approval {
    /// A signature's certificate must be valid when it signs.
    static func checkCertificate(_ certificate: Certificate?, at: Int64) throws(LedgerError) {
        guard let certificate else { return }
        guard !certificate.serial.isEmpty, !certificate.issuer.isEmpty else {
            throw LedgerError(.invalidCommand, "a certificate names its serial number and issuer")
        }
        guard certificate.validFrom <= at, at <= certificate.validTo else {
            throw LedgerError(.invalidCommand, "certificate \(certificate.serial) is not valid at the signing instant")
        }
    }
}
