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
        "unitday-\(unit)-\(date.compact)"
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
        let context = CommandContext(commandID: commandID, actor: Actor(staffID: request.person, role: .specialist),
                                     principal: principal, occurredAt: request.at, unit: request.unit)
        return try await CommandHandler(store: store, maximumAttempts: maximumAttempts).execute(context) {
            try plan(request, guarding: [])
        }
    }

    /// The shares of an ONSITE check-in: the place on the unit-day and the check-in on the person's stream, each at
    /// the version read, plus `guarding` (streams the caller read to build the request, such as the roster). Pass the
    /// person stream's version when the caller read it to build the request (leave, exceptions, earlier check-ins).
    public func plan(_ request: OnsiteCheckIn, personVersion read: UInt64? = nil, guarding: [PlannedAppend]) throws
        -> [PlannedAppend]
    {
        let (day, version) = try load(unit: request.unit, date: request.date)
        let events = try UnitDay.decide(day, request, calendar: calendar)
        let personStream = "person-\(request.person)"
        let personVersion = try read ?? store.streamInfo(personStream)?.version ?? 0
        let checkIn = PersonEvent.checkedIn(unit: request.unit, location: .onsite, date: request.date, at: request.at,
                                            source: request.source)
        return [
            PlannedAppend(stream: personStream, readVersion: personVersion, events: [checkIn.new]),
            PlannedAppend(stream: Self.stream(unit: request.unit, date: request.date), readVersion: version,
                          events: events.map { NewEvent(type: $0.type, facts: $0.facts) }),
        ] + guarding.filter { $0.stream != personStream }
    }
}
