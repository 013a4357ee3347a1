public import EventStore
public import Foundation
import Synchronization

/// The write side as one service: decodes a ``CommandEnvelope``, looks up the reference data in force, reads the
/// streams the command touches, decides with the aggregates' pure functions and appends through ``CommandHandler``.
/// The daemon's `/commands` routes, `ledgerd import` and the demo all go through it.
///
/// ```swift
/// let service = try LedgerService(store: store)
/// let result = try await service.execute(envelope, principal: "clerk01", trustedTime: false)
/// ```
public final class LedgerService: Sendable {
    /// The store.
    public let store: Store
    /// The calendar dossiers are received under.
    public let calendarID: String
    let reference: Mutex<ReferenceData>
    let handler: CommandHandler
    /// Each citizen's pseudonymous subject, folded from the submissions.
    let citizens = CitizenIndex()
    /// Submissions of one citizen (by ID number), one at a time.
    let citizenLocks = KeyedLock()

    /// A service over `store`, with the reference data folded from it; `durability` as ``CommandHandler`` takes it.
    public init(store: Store, calendarID: String = "VN", durability: Durability = .durable) throws {
        self.store = store
        self.calendarID = calendarID
        var data = ReferenceData()
        try data.refresh(from: store)
        self.reference = Mutex(data)
        self.handler = CommandHandler(store: store, durability: durability)
    }

    /// The reference data in force (refreshed from the log).
    public func referenceData() throws -> ReferenceData {
        var copy = reference.withLock { $0 }
        let before = copy.position
        try copy.refresh(from: store)
        if copy.position != before {
            let fresh = copy
            reference.withLock { if $0.position < fresh.position { $0 = fresh } }
        }
        return copy
    }

    /// Every command type the service handles, sorted.
    public static let commandTypes: [String] = {
        var all = Set<String>()
        for group in [dossierCommands, approvalCommands, attendanceCommands, referenceCommands, taskCommands,
                      portalSyncCommands] {
            all.formUnion(group)
        }
        return all.sorted()
    }()

    /// The unit recorded with the actor (metadata `unit`): the official's unit on the staff that day, whether or not
    /// the envelope names it; one the envelope names otherwise is refused. Actors on no unit's staff (the portal,
    /// the scheduler, an applicant) keep the envelope's, if any.
    static func actingUnit(_ actor: Actor, reference: ReferenceData, on day: CivilDate?) throws(LedgerError) -> String? {
        guard let day, let assigned = reference.assignment(of: actor.staffID, on: day)?.unit else { return actor.unit }
        if let named = actor.unit, named != assigned {
            throw LedgerError(.badField, "actor.unit is \(named), but \(actor.staffID) is on the staff of \(assigned) "
                + "on \(day)", field: "actor.unit")
        }
        return assigned
    }

    /// Runs a command. Returns the store's result, or `nil` when a system check found nothing to record.
    ///
    /// - Parameters:
    ///   - principal: The Unix account that sent it (recorded in every event's metadata).
    ///   - trustedTime: Whether the envelope's `occurredAt` is honoured (import and system principals); otherwise
    ///     the command happens `now`.
    /// - Throws: ``LedgerError`` (refused; `badField` for malformed input), ``StoreError``.
    public func execute(_ envelope: CommandEnvelope, principal: String, trustedTime: Bool,
                        now: Int64 = Int64(Date().timeIntervalSince1970)) async throws -> AppendResult? {
        let at = trustedTime ? (envelope.occurredAt ?? now) : now
        var attempt = 0
        while true {
            attempt += 1
            // The reference data's change count first, then the data (at least as new): every command but a
            // reference command appends with that count expected, so a reference change landing after the data was
            // read makes the command decided again, on the new data.
            let changes = try store.streamInfo(ReferenceData.changesStream)?.version ?? 0
            let ref = try referenceData()
            let calendar = ref.calendar(calendarID)
            var context = CommandContext(commandID: envelope.commandID, actor: envelope.actor, principal: principal,
                                         occurredAt: at, unit: try Self.actingUnit(envelope.actor, reference: ref,
                                                                                   on: calendar.map { $0.calendar.local(at).date }),
                                         onBehalfOf: envelope.onBehalfOf,
                                         capacity: envelope.capacity, commandType: envelope.type,
                                         correlationID: envelope.correlationID, causationID: envelope.causationID)
            if !Self.referenceCommands.contains(envelope.type) { context.referenceChanges = changes }
            let command = Command(envelope: envelope, context: context, reference: ref, calendar: calendar,
                                  trusted: trustedTime)
            do {
                return try await dispatch(command)
            } catch let error as StoreError
                where error.code == .wrongExpectedVersion && error.stream == ReferenceData.changesStream && attempt < 10
            {
                continue
            }
        }
    }

