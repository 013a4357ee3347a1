import EventStore
public import Ledger

/// One unit's working day (domain.md §4.6).
public struct UnitDayTally: Hashable, Sendable {
    /// The unit's id.
    public var unit: String
    /// The local date.
    public var date: CivilDate
    /// Staff assigned to the unit that day.
    public var headcount: Int
    /// The on-site cap that day.
    public var cap: Int
    /// Rostered ONSITE.
    public var rosteredOnsite: Int
    /// Places taken on site.
    public var onsite: Int
    /// Checked in remotely.
    public var remote: Int
    /// On approved leave.
    public var onLeave: Int
    /// No-shows found by the end-of-day check.
    public var noShows: Int
    /// Places taken beyond the cap, and who granted each.
    public var beyondCap: [String]
    /// Who granted each place beyond the cap.
    public var grantedBy: [String]
    /// On site within the cap, or beyond it only by granted exceptions.
    public var capCompliant: Bool { onsite - beyondCap.count <= cap }
}

/// One agency's working day: leaders on site.
public struct AgencyDayTally: Hashable, Sendable {
    /// The agency's id.
    public var agency: String
    /// The local date.
    public var date: CivilDate
    /// Whether the end-of-day check ran.
    public var closed: Bool
    /// Leaders checked in on site.
    public var leadersOnsite: Int
    /// Whether the day ended without the required leaders on site.
    public var leaderAbsent: Bool
}

/// A person's attendance over a period.
public struct PersonAttendance: Hashable, Sendable {
    /// The official's staff id.
    public var person: String
    /// Days on site.
    public var onsiteDays = 0, remoteDays = 0, leaveDays = 0, noShows = 0
    /// Progress reports sent.
    public var reportsSent = 0, reportsMissing = 0
}

extension ReadModel {
    /// The working days of a period.
    func workingDays(_ period: Period, _ calendar: WorkingCalendar) -> [CivilDate] {
        var out = [CivilDate]()
        var d = period.dates.first
        while d <= period.dates.last {
            if calendar.isWorkingDay(d) { out.append(d) }
            d = d.adding(days: 1)
        }
        return out
    }

    /// Approved leave of a person, as date ranges (whole days; withdrawn and half-day leave left out).
    func approvedLeave(_ person: String) throws -> [(CivilDate, CivilDate)] {
        return try rows(AttendanceRegister(), "leaves", prefix: Array(person.utf8) + [0]).compactMap { _, f in
            guard f.bool("approved"), !f.bool("cancelled"), f.string("halfDay").isEmpty,
                  let a = CivilDate(f.string("from")), let b = CivilDate(f.string("to")) else { return nil }
            return (a, b)
        }
    }

    /// Unit-day tallies of an agency's units over a period.
    public func unitDays(agency: String, period: Period) throws -> [UnitDayTally] {
        let reference = try reference()
        let cal = calendar(reference)
        var out = [UnitDayTally]()
        for unit in reference.units(of: agency) {
            let rows = Dictionary(try rows(AttendanceRegister(), "unitDays", prefix: Array(unit.id.utf8) + [0]).map { ($0.key, $0.fields) },
                                  uniquingKeysWith: { a, _ in a })
            for date in workingDays(period, cal) {
                let staff = reference.staff(of: unit.id, on: date)
                let f = rows["\(date)"] ?? [:]
                var leave = 0
                for m in staff where try approvedLeave(m.staff).contains(where: { $0.0 <= date && date <= $0.1 }) {
                    leave += 1
                }
                let cap = (try? AttendanceRules.cap(unit: unit.id, on: date, reference: reference).cap) ?? 0
                out.append(UnitDayTally(unit: unit.id, date: date, headcount: staff.count, cap: cap,
                                        rosteredOnsite: f.int("rostered"), onsite: f.int("onsite"), remote: f.int("remote"),
                                        onLeave: leave, noShows: f.int("noShows"), beyondCap: f.strings("beyondCap"),
                                        grantedBy: f.strings("grantedBy")))
            }
        }
        return out
    }

    /// Agency-day tallies over a period.
    public func agencyDays(agency: String, period: Period) throws -> [AgencyDayTally] {
        let cal = calendar(try reference())
        let rows = Dictionary(try rows(AttendanceRegister(), "agencyDays", prefix: Array(agency.utf8) + [0]).map { ($0.key, $0.fields) },
                              uniquingKeysWith: { a, _ in a })
        return workingDays(period, cal).map { date in
            let f = rows["\(date)"] ?? [:]
            return AgencyDayTally(agency: agency, date: date, closed: f.bool("closed"), leadersOnsite: f.int("leadersOnsite"),
                                  leaderAbsent: f.bool("leaderAbsent"))
        }
    }

    /// A person's attendance over a period.
    public func personAttendance(_ person: String, period: Period) throws -> PersonAttendance {
        let cal = calendar(try reference())
        let days = Set(workingDays(period, cal).map { "\($0)" })
        var out = PersonAttendance(person: person)
        for (date, f) in try rows(AttendanceRegister(), "personDays", prefix: Array(person.utf8) + [0]) where days.contains(date) {
            switch f.string("location") {
            case "ONSITE": out.onsiteDays += 1
            case "REMOTE": out.remoteDays += 1
            default: break
            }
            if !f.string("noShow").isEmpty { out.noShows += 1 }
            if f.bool("report") { out.reportsSent += 1 }
            if f.bool("missingReport") { out.reportsMissing += 1 }
        }
        for (a, b) in try approvedLeave(person) {
            out.leaveDays += workingDays(period, cal).filter { a <= $0 && $0 <= b }.count
        }
        return out
    }
}
