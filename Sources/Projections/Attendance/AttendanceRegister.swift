public import EventStore
import Foundation
import Ledger

/// Attendance as it happened: per person-day (`personDays`: location, report, no-show, missing report, exception
/// granter), per unit-day (`unitDays`: places taken, beyond the cap and by whom, rostered on site, remote), per
/// agency-day (`agencyDays`: the end-of-day summary, a day without a leader), leave (`leaves`) and who granted
/// each person's latest duty exception (`granters`). Keys are
/// `id 0 yyyy-MM-dd` (and `person 0 leave id`).
public struct AttendanceRegister: Projection {
    /// The projection's stable name.
    public var name = "attendance"
    /// The projection's code version.
    public var version: UInt32 = 3
    /// Its relative folding cost (measured on the province fixtures).
    public var foldWeight: Int { 2 }
    /// The databases it keeps.
    public var databases = ["personDays", "unitDays", "agencyDays", "leaves", "granters"]

    /// The register.
    public init() {}

    /// The categories it folds.
    private static let categories = ["person", "unitday", "roster", "eod"].map { Array($0.utf8) }

    /// The facts of the events of people, unit-days, rosters and ends of day.
    public func payloads(of record: RecordView) -> PayloadSelection {
        record.leafType == .event && record.isIn(categories: Self.categories) ? .facts : .none
    }

    /// Folds one event (see ``Projection``).
    public func fold(_ event: ProjectedEvent, _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases) throws {
        try fold(batch: [event], txn, dbs)
    }

    /// Folds a batch: the day and leave rows it touches stay decoded for the batch and are written once (a unit-day
    /// counted by every check-in of the unit that day, a person-day by the check-in, the report and the day's end).
    public func fold(batch events: [ProjectedEvent], _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases)
        throws
    {
        let rows = BatchRows<[String: Facts.Value]>()
        for event in events { try fold(event, rows, txn, dbs) }
        try rows.flush(txn)
    }

