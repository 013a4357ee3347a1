import Crypto
public import Foundation

/// An official's health incident, reported by the agency's HR officer (domain.md §3.2, `HealthIncidentReported`):
/// it links an infection report to the compliance record, listing the days the official worked on site in the
/// fortnight before, for contact tracing and for the accountability review of the unit's rosters.
///
/// The kind of incident is health data: it goes in the personal part, under a data subject of the official's own
/// (``subject(staff:generation:)``), so an erasure removes it while the facts (the dates on site) stay.
public struct HealthIncident: Hashable, Sendable {
    /// What was reported.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case suspected = "SUSPECTED", confirmed = "CONFIRMED", closeContact = "CLOSE_CONTACT", recovered = "RECOVERED"
    }

    /// The stored type.
    public static let type = "HealthIncidentReported.v1"
    /// Days looked back for the official's days on site.
    public static let lookbackDays = 14

    /// The official (pseudonymous staff id).
    public var person: String
    /// Their unit on `date`.
    public var unit: String
    /// The day the incident concerns (onset or test).
    public var date: CivilDate
    public var kind: Kind
    /// Days the official checked in ON SITE in the ``lookbackDays`` up to `date`.
    public var onsiteDays: [CivilDate]
    /// The HR officer.
    public var reportedBy: String
    /// When it was recorded.
    public var at: Int64

    /// Decides a report: the date is not in the future and not older than the look-back, the person is on the
    /// agency's staff that day; the days on site come from their record.
    public static func decide(_ record: PersonRecord, person: String, unit: String, date: CivilDate, kind: Kind,
                              today: CivilDate, by: String, at: Int64) throws(LedgerError) -> HealthIncident {
        guard date <= today else {
            throw LedgerError(.invalidCommand, "a health incident is reported for a day that has come (\(date) is after \(today))")
        }
        guard date >= today.adding(days: -lookbackDays) else {
            throw LedgerError(.invalidCommand, "\(date) is more than \(lookbackDays) days ago; report incidents as they "
                + "become known")
        }
        guard by != person else { throw LedgerError(.notPermitted, "the HR officer reports others' incidents, not their own") }
        let from = date.adding(days: -lookbackDays)
        let onsite = record.sessions.filter { $0.value.location == .onsite && $0.key >= from && $0.key <= date }
            .map(\.key).sorted()
        return HealthIncident(person: person, unit: unit, date: date, kind: kind, onsiteDays: onsite, reportedBy: by,
                              at: at)
    }

    /// As a new event on the person's stream, its kind in the personal part under `subject`.
    public func event(subject: UUID) -> NewEvent {
        var facts = Facts.Writer()
        facts.field("person", person)
        facts.field("unit", unit)
        facts.field("date", date.description)
        facts.field("onsiteDays", onsiteDays.map(\.description))
        facts.field("reportedBy", reportedBy)
        facts.field("at", instant: at)
        var personal = Facts.Writer()
        personal.field("kind", kind.rawValue)
        return NewEvent(type: Self.type, facts: facts.finish(), personal: personal.finish(), subject: subject)
    }

    /// Decodes a stored report (`kind` is `nil` once its subject was erased).
    public static func decode(facts: [UInt8], personal: [UInt8]?) throws(Facts.DecodingError)
        -> (incident: HealthIncident, kindKnown: Bool)
    {
        let kind = try personal.flatMap { (p) throws(Facts.DecodingError) -> Kind? in
            try Facts.decode(p) { (r) throws(Facts.DecodingError) in Kind(rawValue: try r.string("kind")) }
        }
        let incident = try Facts.decode(facts) { (r) throws(Facts.DecodingError) -> HealthIncident in
            var days = [CivilDate]()
            for text in try r.strings("onsiteDays") {
                guard let d = CivilDate(text) else { throw Facts.DecodingError(what: "onsiteDays", offset: 0) }
                days.append(d)
            }
            guard let date = CivilDate(try r.string("date")) else { throw Facts.DecodingError(what: "date", offset: 0) }
            return HealthIncident(person: try r.string("person"), unit: try r.string("unit"), date: date,
                                  kind: kind ?? .suspected, onsiteDays: days, reportedBy: try r.string("reportedBy"),
                                  at: try r.instant("at"))
        }
        return (incident, kind != nil)
    }

    /// The data subject of an official's health reports: derived from the staff id, so every report of one official
    /// shares it; `generation` moves on after an erasure (the store takes no personal data under an erased subject).
    public static func subject(staff: String, generation: Int = 0) -> UUID {
        let digest = Array(SHA256.hash(data: Array("ledger/health-subject/\(staff)/\(generation)".utf8)))
        var bytes = Array(digest.prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80  // version 8: custom
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 9562 variant
        return bytes.withUnsafeBytes { raw in
            UUID(uuid: raw.loadUnaligned(as: uuid_t.self))
        }
    }
}
