public import EventStore
public import Foundation

/// Handles dossier commands against the store: load the stream, fold, decide, append with the expectation that
/// the stream is still at the version read, retry a bounded number of times on a conflict.
///
/// Event ids derive from the command id (``CommandEventIDs``), so a retried command is answered by the store's
/// idempotency with the original positions (``CommandHandler``). Receipt codes `<agency>-<yyMMdd>-<seq>` are gap-free per agency and
/// day: the counter stream `receipts-<agency>-<yyMMdd>` is appended in the same atomic append as the receipt, with an
/// exact expectation, so two racing receipts can never take the same number.
///
/// ```swift
/// let handler = DossierHandler(store: store)
/// try await handler.handle(.submit(…), dossier: id, by: actor, commandID: UUID(), principal: "clerk01")
/// ```
public struct DossierHandler: Sendable {
    /// The store.
    public let store: Store
    /// Attempts on a version conflict before giving up.
    public var maximumAttempts = 5

    /// A handler over `store`.
    public init(store: Store) { self.store = store }

    /// The stream of a dossier.
    public static func stream(_ dossier: UUID) -> String { "dossier-" + dossier.uuidString.lowercased() }

    /// Loads a dossier: its state and its stream version.
    public func load(_ dossier: UUID) throws -> (state: Dossier, version: UInt64) {
        var state = Dossier()
        var version: UInt64 = 0
        for event in try store.readStream(Self.stream(dossier), limit: .max) {
            let decoded: DossierEvent
            do {
                decoded = try DossierEvent(type: event.record.eventType, facts: event.facts ?? [], personal: event.personal)
            } catch {
                throw StoreError(.corrupt, "dossier \(dossier) position \(event.position): \(error)",
                                 position: event.position)
            }
            state = Dossier.evolve(state, decoded)
            if case .submitted = decoded, let subject = event.record.metadata["subject"] {
                state.subject = UUID(uuidString: subject)
            }
            version = event.record.streamVersion
        }
        return (state, version)
    }

    /// Decides and appends; returns the store's result (positions; `wasRetry` when the command was already applied).
    ///
    /// - Parameters:
    ///   - subject: The applicant's pseudonymous data-subject id (personal parts are encrypted under its key); a new
    ///     one is derived from the command for a submission when `nil`.
    /// - Throws: ``LedgerError`` when the command is refused; ``StoreError`` from the store.
    @discardableResult
    public func handle(_ command: DossierCommand, dossier: UUID, by actor: Actor, commandID: UUID, principal: String,
                       subject: UUID? = nil, actorOnsite: Bool = false) async throws -> AppendResult {
        let context = CommandContext(commandID: commandID, actor: actor, principal: principal, occurredAt: 0,
                                     unit: actor.unit)
        return try await CommandHandler(store: store, maximumAttempts: maximumAttempts).execute(context) {
            try plan(command, dossier: dossier, by: actor, commandID: commandID, subject: subject,
                     actorOnsite: actorOnsite)
        }
    }

    /// The shares a command appends: the dossier's events, and for a receipt the agency-day counter's. Pass `loaded`
    /// when the caller read the dossier to build the command, so the append expects the version that was read.
    public func plan(_ command: DossierCommand, dossier: UUID, by actor: Actor, commandID: UUID,
                     subject: UUID? = nil, loaded: (state: Dossier, version: UInt64)? = nil,
                     actorOnsite: Bool = false) throws -> [PlannedAppend] {
        let (state, version) = try loaded ?? load(dossier)
        let command = try withReceiptCode(command, state)
        let events = try Dossier.decide(state, command, by: actor, actorOnsite: actorOnsite)
        var shares = [PlannedAppend(stream: Self.stream(dossier), readVersion: version, events: [])]
        for event in events {
            let (facts, personal) = event.encoded
            let who = personal == nil ? nil
                : try personalSubject(state, dossier: dossier, commandID: commandID, given: subject)
            shares[0].events.append(NewEvent(type: event.type, facts: facts, personal: personal, subject: who))
            if case .received(let r) = event { shares.append(try receiptShare(r)) }
        }
        return shares
    }

    /// The data subject a personal part about the dossier's applicant is recorded under: the applicant's, else the
    /// subject `given`, else one derived from the command (a retry carries the same one). An applicant erased while
    /// the dossier is open gets a new subject for what follows, derived from the dossier (never linked to the erased
    /// one).
    public func personalSubject(_ state: Dossier, dossier: UUID, commandID: UUID, given: UUID? = nil) throws -> UUID {
        if let applicant = state.subject {
            return try store.isErased(applicant) ? CommandEventIDs.eventID(command: dossier, index: 9_998) : applicant
        }
        return given ?? CommandEventIDs.eventID(command: commandID, index: 9_999)
    }

    /// A receive command with its receipt code: the next free one when empty, else checked against the dossier's
    /// agency and the receipt's local day.
    private func withReceiptCode(_ command: DossierCommand, _ state: Dossier) throws -> DossierCommand {
        guard case .receive(let code, let procedure, let calendar, let calendarVersion, let at, let presented, let level)
            = command
        else {
            return command
        }
        let day = calendar.local(at).date
        if code.isEmpty {
            return .receive(receiptCode: try nextReceiptCode(agency: state.agencyID, day: day), procedure: procedure,
                            calendar: calendar, calendarVersion: calendarVersion, at: at, presented: presented,
                            securityLevel: level)
        }
        let prefix = "\(state.agencyID)-" + String(format: "%02d%02d%02d-", day.year % 100, day.month, day.day)
        guard code.count == prefix.count + 4, code.hasPrefix(prefix), let seq = Int(code.suffix(4)), seq >= 1 else {
            throw LedgerError(.invalidCommand, "receipt code \(code) is not \(prefix)NNNN of agency \(state.agencyID) on "
                + "\(day); leave it empty to take the next one")
        }
        let next = try nextReceiptCode(agency: state.agencyID, day: day)
        guard code == next else {
            throw LedgerError(.invalidState, "receipt code \(code) is not the next of \(state.agencyID) on \(day) (that is "
                + "\(next)); leave it empty to take it")
        }
        return command
    }

    /// The counter stream share that makes receipt numbers gap-free: its next version must be the receipt's
    /// sequence number.
    private func receiptShare(_ r: DossierEvent.Received) throws -> PlannedAppend {
        let parts = r.receiptCode.split(separator: "-")
        guard parts.count >= 3, let seq = UInt64(parts.last!), seq >= 1 else {
            throw LedgerError(.invalidCommand, "receipt code \(r.receiptCode) is not <agency>-<yyMMdd>-<seq> with seq ≥ 1")
        }
        var w = Facts.Writer()
        w.field("receiptCode", r.receiptCode)
        w.field("at", instant: r.at)
        return PlannedAppend(stream: "receipts-" + parts.dropLast().joined(separator: "-"), readVersion: seq - 1,
                             events: [NewEvent("ReceiptNumberIssued.v1", w)])
    }

    /// The next free receipt code of an agency on a local day (read the counter, then receive with it; a race is
    /// refused by the counter's expectation and retried by the caller).
    public func nextReceiptCode(agency: String, day: CivilDate) throws -> String {
        let yymmdd = String(format: "%02d%02d%02d", day.year % 100, day.month, day.day)
        let version = try store.streamInfo("receipts-\(agency)-\(yymmdd)")?.version ?? 0
        return "\(agency)-\(yymmdd)-\(String(format: "%04d", version + 1))"
    }
}