    private func fold(_ event: ProjectedEvent, _ rows: BatchRows<[String: Facts.Value]>,
                      _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases) throws {
        let record = event.record
        guard record.leafType == .event, let factsBuffer = event.facts else { return }
        guard record.isIn(categories: Self.categories) else { return }
        let stream = record.stream
        let category = EventRecord.category(of: stream)
        let type = record.eventType
        let facts = Array(factsBuffer)
        switch category {
        case "person":
            let person = String(stream.dropFirst(7))
            guard let decoded = try PersonEvent(type: type, facts: facts) else { return }
            switch decoded {
            case .checkedIn(let unit, let location, let date, _, _):
                try rows.update(dbs["personDays"], StateRows.key(person, "\(date)"), txn) {
                    $0["unit"] = .string(unit)
                    $0["location"] = .string(location.rawValue)
                }
                if location == .remote {
                    try rows.update(dbs["unitDays"], StateRows.key(unit, "\(date)"), txn) { $0.add("remote") }
                }
            case .checkedOut: break
            case .progressReported(let date, _, _, _):
                try rows.update(dbs["personDays"], StateRows.key(person, "\(date)"), txn) { $0["report"] = .bool(true) }
            case .leaveRequested(let id, let kind, let from, let to, let halfDay, _, _):
                try rows.update(dbs["leaves"], StateRows.key(person, id.uuidString.lowercased()), txn) {
                    $0["kind"] = .string(kind)
                    $0["from"] = .string("\(from)")
                    $0["to"] = .string("\(to)")
                    if let halfDay { $0["halfDay"] = .string(halfDay.rawValue) }
                }
            case .leaveDecided(let id, let approved, let by, let conflicts, _):
                try rows.update(dbs["leaves"], StateRows.key(person, id.uuidString.lowercased()), txn) {
                    $0["approved"] = .bool(approved)
                    $0["decidedBy"] = .string(by)
                    if !conflicts.isEmpty { $0["rosterConflicts"] = .array(conflicts.map { .string("\($0)") }) }
                }
            case .leaveCancelled(let id, let by, _):
                try rows.update(dbs["leaves"], StateRows.key(person, id.uuidString.lowercased()), txn) {
                    $0["cancelled"] = .bool(true)
                    $0["cancelledBy"] = .string(by)
                }
            case .exceptionRequested(let id, let date, let kind, let beyondCap, let reason, _, _):
                try txn.put(dbs["granters"], key: Array("request \(id.uuidString.lowercased())".utf8),
                            value: Array("\(date)".utf8))
                try rows.update(dbs["personDays"], StateRows.key(person, "\(date)"), txn) {
                    $0["exceptionRequested"] = .bool(true)
                    $0["exceptionKind"] = .string(kind.rawValue)
                    $0["exceptionBeyondCap"] = .bool(beyondCap)
                    $0["exceptionReason"] = .string(reason)
                }
            case .exceptionDecided(let id, let granted, let by, _, _, _):
                // Who granted the person's exception for its day: named beside the place it admits.
                if granted, let date = try txn.get(dbs["granters"], key: Array("request \(id.uuidString.lowercased())".utf8)) {
                    try txn.put(dbs["granters"], key: StateRows.key(person, String(decoding: date, as: UTF8.self)),
                                value: Array(by.utf8))
                }
            }
        case "unitday":
            // unitday-<unit>-<yyyyMMdd>
            let body = stream.dropFirst(8)
            let unit = String(body.dropLast(9))
            let compact = String(body.suffix(8))
            let date = "\(compact.prefix(4))-\(compact.dropFirst(4).prefix(2))-\(compact.suffix(2))"
            let (person, beyondCap) = try Facts.decode(facts) { r throws(Facts.DecodingError) in
                (try r.string("person"), try r.bool("beyondCap") ?? false)
            }
            let granter = try txn.get(dbs["granters"], key: StateRows.key(person, date))
                .map { String(decoding: $0, as: UTF8.self) } ?? ""

            try rows.update(dbs["unitDays"], StateRows.key(unit, date), txn) { row in
                row.add("onsite")
                if beyondCap {
                    row["beyondCap"] = .array((row.strings("beyondCap") + [person]).map(Facts.Value.string))
                    row["grantedBy"] = .array((row.strings("grantedBy") + [granter]).map(Facts.Value.string))
                }
            }
            try rows.update(dbs["personDays"], StateRows.key(person, date), txn) { row in
                if beyondCap { row["beyondCapGrantedBy"] = .string(granter) }
            }
        case "roster":
            let (scope, week) = try Facts.decode(facts) { r throws(Facts.DecodingError) in
                (try r.string("scope"), try r.string("week"))
            }
            var onsite = [String: Int]()
            // An amendment replaces the whole week: every day starts from zero.
            if let monday = CivilDate(week) {
                for offset in 0..<7 { onsite["\(monday.adding(days: offset))"] = 0 }
            }
            for e in try Roster.entries(facts: facts) {
                onsite["\(e.date)", default: 0] += e.location == .onsite ? 1 : 0
            }
            for (date, count) in onsite.sorted(by: { $0.key < $1.key }) {
                try rows.update(dbs["unitDays"], StateRows.key(scope, date), txn) { $0["rostered"] = .int(Int64(count)) }
            }
        default:  // eod
            let f = try StateRows.decode(facts)
            switch type {
            case "NoShowDetected.v1":
                try rows.update(dbs["personDays"], StateRows.key(f.string("person"), f.string("date")), txn) {
                    $0["noShow"] = .string(f.string("expected"))
                    $0["unit"] = .string(f.string("unit"))
                }
                try rows.update(dbs["unitDays"], StateRows.key(f.string("unit"), f.string("date")), txn) {
                    $0.add("noShows")
                }
            case "MissingReportDetected.v1":
                try rows.update(dbs["personDays"], StateRows.key(f.string("person"), f.string("date")), txn) {
                    $0["missingReport"] = .bool(true)
                    $0["unit"] = .string(f.string("unit"))
                }
            case "LeaderAbsenceRecorded.v1":
                try rows.update(dbs["agencyDays"], StateRows.key(f.string("agency"), f.string("date")), txn) {
                    $0["leaderAbsent"] = .bool(true)
                }
            case "DayClosed.v1":
                try rows.update(dbs["agencyDays"], StateRows.key(f.string("agency"), f.string("date")), txn) { row in
                    row["closed"] = .bool(true)
                    for k in ["onsite", "remote", "leave", "leadersOnsite"] { row[k] = .int(Int64(f.int(k))) }
                }
            default: break
            }
        }
    }
}
