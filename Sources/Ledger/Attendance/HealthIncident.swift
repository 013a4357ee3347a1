public import Foundation

/// An official's health incident, reported by the agency's HR officer (domain.md §3.2, `HealthIncidentReported`):
/// it links an infection report to the compliance record, listing the days the official worked on site in the
/// fortnight before, for contact tracing and for the accountability review of the unit's rosters.
///
/// That an official had an incident is health data, and so is everything that says who: the official, the day, the
/// kind and the days on site are all in the personal part. Each report is its own stream `health-<id>` and its own
/// data subject (the id, derived from the command so a retry carries it, and linked to no staff id), so an erasure of
/// that subject leaves only that the unit had an incident, reported by whom and when.
public struct HealthIncident: Hashable, Sendable {
    /// What was reported.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case suspected = "SUSPECTED", confirmed = "CONFIRMED", closeContact = "CLOSE_CONTACT", recovered = "RECOVERED"
    }

    /// The stored type.
    public static let type = "HealthIncidentReported.v1"
    /// Days looked back for the official's days on site.
    public static let lookbackDays = 14

    /// The report's id: its stream is `health-<id>`, and it is the data subject of its personal part.
    public var id: UUID
    /// The official's unit on `date` (kept after an erasure).
    public var unit: String
    /// The HR officer.
    public var reportedBy: String
    /// When it was recorded.
    public var at: Int64
    /// Who and what, in the personal part: `nil` once erased.
    public var details: Details?

    /// The personal part of a report.
    public struct Details: Hashable, Sendable {
        /// The official (pseudonymous staff id).
        public var person: String
        /// The day the incident concerns (onset or test).
        public var date: CivilDate
        public var kind: Kind
        /// Days the official checked in ON SITE in the ``lookbackDays`` up to `date`.
        public var onsiteDays: [CivilDate]
    }

    /// The stream of report `id`.
    public static func stream(_ id: UUID) -> String { "health-\(id.uuidString.lowercased())" }

    /// Decides a report: the date is not in the future and not older than the look-back, nobody reports their own;
    /// the days on site come from the official's record.
    public static func decide(_ record: PersonRecord, id: UUID, person: String, unit: String, date: CivilDate,
                              kind: Kind, today: CivilDate, by: String, at: Int64) throws(LedgerError)
        -> HealthIncident
    {
        guard date <= today else {
            throw LedgerError(.badField, "body.date \(date) is after today (\(today))", field: "body.date")
        }
        guard date >= today.adding(days: -lookbackDays) else {
            throw LedgerError(.badField, "body.date \(date) is more than \(lookbackDays) days ago; report incidents as "
                + "they become known", field: "body.date")
        }
        guard by != person else { throw LedgerError(.notPermitted, "the HR officer reports others' incidents, not their own") }
        let from = date.adding(days: -lookbackDays)
        let onsite = record.sessions.filter { $0.value.location == .onsite && $0.key >= from && $0.key <= date }
            .map(\.key).sorted()
        return HealthIncident(id: id, unit: unit, reportedBy: by, at: at,
                              details: Details(person: person, date: date, kind: kind, onsiteDays: onsite))
    }

    /// As a new event on its own stream, who and what in the personal part under the report's subject.
    public var event: NewEvent {
        var facts = Facts.Writer()
        facts.field("unit", unit)
        facts.field("reportedBy", reportedBy)
        facts.field("at", instant: at)
        var personal: [UInt8]?
        if let details {
            var p = Facts.Writer()
            p.field("person", details.person)
            p.field("date", details.date.description)
            p.field("kind", details.kind.rawValue)
            p.field("onsiteDays", details.onsiteDays.map(\.description))
            personal = p.finish()
        }
        return NewEvent(type: Self.type, facts: facts.finish(), personal: personal, subject: personal == nil ? nil : id)
    }

    /// Decodes a stored report of stream `health-<id>` (``details`` is `nil` once its subject was erased).
    public init(id: UUID, facts: [UInt8], personal: [UInt8]?) throws(Facts.DecodingError) {
        func date(_ text: String, _ key: String) throws(Facts.DecodingError) -> CivilDate {
            guard let d = CivilDate(text) else { throw Facts.DecodingError(what: key, offset: 0) }
            return d
        }
        self.id = id
        (unit, reportedBy, at) = try Facts.decode(facts) { (r) throws(Facts.DecodingError) in
            (try r.string("unit"), try r.string("reportedBy"), try r.instant("at"))
        }
        details = try personal.map { (p) throws(Facts.DecodingError) -> Details in
            try Facts.decode(p) { (r) throws(Facts.DecodingError) -> Details in
                guard let kind = Kind(rawValue: try r.string("kind")) else {
                    throw Facts.DecodingError(what: "kind", offset: 0)
                }
                var days = [CivilDate]()
                for text in try r.strings("onsiteDays") { days.append(try date(text, "onsiteDays")) }
                return Details(person: try r.string("person"), date: try date(try r.string("date"), "date"), kind: kind,
                               onsiteDays: days)
            }
        }
    }

    init(id: UUID, unit: String, reportedBy: String, at: Int64, details: Details?) {
        self.id = id
        self.unit = unit
        self.reportedBy = reportedBy
        self.at = at
        self.details = details
    }
}