    /// Hands a command to its handler; `nil` when a system check found nothing to record.
    private func dispatch(_ command: Command) async throws -> AppendResult? {
        let envelope = command.envelope
        do {
            let result: AppendResult
            let type = envelope.type
            if type == "dossier.submit", let idNumber = try? command.body.optionalString("applicantId") {
                // The citizen's subject is looked up and the submission appended before another submission of theirs
                // looks them up (racing first submissions would otherwise mint two subjects), nor another
                // submission giving the same subject (which could otherwise attach it to two citizens).
                var keys = ["citizen:" + CitizenIndex.key(idNumber)]
                if let given = try? command.body.optionalString("subject") { keys.append("subject:" + given.lowercased()) }
                result = try await citizenLocks.withLocks(keys) { try await executeDossier(command) }
            } else if Self.dossierCommands.contains(type) {
                result = try await executeDossier(command)
            } else if Self.approvalCommands.contains(type) {
                result = try await executeApproval(command)
            } else if Self.attendanceCommands.contains(type) {
                result = try await executeAttendance(command)
            } else if Self.referenceCommands.contains(type) {
                result = try await executeReference(command)
            } else if Self.taskCommands.contains(type) {
                result = try await executeTask(command)
            } else if Self.portalSyncCommands.contains(type) {
                result = try await executePortalSync(command)
            } else {
                throw LedgerError(.notFound, "unknown command type \(type); the types are "
                    + Self.commandTypes.joined(separator: ", "))
            }
            return result
        } catch let error as LedgerError where error.code == .nothingToRecord {
            return nil
        }
    }

    /// What a command's handling needs.
    struct Command {
        let envelope: CommandEnvelope
        let context: CommandContext
        let reference: ReferenceData
        let calendar: (calendar: WorkingCalendar, version: Int)?
        /// Whether the sender is an import or system principal (its time is honoured; it may send system checks).
        let trusted: Bool

        var body: CommandBody { envelope.body }
        var actor: Actor { envelope.actor }
        var at: Int64 { context.occurredAt }

        /// The calendar in force (an error when none was published).
        func workingCalendar() throws(LedgerError) -> (calendar: WorkingCalendar, version: Int) {
            guard let calendar else {
                throw LedgerError(.notFound, "no working calendar is published; send calendar.publish first")
            }
            return calendar
        }

        /// Refuses a system check from anyone but a trusted principal acting as the system.
        func requireSystem() throws(LedgerError) {
            guard trusted, actor.role == .system else {
                throw LedgerError(.notPermitted, "\(envelope.type) is sent by the scheduler (a system or import "
                    + "principal acting in the role system)")
            }
        }

        /// The local date of the command.
        func today() throws(LedgerError) -> CivilDate { try workingCalendar().calendar.local(at).date }
    }

    /// Folds a person's stream.
    func person(_ staff: String) throws -> (PersonRecord, UInt64) {
        try handler.load("person-\(staff)", PersonRecord()) { state, e in
            guard let event = try PersonEvent(type: e.record.eventType, facts: e.facts ?? []) else { return state }
            return PersonRecord.evolve(state, event, actor: e.record.actor)
        }
    }

    /// Folds a roster stream.
    func roster(_ stream: String) throws -> (Roster, UInt64) {
        try handler.load(stream, Roster()) { state, e in
            var s = state
            s.entries = try Roster.entries(facts: e.facts ?? [])
            s.published = true
            return s
        }
    }
}
