public import EventStore
public import Foundation

/// Handles dossier commands against the store: load the stream, fold, decide, append with the expectation that
/// the stream is still at the version read, retry a bounded number of times on a conflict.
///
/// Event ids derive from the command id (``CommandEventIDs``), so a retried command is answered by the store's
/// idempotency with the original positions. Receipt codes `<agency>-<yyMMdd>-<seq>` are gap-free per agency and
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
            version = event.record.streamVersion
        }
        return (state, version)
    }

    /// Decides and appends; returns the store's result (positions; `wasRetry` when the command was already applied).
    ///
    /// - Parameters:
    ///   - subject: The applicant's pseudonymous data-subject id (personal parts are encrypted under its key); a new
    ///     one is minted for a submission when `nil`.
    /// - Throws: ``LedgerError`` when the command is refused; ``StoreError`` from the store.
    @discardableResult
    public func handle(_ command: DossierCommand, dossier: UUID, by actor: Actor, commandID: UUID, principal: String,
                       subject: UUID? = nil) async throws -> AppendResult {
        // A command applied before (a client's retry) is answered with its original positions.
        if let applied = try appliedBefore(commandID) { return applied }
        var attempt = 0
        while true {
            attempt += 1
            let (state, version) = try load(dossier)
            let command = try withReceiptCode(command, state)
            let events = try Dossier.decide(state, command, by: actor)
            var metadata = Metadata()
            metadata["principal"] = principal
            metadata["role"] = actor.role.rawValue
            metadata["command"] = commandID.uuidString.lowercased()
            var data = [EventData]()
            var index: UInt32 = 0
            var receiptCounter: StreamAppend?
            for event in events {
                var eventMetadata = metadata
                let (facts, personal) = event.encoded
                if personal != nil {
                    // Without a given subject, one derived from the command, so a retry carries the same one.
                    let derived = CommandEventIDs.eventID(command: commandID, index: 9_999)
                    eventMetadata["subject"] = (subject ?? derived).uuidString.lowercased()
                }
                if case .received(let r) = event {
                    receiptCounter = try receiptShare(r, commandID: commandID, index: &index, metadata: metadata,
                                                      actor: actor)
                }
                data.append(EventData(id: CommandEventIDs.eventID(command: commandID, index: index), type: event.type,
                                      facts: facts, personal: personal, actor: actor.staffID, metadata: eventMetadata))
                index += 1
            }
            var shares = [StreamAppend(stream: Self.stream(dossier), expected: version == 0 ? .noStream : .exact(version),
                                       events: data)]
            if let receiptCounter { shares.append(receiptCounter) }
            do {
                return try await store.append(shares)
            } catch let error as StoreError where error.code == .wrongExpectedVersion && attempt < maximumAttempts {
                // Someone else moved the dossier or took the receipt number — or this very command, sent twice,
                // landed meanwhile: answer that, else read again and decide again.
                if let applied = try appliedBefore(commandID) { return applied }
                continue
            }
        }
    }

    /// A receive command with its receipt code: the next free one when empty, else checked against the dossier's
    /// agency and the receipt's local day.
    private func withReceiptCode(_ command: DossierCommand, _ state: Dossier) throws -> DossierCommand {
        guard case .receive(let code, let procedure, let calendar, let calendarVersion, let at) = command else {
            return command
        }
        let day = calendar.local(at).date
        if code.isEmpty {
            return .receive(receiptCode: try nextReceiptCode(agency: state.agencyID, day: day), procedure: procedure,
                            calendar: calendar, calendarVersion: calendarVersion, at: at)
        }
        let prefix = "\(state.agencyID)-" + String(format: "%02d%02d%02d-", day.year % 100, day.month, day.day)
        guard code.hasPrefix(prefix) else {
            throw LedgerError(.invalidCommand, "receipt code \(code) is not of agency \(state.agencyID) on \(day); leave "
                + "it empty to take the next one")
        }
        return command
    }

    /// The original result of a command already applied, or `nil`: its events are those with the ids derived from
    /// it (0, 1, … and the receipt counter's 1000 + i).
    private func appliedBefore(_ commandID: UUID) throws -> AppendResult? {
        guard let first = try store.event(id: CommandEventIDs.eventID(command: commandID, index: 0), payloads: .none)
        else { return nil }
        var mine = [RecordedEvent]()
        for base in [0, 1_000] as [UInt32] {
            var i = base
            while let e = try store.event(id: CommandEventIDs.eventID(command: commandID, index: i), payloads: .none) {
                mine.append(e)
                i += 1
            }
        }
        mine.sort { $0.position < $1.position }
        var versions = [String: UInt64]()
        for e in mine { versions[e.record.stream] = max(versions[e.record.stream] ?? 0, e.record.streamVersion) }
        return AppendResult(positions: mine.map(\.position), streamVersions: versions, wasRetry: true,
                            recordedAt: first.record.recordedAt)
    }

    /// The counter stream share that makes receipt numbers gap-free: its next version must be the receipt's
    /// sequence number.
    private func receiptShare(_ r: DossierEvent.Received, commandID: UUID, index: inout UInt32, metadata: Metadata,
                              actor: Actor) throws -> StreamAppend {
        let parts = r.receiptCode.split(separator: "-")
        guard parts.count >= 3, let seq = UInt64(parts.last!), seq >= 1 else {
            throw LedgerError(.invalidCommand, "receipt code \(r.receiptCode) is not <agency>-<yyMMdd>-<seq> with seq ≥ 1")
        }
        let counter = "receipts-" + parts.dropLast().joined(separator: "-")
        var w = Facts.Writer()
        w.field("receiptCode", r.receiptCode)
        w.field("at", instant: r.at)
        let event = EventData(id: CommandEventIDs.eventID(command: commandID, index: 1_000 + index),
                              type: "ReceiptNumberIssued.v1", facts: w.finish(), actor: actor.staffID,
                              metadata: metadata)
        return StreamAppend(stream: counter, expected: .exact(seq - 1), events: [event])
    }

    /// The next free receipt code of an agency on a local day (read the counter, then receive with it; a race is
    /// refused by the counter's expectation and retried by the caller).
    public func nextReceiptCode(agency: String, day: CivilDate) throws -> String {
        let yymmdd = String(format: "%02d%02d%02d", day.year % 100, day.month, day.day)
        let version = try store.streamInfo("receipts-\(agency)-\(yymmdd)")?.version ?? 0
        return "\(agency)-\(yymmdd)-\(String(format: "%04d", version + 1))"
    }
}
