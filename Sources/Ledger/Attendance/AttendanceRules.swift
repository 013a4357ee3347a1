public import Foundation

/// The attendance and duty decisions of Directive 16 (domain.md §3.2, §6), pure: rosters under the cap and the
/// leader rule, remote check-ins, check-outs, progress reports, leave, duty exceptions and the end-of-day check.
public enum AttendanceRules {
    /// The cap of a unit on a date: `max(1, floor(headcount × ratio))` with the headcount from the staff assigned.
    public static func cap(unit: String, on date: CivilDate, reference: ReferenceData) throws(LedgerError)
        -> (cap: Int, headcount: Int, policy: ReferenceData.DutyPolicy)
    {
        guard let agency = reference.agency(ofUnit: unit) else { throw LedgerError(.notFound, "no unit \(unit)") }
        guard let policy = reference.policy(forUnit: unit, on: date) else {
            throw LedgerError(.notFound, "no duty policy covers unit \(unit) of agency \(agency) on \(date)")
        }
        let headcount = reference.staff(of: unit, on: date).count
        return (UnitDay.cap(headcount: headcount, ratio: policy.ratio), headcount, policy)
    }

    /// A unit's weekly roster: published by a leader of the unit (or the agency head); working dates of the week
    /// only, members of the unit only, nobody ONSITE on approved leave, and per date no more ONSITE than the cap,
    /// counting the unit's leaders the agency's leader roster puts on site (`leaderOnsite`). A place beyond the cap
    /// is accepted only for someone holding a beyond-cap exception granted for that date, and is marked. An
    /// amendment (a roster already published) needs a reason and cannot change a date before `today`.
    public static func decideRoster(unit: String, week: CivilDate, entries: [Roster.Entry], current: Roster,
                                    leaderOnsite: [CivilDate: Set<String>], reason: String?, today: CivilDate,
                                    reference: ReferenceData, calendar: WorkingCalendar,
                                    people: [String: PersonRecord], by actor: Actor) throws(LedgerError) -> NewEvent {
        guard [.unitHead, .deputyHead, .agencyHead].contains(actor.role) else {
            throw LedgerError(.notPermitted, "the unit head publishes the unit's roster")
        }
        let monday = Roster.monday(of: week)
        guard reference.leads(unit, staff: actor.staffID, on: monday.adding(days: 6)) else {
            throw LedgerError(.notPermitted, "\(actor.staffID) leads neither unit \(unit) nor its agency, so cannot "
                + "publish its roster")
        }
        guard !entries.isEmpty else { throw LedgerError(.invalidCommand, "a roster needs entries") }
        var onsite = [CivilDate: Set<String>]()
        var seen = Set<String>()
        for e in entries {
            try checkWeekDate(e.date, monday: monday, calendar: calendar)
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
            onsite[e.date, default: []].insert(e.person)
        }
        for (date, leaders) in leaderOnsite { onsite[date, default: []].formUnion(leaders) }
        try checkDeskFields(unit: unit, monday: monday, onsite: onsite, reference: reference, calendar: calendar)
        let beyond = try checkCap(unit: unit, onsite: onsite, people: people, reference: reference)
        return try rosterEvent(scope: unit, week: monday, entries: entries, beyondCap: beyond, current: current,
                               reason: reason, today: today, policyVersion: reference.policyVersion)
    }

