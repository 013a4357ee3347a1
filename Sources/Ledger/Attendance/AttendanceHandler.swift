public import EventStore
public import Foundation

/// Handles ONSITE check-ins against the store: the place on the unit-day stream and the check-in on the person's
/// stream are appended together, each with an exact expectation, so two racing check-ins for the last place cannot
/// both succeed (the loser re-reads and is refused with the cap error).
public struct AttendanceHandler: Sendable {
    /// The store.
    public let store: Store
    /// The calendar the days are checked against.
    public let calendar: WorkingCalendar
    /// Attempts on a version conflict.
    public var maximumAttempts = 20

    /// A handler.
    public init(store: Store, calendar: WorkingCalendar) {
        self.store = store
        self.calendar = calendar
    }

    /// The unit-day stream.
    public static func stream(unit: String, date: CivilDate) -> String {
        "unitday-\(unit)-" + String(format: "%04d%02d%02d", date.year, date.month, date.day)
    }

    /// Loads a unit-day and its version.
    public func load(unit: String, date: CivilDate) throws -> (UnitDay, UInt64) {
        var state = UnitDay()
        var version: UInt64 = 0
        for event in try store.readStream(Self.stream(unit: unit, date: date), limit: .max, payloads: .facts) {
            do { state = UnitDay.evolve(state, try UnitDayEvent(facts: event.facts ?? [])) } catch {
                throw StoreError(.corrupt, "unit-day event at \(event.position): \(error)", position: event.position)
            }
            version = event.record.streamVersion
        }
        return (state, version)
    }

    /// Checks a person in on site.
    @discardableResult
    public func checkIn(_ request: OnsiteCheckIn, commandID: UUID, principal: String) async throws -> AppendResult {
        if let applied = try appliedBefore(commandID) { return applied }
        var attempt = 0
        while true {
            attempt += 1
            let (day, version) = try load(unit: request.unit, date: request.date)
            let events = try UnitDay.decide(day, request, calendar: calendar)
            var metadata = Metadata()
            metadata["principal"] = principal
            metadata["unit"] = request.unit
            metadata["command"] = commandID.uuidString.lowercased()
            var checkIn = Facts.Writer()
            checkIn.field("unit", request.unit)
            checkIn.field("location", "ONSITE")
            checkIn.field("at", instant: request.at)
            let personStream = "person-\(request.person)"
            let personVersion = try store.streamInfo(personStream)?.version ?? 0
            do {
                return try await store.append([
                    StreamAppend(stream: Self.stream(unit: request.unit, date: request.date),
                                 expected: version == 0 ? .noStream : .exact(version),
                                 events: events.enumerated().map { i, e in
                                     EventData(id: CommandEventIDs.eventID(command: commandID, index: UInt32(i + 1)),
                                               type: e.type, facts: e.facts, actor: request.person, metadata: metadata)
                                 }),
                    StreamAppend(stream: personStream, expected: personVersion == 0 ? .noStream : .exact(personVersion),
                                 events: [EventData(id: CommandEventIDs.eventID(command: commandID, index: 0),
                                                    type: "CheckedIn.v1", facts: checkIn.finish(), actor: request.person,
                                                    metadata: metadata)]),
                ])
            } catch let error as StoreError where error.code == .wrongExpectedVersion && attempt < maximumAttempts {
                continue
            }
        }
    }

    /// The original result of a command already applied (a client's retry), or `nil`.
    private func appliedBefore(_ commandID: UUID) throws -> AppendResult? {
        var events = [RecordedEvent]()
        var i: UInt32 = 0
        while let e = try store.event(id: CommandEventIDs.eventID(command: commandID, index: i), payloads: .none) {
            events.append(e)
            i += 1
        }
        guard let first = events.first else { return nil }
        events.sort { $0.position < $1.position }
        var versions = [String: UInt64]()
        for e in events { versions[e.record.stream] = max(versions[e.record.stream] ?? 0, e.record.streamVersion) }
        return AppendResult(positions: events.map(\.position), streamVersions: versions, wasRetry: true,
                            recordedAt: first.record.recordedAt)
    }
}
