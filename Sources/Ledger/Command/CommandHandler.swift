public import EventStore
public import Foundation

/// Runs a command against the store (design.md, "The way a command travels"): answer a retried command with its
/// original positions; else read the streams, decide, and append with an exact expectation on every stream the
/// decision read; on a conflict, read again and decide again, a bounded number of times.
///
/// ```swift
/// let result = try await handler.execute(context) {
///     let (day, version) = try handler.load("unitday-P.HTTT-20200403", UnitDay()) { … }
///     return [PlannedAppend(stream: "unitday-P.HTTT-20200403", readVersion: version, events: …)]
/// }
/// ```
public struct CommandHandler: Sendable {
    /// The store.
    public let store: Store
    /// Attempts on a version conflict before the conflict is reported.
    public var maximumAttempts: Int
    /// How appends are acknowledged: durable (after fsync; the default) or relaxed (bulk imports, which sync at the
    /// end).
    public var durability: Durability

    /// A handler over `store`.
    public init(store: Store, maximumAttempts: Int = 20, durability: Durability = .durable) {
        self.store = store
        self.maximumAttempts = maximumAttempts
        self.durability = durability
    }

    /// Decides and appends. `decide` reads what it needs (through ``load(_:_:payloads:evolve:)``) and returns the
    /// shares; it runs again after a conflict.
    ///
    /// - Throws: ``LedgerError`` when the decision refuses; ``StoreError`` from the store (a conflict only after
    ///   ``maximumAttempts``).
    @discardableResult
    public func execute(_ context: CommandContext, decide: () throws -> [PlannedAppend]) async throws -> AppendResult {
        if let applied = try appliedBefore(context) { return applied }
        var attempt = 0
        while true {
            attempt += 1
            let planned = try decide()
            guard planned.contains(where: { !$0.events.isEmpty }) else {
                throw LedgerError(.invalidCommand, "the command changes nothing")
            }
            let shares = Self.shares(planned, context)
            do {
                return try await store.append(shares, durability: durability)
            } catch let error as StoreError
                where error.code == .wrongExpectedVersion && attempt < maximumAttempts
                    && error.stream != ReferenceData.changesStream
            {
                // (A reference change is not retried here: the caller decides again on the new reference data.)
                // Someone moved a stream the decision read — or this very command, sent twice, landed meanwhile.
                if let applied = try appliedBefore(context) { return applied }
                continue
            }
        }
    }

    /// The events to append: ids derived from the command in order, the context in every event's metadata.
    static func shares(_ planned: [PlannedAppend], _ context: CommandContext) -> [StreamAppend] {
        var metadata = Metadata()
        metadata["principal"] = context.principal
        metadata["role"] = context.actor.role.rawValue
        metadata["command"] = context.commandID.uuidString.lowercased()
        if let unit = context.unit { metadata["unit"] = unit }
        if let on = context.onBehalfOf { metadata["on_behalf_of"] = on }
        if let capacity = context.capacity { metadata["capacity"] = capacity }
        if let type = context.commandType { metadata["command_type"] = type }
        var index: UInt32 = 0
        // The reference data the decision read is guarded as any stream read (a reference command writes it).
        var planned = planned
        if let changes = context.referenceChanges, !planned.contains(where: { $0.stream == ReferenceData.changesStream }) {
            planned.append(PlannedAppend(stream: ReferenceData.changesStream, readVersion: changes, events: []))
        }
        return planned.map { share in
            StreamAppend(
                stream: share.stream, expected: share.readVersion == 0 ? .noStream : .exact(share.readVersion),
                events: share.events.map { event in
                    var m = metadata
                    if let subject = event.subject { m["subject"] = subject.uuidString.lowercased() }
                    defer { index += 1 }
                    return EventData(id: CommandEventIDs.eventID(command: context.commandID, index: index),
                                     type: event.type, facts: event.facts, personal: event.personal,
                                     actor: context.actor.staffID, metadata: m,
                                     correlationID: context.correlationID ?? context.commandID,
                                     causationID: context.causationID ?? context.commandID)
                })
        }
    }

    /// The original result of a command already applied, or `nil`; a command id already used for another command
    /// type is refused (`idempotency_conflict`) rather than answered with the other command's positions.
    public func appliedBefore(_ context: CommandContext) throws -> AppendResult? {
        guard let result = try appliedBefore(context.commandID) else { return nil }
        if let type = context.commandType,
           let first = try store.event(id: CommandEventIDs.eventID(command: context.commandID, index: 0), payloads: .none),
           let used = first.record.metadata["command_type"], used != type {
            throw StoreError(.idempotencyConflict, "command id \(context.commandID) was used for a \(used) command; send "
                + "this \(type) with a new command id")
        }
        return result
    }

    /// The original result of a command already applied (its events carry the ids derived from it, 0, 1, …), or
    /// `nil`.
    public func appliedBefore(_ commandID: UUID) throws -> AppendResult? {
        var mine = [RecordedEvent]()
        var i: UInt32 = 0
        while let e = try store.event(id: CommandEventIDs.eventID(command: commandID, index: i), payloads: .none) {
            mine.append(e)
            i += 1
        }
        guard let first = mine.first else { return nil }
        mine.sort { $0.position < $1.position }
        var versions = [String: UInt64]()
        for e in mine { versions[e.record.stream] = max(versions[e.record.stream] ?? 0, e.record.streamVersion) }
        return AppendResult(positions: mine.map(\.position), streamVersions: versions, wasRetry: true,
                            recordedAt: first.record.recordedAt)
    }

    /// Folds a stream: its state and version (0 when it does not exist).
    public func load<State>(_ stream: String, _ initial: State, payloads: PayloadSelection = .facts,
                            evolve: (State, RecordedEvent) throws -> State) throws -> (State, UInt64) {
        var state = initial
        var version: UInt64 = 0
        for event in try store.readStream(stream, limit: .max, payloads: payloads) {
            do { state = try evolve(state, event) } catch let error as LedgerError {
                throw error
            } catch {
                throw StoreError(.corrupt, "\(stream) at position \(event.position): \(error)", position: event.position)
            }
            version = event.record.streamVersion
        }
        return (state, version)
    }
}
