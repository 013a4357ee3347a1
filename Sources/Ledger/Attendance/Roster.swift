/// A week's roster (stream `roster-<unit>-<monday>` for a unit; `leaderroster-<agency>-<monday>` for an agency's
/// leader on duty): who is ONSITE or REMOTE on each working date, and on which duty.
public struct Roster: Hashable, Sendable {
    /// One line of a roster.
    public struct Entry: Hashable, Sendable {
        /// The local date.
        public var date: CivilDate
        /// The official's staff id.
        public var person: String
        /// The location.
        public var location: WorkLocation
        /// LEADER, ONE_STOP, CLASSIFIED, ESSENTIAL, OFFICE.
        public var duty: String

        /// A line.
        public init(date: CivilDate, person: String, location: WorkLocation, duty: String) {
            self.date = date
            self.person = person
            self.location = location
            self.duty = duty
        }
    }

    /// The entries in force (the latest publication or amendment).
    public var entries: [Entry] = []
    /// Whether it was published.
    public var published = false

    /// No roster.
    public init() {}

    /// Who is rostered ONSITE on `date`.
    public func onsite(on date: CivilDate) -> [String] {
        entries.filter { $0.date == date && $0.location == .onsite }.map(\.person)
    }

    /// The stream of a unit's roster for the week of `date`.
    public static func stream(unit: String, week date: CivilDate) -> String { "roster-\(unit)-\(monday(of: date).compact)" }

    /// The stream of an agency's leader roster for the week of `date`.
    public static func leaderStream(agency: String, week date: CivilDate) -> String {
        "leaderroster-\(agency)-\(monday(of: date).compact)"
    }

    /// The Monday of the week of `date`.
    public static func monday(of date: CivilDate) -> CivilDate { date.adding(days: 1 - date.weekday) }

    /// The event of a publication (the first) or an amendment.
    public static func event(scope: String, week: CivilDate, entries: [Entry], amended: Bool) -> NewEvent {
        var w = Facts.Writer()
        w.field("scope", scope)
        w.field("week", week.description)
        w.field("entries", maps: entries.map { e in
            var m = Facts.Writer()
            m.field("date", e.date.description)
            m.field("person", e.person)
            m.field("location", e.location.rawValue)
            m.field("duty", e.duty)
            return m
        })
        return NewEvent(amended ? "RosterAmended.v1" : "RosterPublished.v1", w)
    }

    /// The entries of a stored publication or amendment.
    public static func entries(facts: [UInt8]) throws(Facts.DecodingError) -> [Entry] {
        try Facts.decode(facts) { r throws(Facts.DecodingError) in
            var out = [Entry]()
            for m in try r.maps("entries") {
                guard let date = CivilDate(try m.string("date")),
                      let location = WorkLocation(rawValue: try m.string("location"))
                else { throw Facts.DecodingError(what: "roster entry", offset: 0) }
                out.append(Entry(date: date, person: try m.string("person"), location: location,
                                 duty: try m.string("duty")))
            }
            return out
        }
    }
}

extension CivilDate {
    /// `yyyyMMdd`, as stream names use it.
    public var compact: String {
        String(year) + (month < 10 ? "0" : "") + String(month) + (day < 10 ? "0" : "") + String(day)
    }
}
