public import Foundation

/// The attendance and duty decisions of Directive 16 (domain.md §3.2, §6), pure: rosters under the cap and the
/// leader rule, remote check-ins, check-outs, progress reports, leave, duty exceptions and the end-of-day check.
public enum AttendanceRules {
    /// The cap of a unit on a date: `max(1, floor(headcount × ratio))` with the headcount from the staff assigned.
    public static func cap(unit: String, on date: CivilDate, reference: ReferenceData) throws(LedgerError)
        -> (cap: Int, headcount: Int, policy: ReferenceData.DutyPolicy)
    {
        guard let agency = reference.agency(ofUnit: unit) else { throw LedgerError(.notFound, "no unit \(unit)") }
        guard let policy = reference.policy(for: agency, on: date) else {
            throw LedgerError(.notFound, "no duty policy covers agency \(agency) on \(date)")
        }
        let headcount = reference.staff(of: unit, on: date).count
        return (UnitDay.cap(headcount: headcount, ratio: policy.ratio), headcount, policy)
    }

    /// A unit's weekly roster: working dates of the week only, members of the unit only, nobody ONSITE on approved
    /// leave, and per date no more ONSITE than the cap.
    public static func decideRoster(unit: String, week: CivilDate, entries: [Roster.Entry], current: Roster,
                                    reference: ReferenceData, calendar: WorkingCalendar,
                                    people: [String: PersonRecord], by actor: Actor) throws(LedgerError) -> NewEvent {
        guard [.unitHead, .deputyHead, .agencyHead].contains(actor.role) else {
            throw LedgerError(.notPermitted, "the unit head publishes the unit's roster")
        }
        let monday = Roster.monday(of: week)
        guard !entries.isEmpty else { throw LedgerError(.invalidCommand, "a roster needs entries") }
        var byDate = [CivilDate: Int]()
        var seen = Set<String>()
        for e in entries {
            guard Roster.monday(of: e.date) == monday else {
                throw LedgerError(.invalidCommand, "\(e.date) is not in the week of \(monday)")
            }
            guard calendar.isWorkingDay(e.date) else { throw LedgerError(.invalidCommand, "\(e.date) is not a working day") }
            guard reference.assignment(of: e.person, on: e.date)?.unit == unit else {
                throw LedgerError(.invalidCommand, "\(e.person) is not on the staff of \(unit) on \(e.date)")
            }
            guard seen.insert("\(e.date) \(e.person)").inserted else {
                throw LedgerError(.invalidCommand, "\(e.person) appears twice on \(e.date)")
            }
            guard e.location == .onsite else { continue }
            if people[e.person]?.onLeave(e.date) == true {
                throw LedgerError(.invalidCommand, "\(e.person) is on approved leave on \(e.date) and cannot be rostered ONSITE")
            }
            byDate[e.date, default: 0] += 1
        }
        for (date, count) in byDate.sorted(by: { $0.key < $1.key }) {
            let (cap, headcount, policy) = try cap(unit: unit, on: date, reference: reference)
            guard count <= cap else {
                throw LedgerError(.capReached, "the roster puts \(count) ONSITE in unit \(unit) on \(date), over the cap of "
                    + "\(cap) (headcount \(headcount), ratio \(policy.ratio.numerator)/\(policy.ratio.denominator))")
            }
        }
        return Roster.event(scope: unit, week: monday, entries: entries, amended: current.published)
    }

    /// An agency's leader-duty roster: every working date of the week has at least the policy's minimum of leaders
    /// of the agency ONSITE.
    public static func decideLeaderRoster(agency: String, week: CivilDate, entries: [Roster.Entry], current: Roster,
                                          reference: ReferenceData, calendar: WorkingCalendar,
                                          by actor: Actor) throws(LedgerError) -> NewEvent {
        guard [.agencyHead, .deputyHead].contains(actor.role) else {
            throw LedgerError(.notPermitted, "the agency head publishes the leader-duty roster")
        }
        let monday = Roster.monday(of: week)
        for e in entries {
            guard let a = reference.assignment(of: e.person, on: e.date), a.isLeader,
                  reference.agency(ofUnit: a.unit) == agency
            else { throw LedgerError(.invalidCommand, "\(e.person) is not a leader of \(agency) on \(e.date)") }
        }
        for offset in 0..<7 {
            let date = monday.adding(days: offset)
            guard calendar.isWorkingDay(date) else { continue }
            guard let policy = reference.policy(for: agency, on: date) else { continue }
            let leaders = Set(entries.filter { $0.date == date && $0.location == .onsite }.map(\.person)).count
            guard leaders >= policy.minimumLeaders else {
                throw LedgerError(.invalidCommand, "the leader roster of \(agency) has \(leaders) leader(s) on site on "
                    + "\(date); Directive 16 needs at least \(policy.minimumLeaders)")
            }
        }
        return Roster.event(scope: agency, week: monday, entries: entries, amended: current.published)
    }

