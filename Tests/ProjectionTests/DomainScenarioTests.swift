import EventStore
import Foundation
import Ledger
import Projections
import TestSupport
import Testing

/// A fortnight of one ward, computed by hand: an on-time dossier, one with a second supplement, one overdue with an
/// apology; an exception beyond the cap; no-shows; KPI grades.
@Suite("Domain projections: a hand-computed fortnight")
struct DomainScenarioTests {
    static let cal = WorkingCalendar(holidays: [CivilDate("2020-04-02")!])
    static func t(_ s: String) -> Int64 { Instant.parse(s + "+07:00")! }

    @Test("queues, timeliness, apologies, attendance, accountability and scores match the hand count")
    func fortnight() async throws {
        let s = try await Scenario.make("fortnight")
        defer { s.remove() }
        let (d1, d2, d3) = (UUID(), UUID(), UUID())
        try await s.openDossier(d1, submit: "2020-04-01T09:00:00", receive: "2020-04-01T10:00:00", assignee: "a-3")
        try await s.openDossier(d2, submit: "2020-04-01T09:30:00", receive: "2020-04-01T11:00:00", assignee: "a-4")
        try await s.openDossier(d3, submit: "2020-04-01T13:00:00", receive: "2020-04-01T14:00:00", assignee: "a-5")
        // D1: approved by the unit head and the chairman, signed, resolved 8 Apr 16:00 (due 9 Apr 10:00: on time).
        let approval = JSONValue.string(UUID().uuidString)
        let draft = JSONValue.string(String(repeating: "c", count: 64))
        try await s.run("dossier.submitForApproval", "a-3", .specialist, "2020-04-08T14:00:00+07:00", [
            "dossier": .string(d1.uuidString), "approval": approval, "draftSha256": draft, "outcome": "grant"])
        let ownApproval = try await s.refusal("approval.approve", "a-3", .specialist, "2020-04-08T14:05:00+07:00",
                                              ["approval": approval])
        #expect(ownApproval?.code == .notPermitted)
        try await s.run("approval.approve", "a-2", .unitHead, "2020-04-08T14:10:00+07:00", ["approval": approval])
        try await s.run("approval.approve", "a-1", .agencyHead, "2020-04-08T14:20:00+07:00", ["approval": approval])
        try await s.run("approval.sign", "a-1", .agencyHead, "2020-04-08T14:30:00+07:00",
                        ["approval": approval, "signedSha256": draft, "certificate": Scenario.certificate])
        try await s.run("dossier.resolve", "a-7", .oneStopOfficer, "2020-04-08T16:00:00+07:00",
                        ["dossier": .string(d1.uuidString), "resultNumber": "12/QĐ-A"], unit: "A.MC")
        // D2: two supplementation requests (the second with the head's override), each pausing 8 working hours.
        for (request, receive, override) in [("2020-04-03T09:00:00", "2020-04-06T09:00:00", false),
                                             ("2020-04-07T09:00:00", "2020-04-08T09:00:00", true)] {
            if override {
                try await s.run("dossier.approveSecondSupplement", "a-2", .unitHead, request + "+07:00",
                                ["dossier": .string(d2.uuidString)])
            }
            try await s.run("dossier.requestSupplement", "a-4", .specialist, request + "+07:00", [
                "dossier": .string(d2.uuidString), "items": .array(["Giấy tờ"])])
            try await s.run("dossier.receiveSupplement", "a-7", .oneStopOfficer, receive + "+07:00",
                            ["dossier": .string(d2.uuidString)], unit: "A.MC")
        }
        // D3: late; the chairman apologises before its appointment (9 Apr 14:00) with a new one on 14 Apr 17:00.
        try await s.run("dossier.issueApology", "a-1", .agencyHead, "2020-04-08T15:00:00+07:00", [
            "dossier": .string(d3.uuidString), "newAppointmentAt": "2020-04-14T17:00:00+07:00", "reason": "chờ xác minh"])

        // Attendance: a-3 on site on 3 Apr and a-6 beyond the cap by the superior head's exception; a-4 rostered
        // on 6 Apr and absent.
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-01T07:00:00+07:00", [
            "unit": "A.P1", "week": "2020-04-01",
            "entries": .array([.object(["date": "2020-04-03", "person": "a-3", "location": "ONSITE"])])])
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-06T07:00:00+07:00", [
            "unit": "A.P1", "week": "2020-04-06",
            "entries": .array([.object(["date": "2020-04-06", "person": "a-4", "location": "ONSITE"])])])
        try await s.run("attendance.checkIn", "a-3", .specialist, "2020-04-03T07:35:00+07:00", ["location": "ONSITE"])
        let exception = JSONValue.string(UUID().uuidString)
        try await s.run("exception.request", "a-6", .specialist, "2020-04-03T07:40:00+07:00", [
            "exception": exception, "date": "2020-04-03", "reason": "CLASSIFIED"])
        try await s.run("exception.grant", "s-1", .superiorHead, "2020-04-03T07:45:00+07:00",
                        ["exception": exception, "person": "a-6"])
        try await s.run("attendance.checkIn", "a-6", .specialist, "2020-04-03T08:30:00+07:00", ["location": "ONSITE"])
        for day in ["2020-04-03", "2020-04-06"] {
            try await s.run("system.endOfDay", "scheduler", .system, day + "T17:45:00+07:00",
                            ["agency": "A", "date": .string(day)])
        }

        let model = try ReadModel(store: s.store, statePath: s.root + "/state")
        try model.runner.catchUp()
        let asOf = Self.t("2020-04-15T17:00:00")

        // Queue: D1 awaits its return; D2 is overdue (due 9 Apr 11:00 + 2 × 8 h of pause = 13 Apr 11:00) with a
        // second supplement; D3 is overdue with an apology.
        let queue = try model.queue(QueueFilter(agency: "A", unit: "A.P1"), asOf: asOf).items
        let byID = Dictionary(uniqueKeysWithValues: queue.map { ($0.row.id, $0) })
        #expect(queue.count == 3)
        #expect(byID[d1.uuidString.lowercased()]?.row.tab == .awaitingReturn)
        let two = try #require(byID[d2.uuidString.lowercased()])
        #expect(two.row.dueAt == Self.t("2020-04-13T11:00:00"))
        #expect(two.flags == [.overdue, .secondSupplement])
        #expect(two.row.applicantName == "Trần Thị Bình")
        let three = try #require(byID[d3.uuidString.lowercased()])
        #expect(three.row.dueAt == Self.t("2020-04-09T14:00:00") && three.flags == [.apologyIssued, .overdue])
        // 9 Apr 14:00 → 15 Apr 17:00: 3 h on the 9th, 8 h on the 10th, 13th and 14th, 8 h on the 15th = 35 h.
        #expect(three.remainingWorkingMinutes == -35 * 60)
        #expect(try model.queue(QueueFilter(agency: "A", unit: "A.P1", tab: .awaitingReturn), asOf: asOf).items.count == 1)

        // Timeliness, April 2020: 3 new online; 1 on time; 2 in progress over the deadline; 100 % on time.
        let april = try model.timeliness(agency: "A", period: .month(year: 2020, month: 4))
        let total = try #require(april.first { $0.key.unit.isEmpty }?.value)
        #expect(total.newOnline == 3 && total.carriedOver == 0 && total.resolvedOnTime == 1 && total.resolvedEarly == 0)
        #expect(total.inProgressOverdue == 2 && total.inProgressWithin == 0 && total.onTimeRate == 100)

        // The apology register: D2 without an apology, D3 with one that was not kept.
        let register = try model.apologyRegister(agency: "A", asOf: asOf)
        #expect(register.map(\.row.id) == [d3, d2].map { $0.uuidString.lowercased() })
        #expect(register[0].apologyIssued && register[0].kept == false && register[0].newAppointment == Self.t("2020-04-14T17:00:00"))
        #expect(!register[1].apologyIssued)

        // Attendance: 3 Apr two on site (one beyond the cap, granted by s-1), three no-shows; 6 Apr five.
        let fortnight = Period.days(CivilDate("2020-04-01")!, CivilDate("2020-04-15")!)
        let days = try model.unitDays(agency: "A", period: fortnight).filter { $0.unit == "A.P1" }
        let third = try #require(days.first { $0.date == CivilDate("2020-04-03") })
        #expect(third.headcount == 5 && third.cap == 1 && third.onsite == 2 && third.rosteredOnsite == 1)
        #expect(third.beyondCap == ["a-6"] && third.grantedBy == ["s-1"] && third.capCompliant && third.noShows == 3)
        #expect(days.first { $0.date == CivilDate("2020-04-06") }?.noShows == 5)
        #expect(days.count == 10)
        #expect(try model.agencyDays(agency: "A", period: fortnight).filter(\.leaderAbsent).count == 2)

        // Accountability of A.P1: two overdue (held by a-4 and a-5), one without an apology; one place beyond the cap.
        let unit = try #require(try model.accountability(agency: "A", period: fortnight).first { $0.unit == "A.P1" })
        #expect(unit.head == "a-2" && unit.overdue.map(\.holder).sorted() == ["a-4", "a-5"] && unit.apologiesMissing == 1)
        #expect(unit.beyondCapPlaces == 1 && unit.daysWithoutLeader.count == 2)

        // Scores: a-3 completed on time (100, excellent); a-5 and a-4 hold overdue work (0, 75, 100 → 58, completed).
        let scores = Dictionary(uniqueKeysWithValues: try model.evaluations(agency: "A", period: fortnight).map { ($0.person, $0) })
        #expect(scores["a-3"]?.score == 100 && scores["a-3"]?.grade == "excellent" && scores["a-3"]?.onTime == 1)
        #expect(scores["a-5"]?.openOverdue == 1 && scores["a-5"]?.grade == "completed")
        #expect(scores["a-4"]?.secondSupplements == 1 && scores["a-4"]?.supplementsRequested == 2)
        #expect(abs((scores["a-4"]?.score ?? 0) - 175.0 / 3) < 0.001)
        #expect(scores["a-3"]?.attendance.onsiteDays == 1 && scores["a-6"]?.attendance.onsiteDays == 1)

        // The control sheet of D1 and its audit trail.
        let sheet = try model.controlSheet(dossier: d1.uuidString)
        #expect(sheet.map(\.step) == ["received", "transferred", "assigned", "submitted for approval", "resolved"])
        #expect(sheet[2].giver == "a-2" && sheet[2].receiver == "a-3")
        #expect(sheet[1].at == Self.t("2020-04-01T10:04:00"), "the hand-over's time, not the step's")
        #expect(sheet.map(\.entry) == [1, 2, 3, 4, 5])
        // The transfer recorded the row it takes, and the dossier counts the rows as the sheet shows them.
        let stream = "dossier-\(d1.uuidString.lowercased())"
        let entries = try s.store.readStream(stream, limit: .max, payloads: .facts).compactMap { e -> Int? in
            guard case .transferred(_, _, _, _, let entry)? = try? DossierEvent(
                type: e.record.eventType, facts: e.facts ?? [], personal: nil) else { return nil }
            return entry
        }
        #expect(entries == [2])
        #expect(try DossierHandler(store: s.store).load(d1).state.controlSheetRows == sheet.count)
        let trail = try model.auditTrail(stream: "dossier-\(d1.uuidString.lowercased())")
        #expect(trail.allSatisfy { $0.principal == "test" } && trail.count == 7)
        #expect(!trail.contains { $0.facts.contains("Trần") }, "personal data stays out of the audit trail")
        let byActor = try model.auditTrail(actor: "a-3")
        #expect(byActor.map(\.type).contains("DraftResultSubmittedForApproval.v1") && byActor.allSatisfy { $0.actor == "a-3" })
        #expect(byActor.contains { $0.type == "CheckedIn.v2" && $0.facts.contains("ONSITE") })
    }
}
