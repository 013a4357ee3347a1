/// The scheduler's end-of-day check of one agency (stream `eod-<agency>-<yyyyMMdd>`, written once): no-shows,
/// missing progress reports, a day without the policy's leaders on site, places taken beyond the cap.
public struct EndOfDay: Sendable {
    /// What the check reads of one unit.
    public struct UnitInput: Sendable {
        /// The unit's id.
        public var unit: String
        /// The day.
        public var day: UnitDay
        /// The roster.
        public var roster: Roster
        /// The on-site cap that day.
        public var cap: Int

        /// A unit's day.
        public init(unit: String, day: UnitDay, roster: Roster, cap: Int) {
            self.unit = unit
            self.day = day
            self.roster = roster
            self.cap = cap
        }
    }

    /// The stream of an agency's day.
    public static func stream(agency: String, date: CivilDate) -> String { "eod-\(agency)-\(date.compact)" }

    /// The findings, in a stable order (units by id, people by id), closed by `DayClosed`.
    public static func decide(agency: String, date: CivilDate, units: [UnitInput], leaderRoster: Roster,
                              people: [String: PersonRecord], reference: ReferenceData, calendar: WorkingCalendar,
                              at: Int64) throws(LedgerError) -> [NewEvent] {
        guard calendar.isWorkingDay(date) else { throw LedgerError(.nothingToRecord, "\(date) is not a working day") }
        var events = [NewEvent]()
        var leadersOnsite = 0, onsiteTotal = 0, remoteTotal = 0, leaveTotal = 0
        let leaderRostered = Set(leaderRoster.onsite(on: date))
        // Those whose place a colleague took under a granted SWAP work remote that day.
        let swappedOut = Set(people.values.flatMap { $0.swappedOut(on: date) })
        for input in units.sorted(by: { $0.unit < $1.unit }) {
            let rostered = Set(input.roster.onsite(on: date))
            let onsite = Set(input.day.onsite)
            for member in reference.staff(of: input.unit, on: date) {
                let person = member.staff
                let record = people[person] ?? PersonRecord()
                if record.onLeave(date) {
                    leaveTotal += 1
                    continue
                }
                let session = record.sessions[date]
                if onsite.contains(person) {
                    onsiteTotal += 1
                    if member.isLeader { leadersOnsite += 1 }
                } else if session?.location == .remote {
                    remoteTotal += 1
                }
                // A granted REMOTE_INSTEAD exception, or a colleague's SWAP, lets someone rostered on site work remote.
                // A granted EXTRA_ONSITE or SWAP puts someone on site who was not rostered there.
                let expectedOnsite = ((rostered.contains(person) || leaderRostered.contains(person))
                    && !record.remoteInstead(on: date) && !swappedOut.contains(person))
                    || record.onsiteByException(on: date)
                if expectedOnsite && !onsite.contains(person) {
                    events.append(finding("NoShowDetected.v1", person: person, unit: input.unit, date: date,
                                          extra: ("expected", "ONSITE")))
                } else if session == nil {
                    events.append(finding("NoShowDetected.v1", person: person, unit: input.unit, date: date,
                                          extra: ("expected", "REMOTE")))
                }
                if !onsite.contains(person) && !record.reports.contains(date), let head = member.directHead {
                    events.append(finding("MissingReportDetected.v1", person: person, unit: input.unit, date: date,
                                          extra: ("head", head)))
                }
            }
            if !input.day.exceptions.isEmpty {
                var w = Facts.Writer()
                w.field("unit", input.unit)
                w.field("date", date.description)
                w.field("onsite", input.day.onsite.count)
                w.field("cap", input.cap)
                w.field("persons", input.day.exceptions)
                events.append(NewEvent("CapBreachRecorded.v1", w))
            }
        }
        let required = reference.policy(for: agency, on: date)?.minimumLeaders ?? 0
        if leadersOnsite < required {
            var w = Facts.Writer()
            w.field("agency", agency)
            w.field("date", date.description)
            w.field("leadersOnsite", leadersOnsite)
            w.field("required", required)
            events.append(NewEvent("LeaderAbsenceRecorded.v1", w))
        }
        var closed = Facts.Writer()
        closed.field("agency", agency)
        closed.field("date", date.description)
        closed.field("onsite", onsiteTotal)
        closed.field("remote", remoteTotal)
        closed.field("leave", leaveTotal)
        closed.field("leadersOnsite", leadersOnsite)
        closed.field("at", instant: at)
        events.append(NewEvent("DayClosed.v1", closed))
        return events
    }

    private static func finding(_ type: String, person: String, unit: String, date: CivilDate,
                                extra: (String, String)) -> NewEvent {
        var w = Facts.Writer()
        w.field("person", person)
        w.field("unit", unit)
        w.field("date", date.description)
        w.field(extra.0, extra.1)
        return NewEvent(type, w)
    }
}