    /// An agency's leader-duty roster, published by the agency head or a deputy (a leader of the head's unit
    /// reporting to the head): leaders of the agency only, on
    /// working dates of the week, none ONSITE on approved leave; every working date has at least the policy's
    /// minimum of leaders ONSITE; and each leader's unit stays within its cap that day, counting its own roster
    /// (`unitRosters`, by unit) — the cap counts leaders too (domain.md §6).
    public static func decideLeaderRoster(agency: String, week: CivilDate, entries: [Roster.Entry], current: Roster,
                                          unitRosters: [String: Roster], reason: String?, today: CivilDate,
                                          reference: ReferenceData, calendar: WorkingCalendar,
                                          people: [String: PersonRecord], by actor: Actor) throws(LedgerError)
        -> NewEvent
    {
        guard [.agencyHead, .deputyHead].contains(actor.role) else {
            throw LedgerError(.notPermitted, "the agency head publishes the leader-duty roster")
        }
        let monday = Roster.monday(of: week)
        // The agency head, or a deputy: a leader of the head's own unit who reports to the head.
        let sunday = monday.adding(days: 6)
        let head = reference.head(of: agency, on: sunday)
        let mine = reference.assignment(of: actor.staffID, on: sunday)
        let isDeputy = mine.map { m in
            m.isLeader && head != nil && m.directHead == head && m.unit == reference.assignment(of: head!, on: sunday)?.unit
        } ?? false
        guard actor.staffID == head || isDeputy else {
            throw LedgerError(.notPermitted, "\(actor.staffID) is neither the head of \(agency) nor a deputy of theirs, "
                + "so cannot publish its leader-duty roster")
        }
        var unitOnsite = [String: [CivilDate: Set<String>]]()
        var seen = Set<String>()
        for e in entries {
            try checkWeekDate(e.date, monday: monday, calendar: calendar)
            guard let a = reference.assignment(of: e.person, on: e.date), a.isLeader,
                  reference.agency(ofUnit: a.unit) == agency
            else { throw LedgerError(.invalidCommand, "\(e.person) is not a leader of \(agency) on \(e.date)") }
            guard seen.insert("\(e.date) \(e.person)").inserted else {
                throw LedgerError(.invalidCommand, "\(e.person) appears twice on \(e.date)")
            }
            guard e.location == .onsite else { continue }
            if people[e.person]?.onLeave(e.date) == true {
                throw LedgerError(.invalidCommand, "\(e.person) is on approved leave on \(e.date) and cannot be on duty ONSITE")
            }
            unitOnsite[a.unit, default: [:]][e.date, default: []].insert(e.person)
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
        var beyond = [CivilDate: Set<String>]()
        for (unit, byDate) in unitOnsite.sorted(by: { $0.key < $1.key }) {
            var onsite = byDate
            for date in byDate.keys { onsite[date]!.formUnion(unitRosters[unit]?.onsite(on: date) ?? []) }
            for (date, people) in try checkCap(unit: unit, onsite: onsite, people: people, reference: reference) {
                beyond[date, default: []].formUnion(people)
            }
        }
        return try rosterEvent(scope: agency, week: monday, entries: entries, beyondCap: beyond, current: current,
                               reason: reason, today: today, policyVersion: reference.policyVersion)
    }

    /// The event of a roster decided: its ONSITE lines beyond the cap marked as exceptions, and for an amendment its
    /// reason and changes.
    static func rosterEvent(scope: String, week monday: CivilDate, entries: [Roster.Entry],
                            beyondCap beyond: [CivilDate: Set<String>], current: Roster, reason: String?,
                            today: CivilDate, policyVersion: Int) throws(LedgerError) -> NewEvent {
        let marked = entries.map { e in
            var e = e
            e.exception = e.location == .onsite && beyond[e.date]?.contains(e.person) == true
            return e
        }
        let amendment = try checkAmendment(marked, current: current, reason: reason, today: today)
        return Roster.event(scope: scope, week: monday, entries: marked, amendment: amendment,
                            policyVersion: policyVersion)
    }

    /// A roster date: in the week of `monday` and a working day.
    static func checkWeekDate(_ date: CivilDate, monday: CivilDate, calendar: WorkingCalendar) throws(LedgerError) {
        guard Roster.monday(of: date) == monday else {
            throw LedgerError(.invalidCommand, "\(date) is not in the week of \(monday)")
        }
        guard calendar.isWorkingDay(date) else { throw LedgerError(.invalidCommand, "\(date) is not a working day") }
    }

    /// A one-stop desk under a policy asking for it (`deskFieldCoverage`) has, every working date of the week the
    /// policy covers, someone on site for each of the desk's fields (an officer whose assignment lists the field).
    static func checkDeskFields(unit: String, monday: CivilDate, onsite: [CivilDate: Set<String>],
                                reference: ReferenceData, calendar: WorkingCalendar) throws(LedgerError) {
        guard let desk = reference.units[unit], desk.isOneStopDesk, !desk.fields.isEmpty else { return }
        for date in (0..<7).map({ monday.adding(days: $0) }) where calendar.isWorkingDay(date) {
            guard reference.policy(forUnit: unit, on: date)?.deskFieldCoverage == true else { continue }
            let present = onsite[date] ?? []
            for field in desk.fields.sorted() {
                guard !present.contains(where: { reference.assignment(of: $0, on: date)?.fields.contains(field) == true })
                else { continue }
                let officers = reference.staff(of: unit, on: date).filter { $0.fields.contains(field) }.map(\.staff)
                throw LedgerError(.invalidCommand, "the one-stop desk \(unit) has nobody on site for field \(field) on "
                    + "\(date); the duty policy keeps every field served each working day — roster one of "
                    + (officers.isEmpty ? "its officers (none handles \(field): give one the field with staff.assign)"
                        : officers.joined(separator: ", ")) + " ONSITE")
            }
        }
    }

    /// Checks a unit's on-site places per date against its cap (`onsite`: everyone rostered ONSITE, leaders
    /// included). Beyond the cap, only people holding a beyond-cap exception granted for the date may be on site;
    /// returns them, by date.
    static func checkCap(unit: String, onsite: [CivilDate: Set<String>], people: [String: PersonRecord],
                         reference: ReferenceData) throws(LedgerError) -> [CivilDate: Set<String>] {
        var beyond = [CivilDate: Set<String>]()
        for (date, persons) in onsite.sorted(by: { $0.key < $1.key }) {
            let (cap, headcount, policy) = try cap(unit: unit, on: date, reference: reference)
            guard persons.count > cap else { continue }
            let excepted = persons.filter { people[$0]?.exception(on: date) == .beyondCap }
            guard persons.count - excepted.count <= cap else {
                throw LedgerError(.capReached, "the roster puts \(persons.count) ONSITE in unit \(unit) on \(date) "
                    + "(leaders included), over the cap of \(cap) (headcount \(headcount), ratio "
                    + "\(policy.ratio.numerator)/\(policy.ratio.denominator)); a place beyond it needs a duty exception "
                    + "granted by the superior head")
            }
            beyond[date] = excepted
        }
        return beyond
    }

    /// An amendment of a published roster: a reason, and no change to a date before `today`; a first publication
    /// covers no date before `today`. Returns the amendment's reason and changes, or `nil` for a first publication.
    static func checkAmendment(_ entries: [Roster.Entry], current: Roster, reason: String?, today: CivilDate)
        throws(LedgerError) -> Roster.Amendment?
    {
        guard current.published else {
            // A first publication is made ahead: it cannot say who was to be on site on a day already past.
            if let past = entries.map(\.date).filter({ $0 < today }).min() {
                throw LedgerError(.invalidCommand, "the roster covers \(past), which is past; publish a roster from today "
                    + "(\(today)) on")
            }
            return nil
        }
        guard let reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw LedgerError(.badField, "amending a published roster needs body.reason", field: "body.reason")
        }
        let before = Set(current.entries.map(\.line)), after = Set(entries.map(\.line))
        let removed = current.entries.filter { !after.contains($0.line) }
        let added = entries.filter { !before.contains($0.line) }
        if let past = (removed + added).map(\.date).filter({ $0 < today }).min() {
            throw LedgerError(.invalidCommand, "the amendment changes \(past), which is past; a roster is amended only "
                + "from today (\(today)) on")
        }
        return Roster.Amendment(reason: reason, added: added, removed: removed)
    }

