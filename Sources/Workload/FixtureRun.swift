import Foundation
import Ledger

/// One generation run: the random source, the org chart and the commands so far.
struct Run {
    let g: FixtureGenerator
    var rng: SplitMix64
    var commands = [GeneratedCommand]()
    let agencies: [FixtureGenerator.AgencyModel]
    let people: [String: FixtureGenerator.Person]
    let days: [CivilDate]
    let horizon: Int64
    /// Leave days per person.
    var leave = [String: Set<CivilDate>]()
    /// Received-to-finished intervals of dossiers, for the scheduler's deadline checks.
    var running = [(dossier: UUID, from: Int64, to: Int64?)]()
    /// Applicants met so far (some come back with another dossier).
    var applicants = [(name: String, id: String)]()
    var refusedSecondSupplement = false
    var refusedLateApology = false
    /// Set once a dossier was made late on purpose (see the dossier's step times).
    var forcedLate = false
    var refusedFourEyes = false

    init(generator: FixtureGenerator) {
        g = generator
        rng = SplitMix64(seed: generator.seed)
        (agencies, people) = generator.organisation()
        days = generator.workingDays
        horizon = g.calendar.instant(days.last!, minute: 24 * 60 - 1)
    }

    var cal: WorkingCalendar { g.calendar }

    func at(_ day: CivilDate, _ hour: Int, _ minute: Int) -> Int64 { cal.instant(day, minute: hour * 60 + minute) }

    /// `minutes` working minutes after `t` (at least one second later).
    func wm(_ t: Int64, _ minutes: Int) -> Int64 { max(t + 60, cal.addingWorkingMinutes(max(1, minutes), to: t)) }

