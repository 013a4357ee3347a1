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
        /// Whether the place is beyond the cap, under a duty exception granted by the superior head (set when the
        /// roster is decided; it shows in the accountability reports).
        public var exception: Bool

        /// A line.
        public init(date: CivilDate, person: String, location: WorkLocation, duty: String, exception: Bool = false) {
            self.date = date
            self.person = person
            self.location = location
            self.duty = duty
            self.exception = exception
        }

        /// The line as an amendment names it: `2020-04-03 a-4 ONSITE OFFICE`.
        public var line: String { "\(date) \(person) \(location.rawValue) \(duty)" }
    }

    /// Why and how a published roster was amended.
    public struct Amendment: Hashable, Sendable {
        /// The reason given.
        public var reason: String
        /// Lines added.
        public var added: [Entry]
        /// Lines removed.
        public var removed: [Entry]
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

    /// The event of a publication (no amendment) or an amendment: the whole week's entries, the version of the duty
    /// policies it was checked against (``ReferenceData/policyVersion``; absent from events recorded before it was
    /// kept, and when no policy was declared), and for an amendment its reason and the lines it adds and removes
    /// (`+`/`-` and the line).
    public static func event(scope: String, week: CivilDate, entries: [Entry], amendment: Amendment?,
                             policyVersion: Int = 0) -> NewEvent {
        var w = Facts.Writer()
        w.field("scope", scope)
        w.field("week", week.description)
        if policyVersion > 0 { w.field("policyVersion", Int64(policyVersion)) }
        w.field("entries", maps: entries.map { e in
            var m = Facts.Writer()
            m.field("date", e.date.description)
            m.field("person", e.person)
            m.field("location", e.location.rawValue)
            m.field("duty", e.duty)
            if e.exception { m.field("exception", true) }
            return m
        })
        if let amendment {
            w.field("reason", amendment.reason)
            w.field("changes", amendment.removed.map { "- " + $0.line } + amendment.added.map { "+ " + $0.line })
        }
        return NewEvent(amendment == nil ? "RosterPublished.v1" : "RosterAmended.v1", w)
    }

    /// The version of the duty policies a stored publication or amendment was checked against, or `nil` (recorded
    /// before the version was kept, or under no policy).
    public static func policyVersion(facts: [UInt8]) throws(Facts.DecodingError) -> Int? {
        try Facts.decode(facts) { r throws(Facts.DecodingError) in try r.optionalInt("policyVersion").map(Int.init) }
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
                                 duty: try m.string("duty"), exception: m.bool("exception")))
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