    /// A REMOTE check-in: a working day, not on leave, not checked in already.
    public static func decideRemoteCheckIn(_ record: PersonRecord, unit: String, date: CivilDate, at: Int64,
                                           calendar: WorkingCalendar) throws(LedgerError) -> PersonEvent {
        try checkInAllowed(record, date: date, calendar: calendar)
        return .checkedIn(unit: unit, location: .remote, date: date, at: at)
    }

    /// What any check-in needs: a working day, no leave, no earlier check-in that day.
    public static func checkInAllowed(_ record: PersonRecord, date: CivilDate, calendar: WorkingCalendar)
        throws(LedgerError)
    {
        guard calendar.isWorkingDay(date) else { throw LedgerError(.invalidCommand, "\(date) is not a working day") }
        guard !record.onLeave(date) else { throw LedgerError(.invalidState, "on approved leave on \(date)") }
        if let s = record.sessions[date] {
            throw LedgerError(.invalidState, "already checked in \(s.location.rawValue) on \(date)")
        }
    }

    /// A check-out closes the day's open session.
    public static func decideCheckOut(_ record: PersonRecord, date: CivilDate, at: Int64) throws(LedgerError)
        -> PersonEvent
    {
        guard record.sessions[date]?.open == true else {
            throw LedgerError(.invalidState, "no open check-in on \(date) to close")
        }
        return .checkedOut(date: date, at: at)
    }

    /// A day's progress report, to the direct head, once per day.
    public static func decideReport(_ record: PersonRecord, date: CivilDate, to head: String?, items: Int, at: Int64)
        throws(LedgerError) -> PersonEvent
    {
        guard let head else { throw LedgerError(.invalidCommand, "the agency head reports to nobody") }
        guard !record.reports.contains(date) else {
            throw LedgerError(.invalidState, "the progress report of \(date) was already sent")
        }
        guard items > 0 else { throw LedgerError(.invalidCommand, "a progress report lists at least one item") }
        return .progressReported(date: date, to: head, items: items, at: at)
    }

    /// A leave request: working dates in order, no overlap with approved leave.
    public static func decideLeaveRequest(_ record: PersonRecord, id: UUID, kind: String, from: CivilDate,
                                          to: CivilDate, calendar: WorkingCalendar, at: Int64) throws(LedgerError)
        -> PersonEvent
    {
        guard ["ANNUAL", "SICK", "PERSONAL", "UNPAID"].contains(kind) else {
            throw LedgerError(.invalidCommand, "leave kind \(kind) is not ANNUAL, SICK, PERSONAL or UNPAID")
        }
        guard from <= to, calendar.workingDays(from: from, through: to) > 0 else {
            throw LedgerError(.invalidCommand, "a leave request needs at least one working day from \(from) to \(to)")
        }
        guard record.leaves[id] == nil else { throw LedgerError(.invalidState, "leave \(id) was already requested") }
        if record.leaves.values.contains(where: { $0.approved == true && $0.from <= to && from <= $0.to }) {
            throw LedgerError(.invalidState, "the request overlaps approved leave")
        }
        return .leaveRequested(id: id, kind: kind, from: from, to: to, at: at)
    }

    /// A leave decision: by the direct head (or the agency head), never by the requester.
    public static func decideLeave(_ record: PersonRecord, id: UUID, approve: Bool, requester: String,
                                   deciders: Set<String>, by actor: String, at: Int64) throws(LedgerError) -> PersonEvent {
        guard let leave = record.leaves[id] else { throw LedgerError(.notFound, "no leave request \(id)") }
        guard leave.approved == nil else { throw LedgerError(.invalidState, "leave \(id) was already decided") }
        guard actor != requester else { throw LedgerError(.notPermitted, "nobody approves their own leave") }
        guard deciders.contains(actor) else {
            throw LedgerError(.notPermitted, "leave is decided by the direct head or the agency head, not \(actor)")
        }
        return .leaveDecided(id: id, approved: approve, by: actor, at: at)
    }

    /// A duty-exception decision: within the cap by the agency head; beyond the cap only by the superior agency's
    /// head; never by the requester.
    public static func decideException(_ record: PersonRecord, person: String, id: UUID, grant: Bool,
                                       agencyHead: String?, superiorHead: String?, by actor: String, at: Int64)
        throws(LedgerError) -> PersonEvent
    {
        guard let e = record.exceptions[id] else { throw LedgerError(.notFound, "no duty-exception request \(id)") }
        guard e.granted == nil else { throw LedgerError(.invalidState, "exception \(id) was already decided") }
        guard actor != e.requestedBy, actor != person else {
            throw LedgerError(.notPermitted, "nobody decides their own exception")
        }
        if e.beyondCap {
            guard actor == superiorHead else {
                throw LedgerError(.notPermitted, "an exception beyond the cap is decided by the superior agency's head "
                    + "(\(superiorHead ?? "none configured")), not \(actor)")
            }
        } else {
            guard actor == agencyHead || actor == superiorHead else {
                throw LedgerError(.notPermitted, "an exception within the cap is decided by the agency head "
                    + "(\(agencyHead ?? "none")), not \(actor)")
            }
        }
        return .exceptionDecided(id: id, granted: grant, by: actor, at: at)
    }
}