    mutating func uuid() -> UUID {
        var bytes = (0..<16).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        bytes[6] = 0x40 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                           bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    mutating func sha() -> String {
        (0..<4).map { _ in String(rng.next(), radix: 16).leftPadded(16) }.joined()
    }

    mutating func emit(_ t: Int64, _ type: String, _ staff: String, _ role: Actor.Role, unit: String? = nil,
                       _ body: [String: JSONValue], expect: GeneratedCommand.Expectation = .accepted) {
        guard t <= horizon else { return }
        commands.append(GeneratedCommand(at: t, seq: commands.count, commandID: uuid(), type: type,
                                         actor: Actor(staffID: staff, role: role, unit: unit), body: body,
                                         expect: expect))
    }

    mutating func pick<T>(_ items: [T]) -> T { items[rng.int(0...(items.count - 1))] }

    mutating func generate() {
        reference()
        planLeave()
        for (index, day) in days.enumerated() {
            if index == 0 || day.weekday == 1 { rosters(week: day, dayIndex: index) }
            attendance(day, index)
            for agency in agencies where agency.spec.dossiersPerDay > 0 {
                let count = agency.spec.dossiersPerDay * (day.weekday == 1 ? 3 : 2) / 2
                for _ in 0..<count { dossier(agency, day) }
            }
            for agency in agencies { tasks(agency, day) }
        }
        schedulerChecks()
    }

    // MARK: Reference data

    mutating func reference() {
        let day = days[0].adding(days: -1)
        var t = at(day, 8, 0)
        let hr = "system"
        func next() -> Int64 { t += 1; return t }
        for a in agencies {
            var body: [String: JSONValue] = ["id": .string(a.spec.id), "name": .string(a.spec.name),
                                             "level": .string(a.spec.level)]
            if let s = a.spec.superior { body["superior"] = .string(s) }
            emit(next(), "agency.define", hr, .system, body)
        }
        for a in agencies {
            for u in a.units {
                emit(next(), "unit.define", hr, .system, ["id": .string(u.id), "agency": .string(a.spec.id),
                                                          "name": .string(u.name), "desk": .bool(u.desk)])
            }
        }
        // Heads before the people reporting to them.
        let ordered = people.values.sorted { ($0.head == nil ? 0 : $0.leader ? 1 : 2, $0.id) < ($1.head == nil ? 0 : $1.leader ? 1 : 2, $1.id) }
        for p in ordered {
            var body: [String: JSONValue] = ["staff": .string(p.id), "unit": .string(p.unit),
                                             "position": .string(p.position), "leader": .bool(p.leader),
                                             "from": .string("2020-01-01")]
            if let h = p.head { body["head"] = .string(h) }
            emit(next(), "staff.assign", hr, .system, body)
        }
        for p in Catalogue.procedures {
            var body: [String: JSONValue] = [
                "code": .string(p.code), "name": .string(p.name), "field": .string(p.field),
                "onlineLevel": .number(Double(p.level)), "urgent": .bool(p.urgent),
                "channels": .array(["online", "direct", "postal"].map(JSONValue.string)),
                "requiredComponents": .array(Self.components.map(JSONValue.string)),
            ]
            if p.fee > 0 {
                body["fees"] = .array([.object(["code": "LEPHI", "amount": .number(Double(p.fee))])])
            }
            if let d = p.workingDays {
                body["durationUnit"] = .string("workingDays")
                body["duration"] = .number(Double(d))
            } else {
                body["durationUnit"] = .string("sameDay")
            }
            emit(next(), "procedure.publish", hr, .system, body)
        }
        emit(next(), "calendar.publish", hr, .system, ["id": .string("VN"),
                                                       "holidays": .array(Catalogue.holidays2020.map(JSONValue.string)),
                                                       "makeUpDays": .array([])])
        for a in agencies {
            emit(next(), "policy.declare", hr, .system, [
                "scope": .string(a.spec.id), "ratioNumerator": .number(Double(a.spec.ratio.0)),
                "ratioDenominator": .number(Double(a.spec.ratio.1)), "minLeaders": .number(1),
                "validFrom": .string("2020-04-01"), "validTo": .string("2020-06-30"), "directive16Intake": .bool(true),
            ])
        }
    }

    // MARK: Attendance

    /// One specialist per agency takes two days of annual leave in the second week.
    mutating func planLeave() {
        guard days.count > 6 else { return }
        for a in agencies {
            guard let division = a.divisions.first, division.members.count > 2 else { continue }
            let person = division.members[1 + rng.int(0...(division.members.count - 2))]
            let from = days[5 + rng.int(0...min(3, days.count - 7))]
            let to = days[min(days.count - 1, days.firstIndex(of: from)! + 1)]
            leave[person] = [from, to]
            let id = uuid()
            emit(at(days[0], 8, 30), "leave.request", person, .specialist, [
                "leave": .string(id.uuidString.lowercased()), "kind": .string("ANNUAL"), "from": .string("\(from)"),
                "to": .string("\(to)"), "emailMessageId": .string(Self.messageID(id, agency: a.spec.id)),
            ])
            emit(at(days[0], 9, 0), "leave.approve", division.head, .unitHead, [
                "leave": .string(id.uuidString.lowercased()), "person": .string(person),
            ])
            // Another asks for a morning off later on, then withdraws the request before the day.
            let other = division.members[1 + (division.members.firstIndex(of: person)! % (division.members.count - 1))]
            guard other != person else { continue }
            let half = uuid()
            emit(at(days[1], 8, 40), "leave.request", other, .specialist, [
                "leave": .string(half.uuidString.lowercased()), "kind": .string("PERSONAL"),
                "from": .string("\(days[4])"), "to": .string("\(days[4])"), "halfDay": .string("AM"),
                "emailMessageId": .string(Self.messageID(half, agency: a.spec.id)),
            ])
            emit(at(days[2], 9, 10), "leave.cancel", other, .specialist, [
                "leave": .string(half.uuidString.lowercased()), "person": .string(other),
            ])
            // A request without the official e-mail's message id is refused.
            emit(at(days[2], 9, 20), "leave.request", other, .specialist, [
                "leave": .string(uuid().uuidString.lowercased()), "kind": .string("SICK"),
                "from": .string("\(days[5])"), "to": .string("\(days[5])"),
            ], expect: .refused(.badField))
        }
    }

    /// The components every catalogue procedure requires: the application form and the applicant's identity papers.
    static let components = ["TK01", "GT01"]

    /// The Message-ID of the official e-mail a leave request came by.
    static func messageID(_ id: UUID, agency: String) -> String {
        "<\(id.uuidString.lowercased())@mail.\(agency.lowercased()).gov.vn>"
    }

    func onLeave(_ person: String, _ day: CivilDate) -> Bool { leave[person]?.contains(day) == true }

    /// Who a unit rosters ONSITE on the `index`-th simulated day: its cap, rotating, skipping people on leave.
    func rostered(_ u: FixtureGenerator.UnitModel, _ day: CivilDate, _ index: Int) -> [String] {
        let present = u.members.filter { !onLeave($0, day) }
        guard !present.isEmpty else { return [] }
        return (0..<min(u.cap, present.count)).map { present[(index * u.cap + $0) % present.count] }
    }

    mutating func rosters(week: CivilDate, dayIndex: Int) {
        let monday = week.adding(days: 1 - week.weekday)
        // Every working day of the week from the first simulated one (the leader rule holds for the whole week);
        // days past the simulation continue the rotation.
        var weekDays = [(offset: Int, element: CivilDate)]()
        var index = dayIndex
        for offset in 0..<7 {
            let d = monday.adding(days: offset)
            guard d >= days[0], cal.isWorkingDay(d) else { continue }
            weekDays.append((index, d))
            index += 1
        }
        let t = at(week, 7, 0)
        for a in agencies {
            for u in a.units {
                let entries: [JSONValue] = weekDays.flatMap { (i, d) in
                    u.members.map { m -> JSONValue in
                        .object(["date": .string("\(d)"), "person": .string(m),
                                 "location": .string(rostered(u, d, i).contains(m) ? "ONSITE" : "REMOTE"),
                                 "duty": .string(u.desk ? "ONE_STOP" : u.id == a.board.id ? "LEADER" : "OFFICE")])
                    }
                }
                let (publisher, role) = u.id == a.board.id || u.desk ? (a.director, Actor.Role.agencyHead)
                    : (u.head, Actor.Role.unitHead)
                emit(t, "roster.publish", publisher, role, ["unit": .string(u.id), "week": .string("\(monday)"),
                                                             "entries": .array(entries)])
            }
            let leaders: [JSONValue] = weekDays.flatMap { (i, d) in
                rostered(a.board, d, i).map { m -> JSONValue in
                    .object(["date": .string("\(d)"), "person": .string(m), "location": .string("ONSITE"),
                             "duty": .string("LEADER")])
                }
            }
            emit(t + 60, "roster.publishLeaders", a.director, .agencyHead, [
                "agency": .string(a.spec.id), "week": .string("\(monday)"), "entries": .array(leaders)])
        }
    }

    /// What remote staff report on (register references) and how it stands.
    static let workRefs = ["dossier-queue", "incoming-letters", "draft-replies", "statistics-report", "archive-review"]
    static let reportStatuses = ["DONE", "IN_PROGRESS", "IN_PROGRESS", "BLOCKED"]

    mutating func attendance(_ day: CivilDate, _ index: Int) {
        // The superior head of each agency, for exceptions beyond the cap.
        let directors = Dictionary(uniqueKeysWithValues: agencies.map { ($0.spec.id, $0.director) })
        for a in agencies {
            var unrosteredTried = false
            for u in a.units {
                let onsite = Set(rostered(u, day, index))
                for m in u.members where !onLeave(m, day) {
                    let checkIn = wm(at(day, 7, 30), rng.int(0...25))
                    var location = onsite.contains(m) ? "ONSITE" : "REMOTE"
                    // Once a day per department, someone off the roster tries to come in anyway.
                    if location == "REMOTE", !unrosteredTried, a.spec.level == "department", m != u.head {
                        unrosteredTried = true
                        if index == 2, let superior = a.spec.superior, let granter = directors[superior] {
                            // On the third day, one of them asks the superior head to come in beyond the cap.
                            let id = uuid().uuidString.lowercased()
                            emit(at(day, 7, 10), "exception.request", m, .specialist, [
                                "exception": .string(id), "date": .string("\(day)"), "reason": .string("CLASSIFIED")])
                            emit(at(day, 7, 15), "exception.grant", granter, .superiorHead, [
                                "exception": .string(id), "person": .string(m)])
                            location = "ONSITE"
                        } else {
                            emit(at(day, 7, 29), "attendance.checkIn", m, .specialist, ["location": .string("ONSITE")],
                                 expect: .refused(.notPermitted))
                        }
                    }
                    if location == "ONSITE" && !onsite.contains(m) {
                        // After the rostered colleagues: the exception admits beyond the cap.
                        emit(at(day, 8, 30), "attendance.checkIn", m, .specialist, ["location": .string(location)])
                        emit(at(day, 17, rng.int(0...20)), "attendance.checkOut", m, .specialist, [:])
                        continue
                    }
                    if location == "ONSITE" && rng.chance(0.02) { continue }  // a no-show
                    if location == "REMOTE" && rng.chance(0.01) { continue }  // forgot to check in
                    emit(checkIn, "attendance.checkIn", m, .specialist, ["location": .string(location)])
                    if location == "REMOTE", people[m]?.head != nil, rng.chance(0.96) {
                        let items: [JSONValue] = (0..<rng.int(1...4)).map { k in
                            .object(["taskRef": .string(Self.workRefs[(k + index) % Self.workRefs.count]),
                                     "status": .string(Self.reportStatuses[rng.int(0...3)])])
                        }
                        emit(at(day, 16, rng.int(0...40)), "progress.report", m, .specialist, ["items": .array(items)])
                    }
                    emit(at(day, 17, rng.int(0...20)), "attendance.checkOut", m, .specialist, [:])
                }
            }
            emit(at(day, 17, 45), "system.endOfDay", "scheduler", .system, ["agency": .string(a.spec.id),
                                                                           "date": .string("\(day)")],
                 expect: .check)
        }
    }

    // MARK: Work items

    mutating func tasks(_ a: FixtureGenerator.AgencyModel, _ day: CivilDate) {
        for u in a.divisions where u.members.count > 1 {
            let id = uuid().uuidString.lowercased()
            let registered = at(day, 8, 0)
            let due = cal.addingWorkingMinutes(3 * cal.minutesPerDay, to: registered)
            emit(registered, "task.register", u.head, .unitHead, ["task": .string(id), "unit": .string(u.id),
                                                                  "kind": .string("incoming letter"),
                                                                  "dueAt": .string(Instant.format(due))])
            if rng.chance(0.05) { continue }  // never assigned: an omission
            let assignee = pick(Array(u.members.dropFirst()))
            emit(wm(registered, 5), "task.assign", u.head, .unitHead, ["task": .string(id), "assignee": .string(assignee)])
            if u.members.count > 2, rng.chance(0.3) {
                // A colleague works on it too, or is kept informed.
                let other = u.members.dropFirst().first { $0 != assignee }!
                emit(wm(registered, 6), "task.assign", u.head, .unitHead, [
                    "task": .string(id), "assignee": .string(other), "role": .string(rng.chance(0.5) ? "CO" : "FOR_INFO")])
            }
            let late = !rng.chance(0.9)
            let done = late ? wm(due, rng.int(60...600)) : wm(registered, rng.int(60...(3 * cal.minutesPerDay - 30)))
            if late {
                // The scheduler finds it open past due before it is done.
                emit(wm(due, 30), "system.taskCheck", "scheduler", .system, ["task": .string(id)], expect: .check)
            }
            emit(done, "task.complete", assignee, .specialist, ["task": .string(id)])
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
