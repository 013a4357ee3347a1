import EventStore
import Foundation

extension LedgerService {
    static let attendanceCommands: Set<String> = [
        "roster.publish", "roster.publishLeaders", "attendance.checkIn", "attendance.checkOut", "progress.report",
        "leave.request", "leave.approve", "leave.reject", "exception.request", "exception.grant", "exception.deny",
        "system.endOfDay",
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
                if c.envelope.type == "roster.publishLeaders" {
                    let agency = try b.string("agency")
                    let stream = Roster.leaderStream(agency: agency, week: week)
                    let (current, version) = try roster(stream)
                    let event = try AttendanceRules.decideLeaderRoster(
                        agency: agency, week: week, entries: entries, current: current, reference: c.reference,
                        calendar: calendar, by: c.actor)
                    return [PlannedAppend(stream: stream, readVersion: version, events: [event])]
                }
                let unit = try b.string("unit")
                guard c.reference.units[unit] != nil else { throw LedgerError(.notFound, "no unit \(unit)") }
                let stream = Roster.stream(unit: unit, week: week)
                let (current, version) = try roster(stream)
                var people = [String: PersonRecord]()
                var guards = [PlannedAppend]()
                for person in Set(entries.filter { $0.location == .onsite }.map(\.person)).sorted() {
                    let (record, v) = try self.person(person)
                    people[person] = record
                    guards.append(PlannedAppend(stream: "person-\(person)", readVersion: v, events: []))
                }
                let event = try AttendanceRules.decideRoster(
                    unit: unit, week: week, entries: entries, current: current, reference: c.reference,
                    calendar: calendar, people: people, by: c.actor)
                return [PlannedAppend(stream: stream, readVersion: version, events: [event])] + guards

            case "attendance.checkIn":
                let location = try b.choice("location", WorkLocation.self)
                guard let assignment = c.reference.assignment(of: me, on: today) else {
                    throw LedgerError(.notFound, "\(me) is on no unit's staff on \(today)")
                }
                let (record, personVersion) = try person(me)
                try AttendanceRules.checkInAllowed(record, date: today, calendar: calendar)
                if location == .remote {
                    return [PlannedAppend(stream: "person-\(me)", readVersion: personVersion, events: [
                        PersonEvent.checkedIn(unit: assignment.unit, location: .remote, date: today, at: c.at).new,
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
                                            exception: record.exception(on: today))
                return try AttendanceHandler(store: store, calendar: calendar).plan(request, personVersion: personVersion,
                                                                                     guarding: guards)

            case "attendance.checkOut":
                return try onPerson(me) { r in try AttendanceRules.decideCheckOut(r, date: today, at: c.at) }

            case "progress.report":
                let head = c.reference.assignment(of: me, on: today)?.directHead
                return try onPerson(me) { r in
                    try AttendanceRules.decideReport(r, date: today, to: head, items: Int(try b.int("items")), at: c.at)
                }

            case "leave.request":
                return try onPerson(me) { r in
                    try AttendanceRules.decideLeaveRequest(r, id: try b.uuid("leave"), kind: try b.string("kind"),
                                                           from: try b.date("from"), to: try b.date("to"),
                                                           calendar: calendar, at: c.at)
                }

            case "leave.approve", "leave.reject":
                let requester = try b.string("person")
                var deciders = Set<String>()
                if let head = c.reference.assignment(of: requester, on: today)?.directHead { deciders.insert(head) }
                if let unit = c.reference.assignment(of: requester, on: today)?.unit,
                   let agency = c.reference.agency(ofUnit: unit), let head = c.reference.head(of: agency, on: today)
                { deciders.insert(head) }
                return try onPerson(requester) { r in
                    try AttendanceRules.decideLeave(r, id: try b.uuid("leave"), approve: c.envelope.type == "leave.approve",
                                                    requester: requester, deciders: deciders, by: me, at: c.at)
                }

            case "exception.request":
                let person = try b.optionalString("person") ?? me
                let date = try b.date("date")
                guard let unit = c.reference.assignment(of: person, on: date)?.unit else {
                    throw LedgerError(.notFound, "\(person) is on no unit's staff on \(date)")
                }
                let reason = try b.string("reason")
                if let policy = c.reference.policy(for: c.reference.agency(ofUnit: unit) ?? "", on: date),
                   !policy.allowedOnsiteReasons.contains(reason) {
                    throw LedgerError(.badField, "body.reason must be one of the duty policy's on-site reasons ("
                        + policy.allowedOnsiteReasons.joined(separator: ", ") + "); got \"\(reason)\"",
                                      field: "body.reason")
                }
                let (roster, rosterVersion) = try roster(Roster.stream(unit: unit, week: date))
                let (cap, _, _) = try AttendanceRules.cap(unit: unit, on: date, reference: c.reference)
                let beyondCap = roster.onsite(on: date).count >= cap
                var shares = try onPerson(person) { r in
                    guard calendar.isWorkingDay(date) else { throw LedgerError(.invalidCommand, "\(date) is not a working day") }
                    let id = try b.uuid("exception")
                    guard r.exceptions[id] == nil else { throw LedgerError(.invalidState, "exception \(id) was already requested") }
                    return .exceptionRequested(id: id, date: date, beyondCap: beyondCap, reason: reason, at: c.at)
                }
                shares.append(PlannedAppend(stream: Roster.stream(unit: unit, week: date), readVersion: rosterVersion,
                                            events: []))
                return shares

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
                                                        at: c.at)
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
                for unit in c.reference.units(of: agency) {
                    let (day, _) = try attendance.load(unit: unit.id, date: date)
                    let (roster, _) = try roster(Roster.stream(unit: unit.id, week: date))
                    let cap = (try? AttendanceRules.cap(unit: unit.id, on: date, reference: c.reference).cap) ?? 0
                    units.append(.init(unit: unit.id, day: day, roster: roster, cap: cap))
                    for member in c.reference.staff(of: unit.id, on: date) {
                        people[member.staff] = try person(member.staff).0
                    }
                }
                let (leaders, _) = try roster(Roster.leaderStream(agency: agency, week: date))
                let events = try EndOfDay.decide(agency: agency, date: date, units: units, leaderRoster: leaders,
                                                 people: people, reference: c.reference, calendar: calendar, at: c.at)
                let stream = EndOfDay.stream(agency: agency, date: date)
                guard try store.streamInfo(stream) == nil else {
                    throw LedgerError(.nothingToRecord, "the day \(date) of \(agency) is already closed")
                }
                return [PlannedAppend(stream: stream, readVersion: 0, events: events)]
            }
        }
    }
}