    /// A REMOTE check-in: a working day, not on leave, not checked in already.
    public static func decideRemoteCheckIn(_ record: PersonRecord, unit: String, date: CivilDate, at: Int64,
                                           calendar: WorkingCalendar, source: CheckInSource? = nil)
        throws(LedgerError) -> PersonEvent
    {
        try checkInAllowed(record, date: date, calendar: calendar)
        return .checkedIn(unit: unit, location: .remote, date: date, at: at, source: source)
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

    /// A check-out closes the day's open session, with the official's summary of the day when given: at most
    /// ``summaryLimit`` characters of text (line breaks allowed, no other control characters).
    public static func decideCheckOut(_ record: PersonRecord, date: CivilDate, at: Int64, summary: String? = nil)
        throws(LedgerError) -> PersonEvent
    {
        guard record.sessions[date]?.open == true else {
            throw LedgerError(.invalidState, "no open check-in on \(date) to close")
        }
        // Line breaks as a browser's form sends them (CRLF) are kept as LF.
        let text = summary?.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        if let text {
            guard !text.isEmpty, text.count <= summaryLimit, text.utf8.count <= 4 * summaryLimit,
                  !text.unicodeScalars.contains(where: {
                      $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t"
                  })
            else {
                throw LedgerError(.badField, "body.summary is the day's account: 1–\(summaryLimit) characters of text "
                    + "(line breaks and tabs allowed, no other control characters)", field: "body.summary")
            }
        }
        return .checkedOut(date: date, at: at, summary: text)
    }

    /// The longest check-out summary, in characters.
    public static let summaryLimit = 2_000

    /// A day's progress report, to the direct head, once per day.
    public static func decideReport(_ record: PersonRecord, date: CivilDate, to head: String?, items: [ProgressItem],
                                    at: Int64) throws(LedgerError) -> PersonEvent
    {
        guard let head else { throw LedgerError(.invalidCommand, "the agency head reports to nobody") }
        guard !record.reports.contains(date) else {
            throw LedgerError(.invalidState, "the progress report of \(date) was already sent")
        }
        guard !items.isEmpty, items.count <= ProgressItem.maximumPerReport else {
            throw LedgerError(.invalidCommand, "a progress report lists 1 to \(ProgressItem.maximumPerReport) items")
        }
        for (i, item) in items.enumerated() {
            guard !item.taskRef.isEmpty, item.taskRef.utf8.count <= 120 else {
                throw LedgerError(.badField, "body.items[\(i)].taskRef must name the task or dossier (1–120 bytes)",
                                  field: "body.items[\(i)].taskRef")
            }
            guard ProgressItem.statuses.contains(item.status) else {
                throw LedgerError(.badField, "body.items[\(i)].status must be one of "
                    + ProgressItem.statuses.sorted().joined(separator: ", ") + " (got \"\(item.status)\")",
                                  field: "body.items[\(i)].status")
            }
            guard (item.note?.count ?? 0) <= 500 else {
                throw LedgerError(.badField, "body.items[\(i)].note is over 500 characters", field: "body.items[\(i)].note")
            }
        }
        return .progressReported(date: date, to: head, items: items, at: at)
    }

    /// Annual leave days a year (Labour Code art. 113 for ordinary work; seniority days are not modelled).
    public static let annualLeaveDays = 12.0

    /// A leave request: sent by official e-mail (its message id kept), working dates in order, a half day only for
    /// one day, no overlap with approved leave, and ANNUAL leave within the year's allowance.
    public static func decideLeaveRequest(_ record: PersonRecord, id: UUID, kind: String, from: CivilDate,
                                          to: CivilDate, halfDay: HalfDay?, emailMessageID: String,
                                          calendar: WorkingCalendar, at: Int64) throws(LedgerError) -> PersonEvent
    {
        guard !emailMessageID.isEmpty, emailMessageID.utf8.count <= 250 else {
            throw LedgerError(.badField, "body.emailMessageId must give the official e-mail's Message-ID (1–250 bytes); "
                + "leave is requested by official e-mail", field: "body.emailMessageId")
        }
        guard halfDay == nil || from == to else {
            throw LedgerError(.badField, "a half day's leave covers one date; body.from and body.to differ",
                              field: "body.halfDay")
        }
        guard ["ANNUAL", "SICK", "PERSONAL", "UNPAID"].contains(kind) else {
            throw LedgerError(.invalidCommand, "leave kind \(kind) is not ANNUAL, SICK, PERSONAL or UNPAID")
        }
        guard from <= to, calendar.workingDays(from: from, through: to) > 0 else {
            throw LedgerError(.invalidCommand, "a leave request needs at least one working day from \(from) to \(to)")
        }
        guard record.leaves[id] == nil else { throw LedgerError(.invalidState, "leave \(id) was already requested") }
        // Morning and afternoon of one day do not overlap.
        if record.leaves.values.contains(where: { l in
            l.inForce && l.from <= to && from <= l.to && !(l.halfDay != nil && halfDay != nil && l.halfDay != halfDay)
        }) {
            throw LedgerError(.invalidState, "the request overlaps approved leave")
        }
        if kind == "ANNUAL" {
            var asked = [Int: Double]()
            var day = from
            while day <= to {
                if calendar.isWorkingDay(day) { asked[day.year, default: 0] += halfDay == nil ? 1 : 0.5 }
                day = day.adding(days: 1)
            }
            for (year, days) in asked.sorted(by: { $0.key < $1.key }) {
                let taken = record.annualLeaveDays(in: year, calendar: calendar)
                guard taken + days <= annualLeaveDays else {
                    throw LedgerError(.invalidCommand, "the request asks \(days.formatted1) day(s) of annual leave in "
                        + "\(year); \(taken.formatted1) of \(annualLeaveDays.formatted1) are approved or pending")
                }
            }
        }
        return .leaveRequested(id: id, kind: kind, from: from, to: to, halfDay: halfDay,
                               emailMessageID: emailMessageID, at: at)
    }

    /// A leave decision: by the direct head, the agency head or a delegate of the direct head (`deciders`), never
    /// by the requester. An approval flags the dates the person is rostered ONSITE (`rosteredOnsite`) for the unit
    /// head to amend.
    public static func decideLeave(_ record: PersonRecord, id: UUID, approve: Bool, requester: String,
                                   deciders: Set<String>, rosteredOnsite: Set<CivilDate>, by actor: String, at: Int64)
        throws(LedgerError) -> PersonEvent
    {
        guard let leave = record.leaves[id] else { throw LedgerError(.notFound, "no leave request \(id)") }
        guard !leave.cancelled else { throw LedgerError(.invalidState, "leave \(id) was withdrawn") }
        guard leave.approved == nil else { throw LedgerError(.invalidState, "leave \(id) was already decided") }
        guard actor != requester else { throw LedgerError(.notPermitted, "nobody approves their own leave") }
        guard deciders.contains(actor) else {
            throw LedgerError(.notPermitted, "leave is decided by the direct head, a delegate of theirs or the agency "
                + "head, not \(actor)")
        }
        let conflicts = approve ? rosteredOnsite.filter { leave.from <= $0 && $0 <= leave.to }.sorted() : []
        return .leaveDecided(id: id, approved: approve, by: actor, rosterConflicts: conflicts, at: at)
    }

    /// Withdraws a leave request, pending or approved, before its first day: by the requester or one who may
    /// decide it.
    public static func decideLeaveCancel(_ record: PersonRecord, id: UUID, requester: String, deciders: Set<String>,
                                         today: CivilDate, by actor: String, at: Int64) throws(LedgerError)
        -> PersonEvent
    {
        guard let leave = record.leaves[id] else { throw LedgerError(.notFound, "no leave request \(id)") }
        guard !leave.cancelled else { throw LedgerError(.invalidState, "leave \(id) was already withdrawn") }
        guard leave.approved != false else { throw LedgerError(.invalidState, "leave \(id) was rejected") }
        guard actor == requester || deciders.contains(actor) else {
            throw LedgerError(.notPermitted, "leave is withdrawn by the requester or one who decides it, not \(actor)")
        }
        guard today < leave.from else {
            throw LedgerError(.invalidState, "leave \(id) began on \(leave.from); only leave not yet begun is withdrawn")
        }
        return .leaveCancelled(id: id, by: actor, at: at)
    }

    /// A duty-exception decision: within the cap by the agency head; beyond the cap only by the superior agency's
    /// head; never by the requester.
    public static func decideException(_ record: PersonRecord, person: String, id: UUID, grant: Bool,
                                       agencyHead: String?, superiorHead: String?, by actor: String, at: Int64,
                                       denial: ExceptionDenial? = nil)
        throws(LedgerError) -> PersonEvent
    {
        guard grant || denial != nil else {
            throw LedgerError(.badField, "a denied duty exception needs its reason code (body.reasonCode: "
                + ExceptionDenial.allCases.map(\.rawValue).joined(separator: ", ") + ")", field: "body.reasonCode")
        }
        guard !grant || denial == nil else {
            throw LedgerError(.badField, "a granted duty exception has no denial reason", field: "body.reasonCode")
        }
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
        return .exceptionDecided(id: id, granted: grant, by: actor, at: at, denial: denial,
                                 validFor: grant ? e.date : nil)
    }
}

extension Double {
    /// A day count as people write it: `12`, `0.5`.
    fileprivate var formatted1: String {
        self == rounded() ? String(Int(self)) : String(format: "%.1f", self)
    }
}
