import EventStore
import Foundation

extension LedgerService {
    static let attendanceCommands: Set<String> = [
        "roster.publish", "roster.publishLeaders", "attendance.checkIn", "attendance.checkOut", "progress.report",
        "leave.request", "leave.approve", "leave.reject", "leave.cancel", "exception.request", "exception.grant", "exception.deny",
        "health.report", "system.endOfDay",
    ]

    func executeAttendance(_ c: Command) async throws -> AppendResult {
        let b = c.body
        let calendar = try c.workingCalendar().calendar
        let me = c.actor.staffID
        return try await handler.execute(c.context) {
            let today = calendar.local(c.at).date
            /// Appends person events to `staff`'s stream at the version read.
            func onPerson(_ staff: String, _ decide: (PersonRecord) throws -> PersonEvent) throws -> [PlannedAppend] {
                let (record, version) = try person(staff)
                return [PlannedAppend(stream: "person-\(staff)", readVersion: version, events: [try decide(record).new])]
            }
            switch c.envelope.type {
            case "roster.publish", "roster.publishLeaders":
                let week = try b.date("week")
                var entries = [Roster.Entry]()
                for e in try b.objects("entries") {
                    entries.append(Roster.Entry(date: try e.date("date"), person: try e.string("person"),
                                                location: try e.choice("location", WorkLocation.self),
                                                duty: try e.optionalString("duty") ?? "OFFICE"))
                }
                let reason = try b.optionalString("reason")
                var people = [String: PersonRecord]()
                var guards = [PlannedAppend]()
                /// Reads the records of `persons` (leave, exceptions), each guarded.
                func readPeople(_ persons: Set<String>) throws {
                    for person in persons.subtracting(people.keys).sorted() {
                        let (record, v) = try self.person(person)
                        people[person] = record
                        guards.append(PlannedAppend(stream: "person-\(person)", readVersion: v, events: []))
                    }
                }
                let onsiteInEntries = Set(entries.filter { $0.location == .onsite }.map(\.person))
                if c.envelope.type == "roster.publishLeaders" {
                    let agency = try b.string("agency")
                    guard c.reference.agencies[agency] != nil else { throw LedgerError(.notFound, "no agency \(agency)") }
                    let stream = Roster.leaderStream(agency: agency, week: week)
                    let (current, version) = try roster(stream)
                    // The units of the leaders on site: their rosters count toward the same caps.
                    var unitRosters = [String: Roster]()
                    let units = Set(entries.compactMap { c.reference.assignment(of: $0.person, on: $0.date)?.unit })
                    for unit in units.sorted() {
                        let unitStream = Roster.stream(unit: unit, week: week)
                        let (r, v) = try roster(unitStream)
                        unitRosters[unit] = r
                        guards.append(PlannedAppend(stream: unitStream, readVersion: v, events: []))
                    }
                    try readPeople(onsiteInEntries.union(unitRosters.values.flatMap { r in
                        r.entries.filter { $0.location == .onsite }.map(\.person)
                    }))
                    let event = try AttendanceRules.decideLeaderRoster(
                        agency: agency, week: week, entries: entries, current: current, unitRosters: unitRosters,
                        reason: reason, today: today, reference: c.reference, calendar: calendar, people: people,
                        by: c.actor)
                    return [PlannedAppend(stream: stream, readVersion: version, events: [event])] + guards
                }
                let unit = try b.string("unit")
                guard c.reference.units[unit] != nil, let agency = c.reference.agency(ofUnit: unit) else {
                    throw LedgerError(.notFound, "no unit \(unit)")
                }
                let stream = Roster.stream(unit: unit, week: week)
                let (current, version) = try roster(stream)
                // The unit's leaders on the agency's leader-duty roster count toward its cap.
                let leaderStream = Roster.leaderStream(agency: agency, week: week)
                let (leaders, leadersVersion) = try roster(leaderStream)
                guards.append(PlannedAppend(stream: leaderStream, readVersion: leadersVersion, events: []))
                var leaderOnsite = [CivilDate: Set<String>]()
                for e in leaders.entries where e.location == .onsite
                    && c.reference.assignment(of: e.person, on: e.date)?.unit == unit
                {
                    leaderOnsite[e.date, default: []].insert(e.person)
                }
                try readPeople(onsiteInEntries.union(leaderOnsite.values.flatMap { $0 }))
                let event = try AttendanceRules.decideRoster(
                    unit: unit, week: week, entries: entries, current: current, leaderOnsite: leaderOnsite,
                    reason: reason, today: today, reference: c.reference, calendar: calendar, people: people,
                    by: c.actor)
                return [PlannedAppend(stream: stream, readVersion: version, events: [event])] + guards

            case "attendance.checkIn":
                let location = try b.choice("location", WorkLocation.self)
                let source = try b.optionalChoice("source", CheckInSource.self)
                guard let assignment = c.reference.assignment(of: me, on: today) else {
                    throw LedgerError(.notFound, "\(me) is on no unit's staff on \(today)")
                }
                let (record, personVersion) = try person(me)
                try AttendanceRules.checkInAllowed(record, date: today, calendar: calendar)
                if location == .remote {
                    return [PlannedAppend(stream: "person-\(me)", readVersion: personVersion, events: [
                        PersonEvent.checkedIn(unit: assignment.unit, location: .remote, date: today, at: c.at,
                                              source: source).new,
                    ])]
                }
                let unitRoster = Roster.stream(unit: assignment.unit, week: today)
                let (roster, rosterVersion) = try roster(unitRoster)
                var rostered = roster.onsite(on: today).contains(me)
                var guards = [PlannedAppend(stream: unitRoster, readVersion: rosterVersion, events: [])]
                if assignment.isLeader, let agency = c.reference.agency(ofUnit: assignment.unit) {
                    let leaderStream = Roster.leaderStream(agency: agency, week: today)
                    let (leaders, v) = try self.roster(leaderStream)
                    rostered = rostered || leaders.onsite(on: today).contains(me)
                    guards.append(PlannedAppend(stream: leaderStream, readVersion: v, events: []))
                }
                let (cap, headcount, policy) = try AttendanceRules.cap(unit: assignment.unit, on: today,
                                                                       reference: c.reference)
                _ = cap
                let request = OnsiteCheckIn(person: me, unit: assignment.unit, date: today, at: c.at,
                                            headcount: headcount, ratio: policy.ratio, rostered: rostered,
                                            exception: record.exception(on: today), source: source)
                return try AttendanceHandler(store: store, calendar: calendar).plan(request, personVersion: personVersion,
                                                                                     guarding: guards)

            case "attendance.checkOut":
                let summary = try b.optionalString("summary")
                let (record, version) = try person(me)
                let event = try AttendanceRules.decideCheckOut(record, date: today, at: c.at, summary: summary)
                // The summary goes under the official's own subject; once that was erased, none is recorded again.
                let subject = PersonEvent.dataSubject(ofStaff: me)
                if event.personal != nil, try store.isErased(subject) {
                    throw LedgerError(.invalidState, "the personal data of \(me) was erased; no summary is recorded for "
                        + "them again — check out without body.summary", field: "body.summary")
                }
                return [PlannedAppend(stream: "person-\(me)", readVersion: version, events: [event.new(subject: subject)])]

            case "progress.report":
                let head = c.reference.assignment(of: me, on: today)?.directHead
                var items = [ProgressItem]()
                guard case .array? = b.fields["items"] else {
                    throw LedgerError(.badField, "body.items must list the work reported on: [{taskRef, status, note?}]",
                                      field: "body.items")
                }
                for item in try b.objects("items") {
                    items.append(ProgressItem(taskRef: try item.string("taskRef"), status: try item.string("status"),
                                              note: try item.optionalString("note")))
                }
                return try onPerson(me) { r in
                    try AttendanceRules.decideReport(r, date: today, to: head, items: items, at: c.at)
                }

            case "leave.request":
                let halfDay = try b.optionalChoice("halfDay", HalfDay.self)
                return try onPerson(me) { r in
                    try AttendanceRules.decideLeaveRequest(r, id: try b.uuid("leave"), kind: try b.string("kind"),
                                                           from: try b.date("from"), to: try b.date("to"),
                                                           halfDay: halfDay,
                                                           emailMessageID: try b.optionalString("emailMessageId") ?? "",
                                                           calendar: calendar, at: c.at)
                }

            case "leave.approve", "leave.reject", "leave.cancel":
                let requester = try b.string("person")
                let id = try b.uuid("leave")
                var deciders = Set<String>()
                var guards = [PlannedAppend]()
                // The requester's assignment today, else their last (someone who has left still has leave to settle);
                // a direct head who has left decides nothing (the agency head does).
                let assignment = c.reference.assignment(of: requester, on: today)
                    ?? c.reference.assignments[requester]?.last
                if let head = assignment?.directHead, c.reference.assignment(of: head, on: today) != nil {
                    deciders.insert(head)
                    // A delegate of the direct head, in force now, decides too (domain.md §3.2).
                    let stream = Delegation.stream(from: head)
                    let (given, v) = try delegations(from: head)
                    deciders.formUnion(given.filter { $0.covers(c.at, .leave) }.map(\.to))
                    // Guarded even when the head has delegated nothing yet: a delegation made meanwhile is seen.
                    guards.append(PlannedAppend(stream: stream, readVersion: v, events: []))
                }
                if let unit = assignment?.unit, let agency = c.reference.agency(ofUnit: unit),
                   let head = c.reference.head(of: agency, on: today)
                { deciders.insert(head) }
                let (record, personVersion) = try person(requester)
                if c.envelope.type == "leave.cancel" {
                    let event = try AttendanceRules.decideLeaveCancel(record, id: id, requester: requester,
                                                                      deciders: deciders, today: today, by: me, at: c.at)
                    return [PlannedAppend(stream: "person-\(requester)", readVersion: personVersion, events: [event.new])]
                        + guards
                }
                // The weeks the leave spans: the dates its holder is rostered ONSITE are flagged on approval.
                var rostered = Set<CivilDate>()
                if c.envelope.type == "leave.approve", let leave = record.leaves[id], let unit = assignment?.unit,
                   leave.from <= leave.to, leave.to.daysSinceEpoch - leave.from.daysSinceEpoch <= 366
                {
                    // The unit's rosters and, for a leader, the agency's leader rosters of those weeks, each guarded
                    // (one not published yet too: a roster racing the approval is then decided again).
                    let leaderAgency = assignment?.isLeader == true ? c.reference.agency(ofUnit: unit) : nil
                    var monday = Roster.monday(of: leave.from)
                    while monday <= leave.to {
                        var streams = [Roster.stream(unit: unit, week: monday)]
                        if let leaderAgency { streams.append(Roster.leaderStream(agency: leaderAgency, week: monday)) }
                        for stream in streams {
                            let (r, v) = try roster(stream)
                            rostered.formUnion(r.entries.filter { $0.person == requester && $0.location == .onsite }
                                .map(\.date))
                            guards.append(PlannedAppend(stream: stream, readVersion: v, events: []))
                        }
                        monday = monday.adding(days: 7)
                    }
                }
                let event = try AttendanceRules.decideLeave(record, id: id, approve: c.envelope.type == "leave.approve",
                                                            requester: requester, deciders: deciders,
                                                            rosteredOnsite: rostered, by: me, at: c.at)
                return [PlannedAppend(stream: "person-\(requester)", readVersion: personVersion, events: [event.new])]
                    + guards

            case "exception.request":
                let person = try b.optionalString("person") ?? me
                let date = try b.date("date")
                guard let assignment = c.reference.assignment(of: person, on: date) else {
                    throw LedgerError(.notFound, "\(person) is on no unit's staff on \(date)")
                }
                let unit = assignment.unit
                guard person == me || assignment.directHead == me || c.reference.head(ofUnit: unit, on: date) == me else {
                    throw LedgerError(.notPermitted, "a duty exception is requested by the person or their head, not \(me)")
                }
                let kind = try b.optionalChoice("kind", ExceptionKind.self) ?? .extraOnsite
                let reason = try b.string("reason")
                if let policy = c.reference.policy(forUnit: unit, on: date),
                   !policy.allowedOnsiteReasons.contains(reason) {
                    throw LedgerError(.badField, "body.reason must be one of the duty policy's on-site reasons ("
                        + policy.allowedOnsiteReasons.joined(separator: ", ") + "); got \"\(reason)\"",
                                      field: "body.reason")
                }
                let rosterStream = Roster.stream(unit: unit, week: date)
                let (roster, rosterVersion) = try roster(rosterStream)
                var shares = [PlannedAppend(stream: rosterStream, readVersion: rosterVersion, events: [])]
                var onsite = Set(roster.onsite(on: date))
                if let agency = c.reference.agency(ofUnit: unit) {
                    let leaderStream = Roster.leaderStream(agency: agency, week: date)
                    let (leaders, v) = try self.roster(leaderStream)
                    onsite.formUnion(leaders.onsite(on: date).filter {
                        c.reference.assignment(of: $0, on: date)?.unit == unit
                    })
                    shares.append(PlannedAppend(stream: leaderStream, readVersion: v, events: []))
                }
                let swapWith = try b.optionalString("with")
                switch kind {
                case .extraOnsite:
                    guard !onsite.contains(person) else {
                        throw LedgerError(.invalidCommand, "\(person) is already rostered ONSITE on \(date); ask for an "
                            + "exception only to work otherwise than the roster says")
                    }
                case .swap:
                    guard let swapWith, swapWith != person, onsite.contains(swapWith), !onsite.contains(person),
                          c.reference.assignment(of: swapWith, on: date)?.unit == unit else {
                        throw LedgerError(.badField, "a SWAP names in body.with a colleague of \(unit) rostered ONSITE on "
                            + "\(date), whose place \(person) (not rostered ONSITE) takes", field: "body.with")
                    }
                case .remoteInstead:
                    guard onsite.contains(person) else {
                        throw LedgerError(.invalidCommand, "REMOTE_INSTEAD is for a day \(person) is rostered ONSITE; "
                            + "\(date) is not one")
                    }
                }
                guard kind == .swap || swapWith == nil else {
                    throw LedgerError(.badField, "only a SWAP names a colleague (body.with)", field: "body.with")
                }
                // An extra place counts the rostered and the extra places granted or asked for that day; a SWAP's
                // colleague must not be swapped out or remote already (the unit's members' streams are read and
                // guarded).
                var taken = onsite.count
                if kind != .remoteInstead {
                    for member in c.reference.staff(of: unit, on: date) where member.staff != person {
                        let (record, v) = try self.person(member.staff)
                        if !onsite.contains(member.staff) && record.claimsExtraPlace(on: date) { taken += 1 }
                        if kind == .swap, let swapWith {
                            if record.swappedOut(on: date, pending: true).contains(swapWith) {
                                throw LedgerError(.invalidState, "\(member.staff) already takes \(swapWith)'s place on \(date)")
                            }
                            if member.staff == swapWith && record.asksRemoteInstead(on: date) {
                                throw LedgerError(.invalidState, "\(swapWith) works remote on \(date) already (REMOTE_INSTEAD); "
                                    + "there is no place to take")
                            }
                        }
                        shares.append(PlannedAppend(stream: "person-\(member.staff)", readVersion: v, events: []))
                    }
                }
                let (cap, _, _) = try AttendanceRules.cap(unit: unit, on: date, reference: c.reference)
                let beyondCap = kind == .extraOnsite && taken >= cap
                shares += try onPerson(person) { r in
                    guard calendar.isWorkingDay(date) else { throw LedgerError(.invalidCommand, "\(date) is not a working day") }
                    let id = try b.uuid("exception")
                    guard r.exceptions[id] == nil else { throw LedgerError(.invalidState, "exception \(id) was already requested") }
                    return .exceptionRequested(id: id, date: date, kind: kind, beyondCap: beyondCap, reason: reason,
                                               at: c.at, swapWith: swapWith)
                }
                return shares

            case "health.report":
                // The role is claimed in the envelope: the reference data must say so too.
                guard c.actor.role == .hrOfficer, let mine = c.reference.assignment(of: me, on: today),
                      mine.isHROfficer else {
                    throw LedgerError(.notPermitted, "health incidents are reported by the agency's HR officer (a staff "
                        + "assignment with position \"\(ReferenceData.Assignment.hrPosition)\")")
                }
                let person = try b.string("person")
                let date = try b.date("date")
                let kind = try b.choice("kind", HealthIncident.Kind.self)
                guard let assignment = c.reference.assignment(of: person, on: date),
                      let agency = c.reference.agency(ofUnit: assignment.unit) else {
                    throw LedgerError(.notFound, "\(person) is on no unit's staff on \(date)")
                }
                guard c.reference.agency(ofUnit: mine.unit) == agency else {
                    throw LedgerError(.notPermitted, "\(me) is not on the staff of agency \(agency), \(person)'s")
                }
                let (record, version) = try self.person(person)
                let id = CommandEventIDs.eventID(command: c.context.commandID, index: 9_997)
                let incident = try HealthIncident.decide(record, id: id, person: person, unit: assignment.unit,
                                                         date: date, kind: kind, today: today, by: me, at: c.at)
                return [
                    PlannedAppend(stream: HealthIncident.stream(id), readVersion: 0, events: [incident.event]),
                    PlannedAppend(stream: "person-\(person)", readVersion: version, events: []),
                ]

            case "exception.grant", "exception.deny":
                let person = try b.string("person")
                let (record, _) = try self.person(person)
                let id = try b.uuid("exception")
                let date = record.exceptions[id]?.date ?? today
                let agency = c.reference.assignment(of: person, on: date).flatMap { c.reference.agency(ofUnit: $0.unit) }
                let agencyHead = agency.flatMap { c.reference.head(of: $0, on: date) }
                let superiorHead = agency.flatMap { c.reference.agencies[$0]?.superior }
                    .flatMap { c.reference.head(of: $0, on: date) }
                return try onPerson(person) { r in
                    try AttendanceRules.decideException(r, person: person, id: id, grant: c.envelope.type == "exception.grant",
                                                        agencyHead: agencyHead, superiorHead: superiorHead, by: me,
                                                        at: c.at, denial: try b.optionalChoice("reasonCode", ExceptionDenial.self))
                }

            default:  // system.endOfDay
                try c.requireSystem()
                let agency = try b.string("agency")
                let date = try b.optionalString("date").map { _ in try b.date("date") } ?? today
                let minute = calendar.local(c.at).minute
                guard date < today || (date == today && minute >= calendar.sessions.last!.end) else {
                    throw LedgerError(.invalidCommand, "the working day \(date) of \(agency) has not ended yet")
                }
                guard c.reference.agencies[agency] != nil else { throw LedgerError(.notFound, "no agency \(agency)") }
                let attendance = AttendanceHandler(store: store, calendar: calendar)
                var units = [EndOfDay.UnitInput]()
                var people = [String: PersonRecord]()
                // Every stream the findings are drawn from is guarded: a check-in, a report or a roster amendment
                // landing meanwhile makes the check decide again, so no finding contradicts the log it was appended to.
                var read = [PlannedAppend]()
                for unit in c.reference.units(of: agency) {
                    let (day, dayVersion) = try attendance.load(unit: unit.id, date: date)
                    let rosterStream = Roster.stream(unit: unit.id, week: date)
                    let (roster, rosterVersion) = try roster(rosterStream)
                    let cap = (try? AttendanceRules.cap(unit: unit.id, on: date, reference: c.reference).cap) ?? 0
                    units.append(.init(unit: unit.id, day: day, roster: roster, cap: cap))
                    read.append(PlannedAppend(stream: AttendanceHandler.stream(unit: unit.id, date: date), readVersion: dayVersion,
                                              events: []))
                    read.append(PlannedAppend(stream: rosterStream, readVersion: rosterVersion, events: []))
                    for member in c.reference.staff(of: unit.id, on: date) where people[member.staff] == nil {
                        let (record, version) = try person(member.staff)
                        people[member.staff] = record
                        read.append(PlannedAppend(stream: "person-\(member.staff)", readVersion: version, events: []))
                    }
                }
                let leaderStream = Roster.leaderStream(agency: agency, week: date)
                let (leaders, leadersVersion) = try roster(leaderStream)
                read.append(PlannedAppend(stream: leaderStream, readVersion: leadersVersion, events: []))
                let events = try EndOfDay.decide(agency: agency, date: date, units: units, leaderRoster: leaders,
                                                 people: people, reference: c.reference, calendar: calendar, at: c.at)
                let stream = EndOfDay.stream(agency: agency, date: date)
                guard try store.streamInfo(stream) == nil else {
                    throw LedgerError(.nothingToRecord, "the day \(date) of \(agency) is already closed")
                }
                return [PlannedAppend(stream: stream, readVersion: 0, events: events)] + read
            }
        }
    }
}
