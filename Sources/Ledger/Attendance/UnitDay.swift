/// One unit's working day on site: the consistency boundary of the Directive-16 cap (stream
/// `unitday-<unit>-<yyyyMMdd>`). Every ONSITE check-in takes a place here in the same atomic append as the
/// check-in, with an exact expectation, so two racing check-ins can never both take the last place.
public struct UnitDay: Hashable, Sendable {
    /// Who holds a place today, in order.
    public var onsite: [String] = []
    /// Of them, those admitted beyond the cap by a duty exception.
    public var exceptions: [String] = []

    /// An empty day.
    public init() {}

    /// The cap: `max(1, floor(headcount × ratio))` (domain.md §6), with the ratio as a fraction.
    public static func cap(headcount: Int, ratio: (numerator: Int, denominator: Int)) -> Int {
        max(1, headcount * ratio.numerator / ratio.denominator)
    }

    /// The state after an event.
    public static func evolve(_ state: UnitDay, _ event: UnitDayEvent) -> UnitDay {
        var s = state
        switch event {
        case .placeTaken(let person, let beyondCap, _):
            s.onsite.append(person)
            if beyondCap { s.exceptions.append(person) }
        }
        return s
    }
}

/// What happens on a unit-day stream.
public enum UnitDayEvent: Hashable, Sendable {
    /// A person took an on-site place; `beyondCap` when a duty exception admitted them past the cap.
    case placeTaken(person: String, beyondCap: Bool, at: Int64)

    /// The stored type.
    public var type: String { "OnsitePlaceTaken.v1" }

    /// The facts part.
    public var facts: [UInt8] {
        switch self {
        case .placeTaken(let person, let beyondCap, let at):
            var w = Facts.Writer()
            w.field("person", person)
            w.field("beyondCap", beyondCap)
            w.field("at", instant: at)
            return w.finish()
        }
    }

    /// Decodes a stored event.
    public init(facts: [UInt8]) throws(Facts.DecodingError) {
        let decoded = facts.withUnsafeBytes { buffer in
            Result { () throws(Facts.DecodingError) -> UnitDayEvent in
                let r = try Facts.Reader(buffer)
                return .placeTaken(person: try r.string("person"), beyondCap: try r.bool("beyondCap") ?? false,
                                   at: try r.instant("at"))
            }
        }
        self = try decoded.get()
    }
}

/// An ONSITE check-in request, with the facts the decision needs (the caller reads the roster, the unit's
/// headcount and the duty policy from reference data).
public struct OnsiteCheckIn: Hashable, Sendable {
    /// The official's staff id.
    public var person: String
    /// The unit's id.
    public var unit: String
    /// The local date.
    public var date: CivilDate
    /// The domain time.
    public var at: Int64
    /// Staff assigned to the unit that day.
    public var headcount: Int
    /// The on-site ratio as a fraction.
    public var ratio: (numerator: Int, denominator: Int)
    /// Rostered ONSITE for that date.
    public var rostered: Bool
    /// A granted duty exception covering the person and date, if any.
    public var exception: DutyException?
    /// Where the check-in was made from, if the app said.
    public var source: CheckInSource?

    /// Creates one.
    public init(person: String, unit: String, date: CivilDate, at: Int64, headcount: Int,
                ratio: (numerator: Int, denominator: Int), rostered: Bool, exception: DutyException? = nil,
                source: CheckInSource? = nil) {
        self.source = source
        self.person = person
        self.unit = unit
        self.date = date
        self.at = at
        self.headcount = headcount
        self.ratio = ratio
        self.rostered = rostered
        self.exception = exception
    }

    /// Equality of the fields that matter.
    public static func == (a: OnsiteCheckIn, b: OnsiteCheckIn) -> Bool {
        a.person == b.person && a.unit == b.unit && a.date == b.date && a.at == b.at && a.headcount == b.headcount
            && a.ratio == b.ratio && a.rostered == b.rostered && a.exception == b.exception && a.source == b.source
    }

    /// Hashes the identifying fields.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(person)
        hasher.combine(unit)
        hasher.combine(date)
        hasher.combine(at)
    }
}

extension UnitDay {
    /// Decides an ONSITE check-in: the hard cap (domain.md §6), the roster, one place per person and day.
    public static func decide(_ state: UnitDay, _ request: OnsiteCheckIn, calendar: WorkingCalendar) throws(LedgerError)
        -> [UnitDayEvent]
    {
        guard calendar.isWorkingDay(request.date) else {
            throw LedgerError(.invalidCommand, "\(request.date) is not a working day")
        }
        guard !state.onsite.contains(request.person) else {
            throw LedgerError(.invalidState, "\(request.person) already checked in on site at \(request.unit) on "
                + "\(request.date)")
        }
        guard request.rostered || request.exception != nil else {
            throw LedgerError(.notPermitted, "\(request.person) is not rostered ONSITE at \(request.unit) on "
                + "\(request.date); work remotely, or ask for a duty exception")
        }
        let cap = cap(headcount: request.headcount, ratio: request.ratio)
        let full = state.onsite.count >= cap
        if full && request.exception != .beyondCap {
            throw LedgerError(.capReached, "on-site cap reached for unit \(request.unit) on \(request.date): "
                + "\(state.onsite.count) of \(cap) places taken (headcount \(request.headcount), ratio "
                + "\(request.ratio.numerator)/\(request.ratio.denominator)); ask the superior head for a duty exception")
        }
        return [.placeTaken(person: request.person, beyondCap: full, at: request.at)]
    }
}

/// A granted duty exception (domain.md §3.2, §6).
public enum DutyException: Hashable, Sendable {
    /// Granted by the agency head: on site although not rostered, within the cap.
    case withinCap
    /// Granted by the superior head: on site beyond the cap (recorded as an exception for accountability).
    case beyondCap
}
