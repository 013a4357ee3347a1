import EventStore
import Foundation
import Ledger
import Projections
import TestSupport
import Testing

@Suite("Staff: categories and departures")
struct StaffDepartureTests {
    @Test("an official who left counts no more in the headcount nor takes work, yet their period's evaluation keeps their work")
    func departure() async throws {
        let s = try await Scenario.make("departure")
        defer { s.remove() }
        let at = "2020-03-31T09:00:00+07:00"
        let badKind = try await s.refusal("staff.assign", "hr", .system, at, [
            "staff": "a-9", "unit": "A.P1", "position": "officer", "leader": false, "from": "2020-01-01",
            "kind": "CONTRACTOR"])
        #expect(badKind?.field == "body.kind" && badKind?.message.contains("CIVIL_SERVANT") == true)
        try await s.run("staff.assign", "hr", .system, at, [
            "staff": "a-9", "unit": "A.P1", "position": "officer", "leader": false, "from": "2020-01-01",
            "head": "a-2", "kind": "CIVIL_SERVANT"])
        // Six in A.P1: two places on site.
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-01T07:00:00+07:00", [
            "unit": "A.P1", "week": "2020-04-01", "entries": .array([Scenario.rosterEntry("2020-04-03", "a-3"),
                                                                     Scenario.rosterEntry("2020-04-03", "a-4")])])
        let id = UUID()
        try await s.openDossier(id, submit: "2020-04-01T09:00:00", receive: "2020-04-01T10:00:00", assignee: "a-9")

        let head = s.store.head
        let unknown = try await s.refusal("staff.end", "hr", .system, "2020-04-06T17:00:00+07:00",
                                          ["staff": "a-42", "lastDay": "2020-04-06"])
        #expect(unknown?.code == .notFound)
        let early = try await s.refusal("staff.end", "hr", .system, "2020-04-06T17:00:00+07:00",
                                        ["staff": "a-9", "lastDay": "2019-12-31"])
        #expect(early?.field == "body.lastDay")
        let byOfficer = try await s.refusal("staff.end", "a-3", .specialist, "2020-04-06T17:00:00+07:00",
                                            ["staff": "a-9", "lastDay": "2020-04-06"])
        #expect(byOfficer?.code == .notPermitted)
        #expect(s.store.head == head, "refusals write nothing")
        let endID = UUID()
        let ended = try await s.run("staff.end", "hr", .system, "2020-04-06T17:00:00+07:00",
                                    ["staff": "a-9", "lastDay": "2020-04-06"], id: endID)
        let retried = try await s.run("staff.end", "hr", .system, "2020-04-06T17:00:00+07:00",
                                      ["staff": "a-9", "lastDay": "2020-04-06"], id: endID)
        #expect(retried?.positions == ended?.positions && retried?.wasRetry == true,
                "a retry is answered with the original positions, not refused as already ended")
        let twice = try await s.refusal("staff.end", "hr", .system, "2020-04-06T17:05:00+07:00",
                                        ["staff": "a-9", "lastDay": "2020-04-07"])
        #expect(twice?.code == .invalidState && twice?.message.contains("already ended on 2020-04-06") == true)

        // Five again from the 7th: one place.
        let over = try await s.refusal("roster.publish", "a-2", .unitHead, "2020-04-06T17:10:00+07:00", [
            "unit": "A.P1", "week": "2020-04-06", "entries": .array([Scenario.rosterEntry("2020-04-07", "a-3"),
                                                                     Scenario.rosterEntry("2020-04-07", "a-4")])])
        #expect(over?.code == .capReached && over?.message.contains("headcount 5") == true)
        let reference = try s.service.referenceData()
        #expect(reference.assignment(of: "a-9", on: CivilDate("2020-04-06")!)?.kind == .civilServant)
        #expect(reference.assignment(of: "a-9", on: CivilDate("2020-04-07")!) == nil)
        let gone = try await s.refusal("dossier.assign", "a-2", .unitHead, "2020-04-07T08:00:00+07:00",
                                       ["dossier": .string(id.uuidString), "assignee": "a-9", "role": "CO_HANDLER"])
        #expect(gone?.code == .invalidCommand && gone?.message.contains("not on the staff of A.P1 on 2020-04-07") == true)
        try await s.run("dossier.assign", "a-2", .unitHead, "2020-04-07T08:00:00+07:00",
                        ["dossier": .string(id.uuidString), "assignee": "a-3", "reason": "a-9 đã nghỉ việc"])

        let model = try ReadModel(store: s.store, statePath: s.root + "/state")
        try model.runner.catchUp()
        let april = try model.evaluations(agency: "A", period: .month(year: 2020, month: 4))
        let departed = try #require(april.first { $0.person == "a-9" })
        #expect(departed.kind == .civilServant && departed.leftOn == CivilDate("2020-04-06") && departed.assigned == 1)
        let may = try model.evaluations(agency: "A", period: .month(year: 2020, month: 5))
        #expect(!may.contains { $0.person == "a-9" }, "a month after leaving, nobody evaluates them")
        let toLastDay = try model.evaluations(agency: "A", period: .days(CivilDate("2020-04-01")!, CivilDate("2020-04-06")!))
        #expect(toLastDay.filter { $0.person == "a-9" }.count == 1, "on staff on the period's last day, listed once")
        #expect(toLastDay.first { $0.person == "a-9" }?.leftOn == nil)

        // Once the unit head a-2 has left, a-3's leave is decided by the agency head, not by a-2.
        let leave = UUID().uuidString
        try await s.run("leave.request", "a-3", .specialist, "2020-04-06T08:00:00+07:00", [
            "leave": .string(leave), "kind": "ANNUAL", "from": "2020-04-09", "to": "2020-04-09",
            "emailMessageId": "<leave-9@mail.a.gov.vn>"])
        try await s.run("staff.end", "hr", .system, "2020-04-06T17:20:00+07:00", ["staff": "a-2", "lastDay": "2020-04-06"])
        let byDeparted = try await s.refusal("leave.approve", "a-2", .unitHead, "2020-04-07T08:00:00+07:00",
                                             ["leave": .string(leave), "person": "a-3"])
        #expect(byDeparted?.code == .notPermitted, "a head who has left decides nothing")
        try await s.run("leave.approve", "a-1", .agencyHead, "2020-04-07T08:05:00+07:00",
                        ["leave": .string(leave), "person": "a-3"])

        // Nobody departed heads a newcomer; taken on again later, the earlier departure still shows in April.
        let headless = try await s.refusal("staff.assign", "hr", .system, "2020-04-07T09:00:00+07:00", [
            "staff": "a-10", "unit": "A.P1", "position": "officer", "leader": false, "from": "2020-04-07",
            "head": "a-9"])
        #expect(headless?.code == .notFound && headless?.message.contains("a-9 is on no unit's staff on 2020-04-07") == true)
        try await s.run("staff.assign", "hr", .system, "2020-05-04T09:00:00+07:00", [
            "staff": "a-9", "unit": "A.P1", "position": "officer", "leader": false, "from": "2020-05-04", "head": "a-1"])
        try model.runner.catchUp()
        let again = try model.evaluations(agency: "A", period: .month(year: 2020, month: 4))
        #expect(again.filter { $0.person == "a-9" }.map(\.leftOn) == [CivilDate("2020-04-06")])
    }

    @Test("an official who leaves before a recorded move never makes it: the move is cancelled, and they leave from where they were")
    func leaveBeforeMove() async throws {
        let s = try await Scenario.make("leave-before-move")
        defer { s.remove() }
        try await s.run("staff.assign", "hr", .system, "2020-04-01T08:00:00+07:00", [
            "staff": "a-3", "unit": "A.MC", "position": "officer", "leader": false, "from": "2020-04-20", "head": "a-1"])
        let early = try await s.refusal("staff.end", "hr", .system, "2020-04-06T17:00:00+07:00",
                                        ["staff": "a-3", "lastDay": "2019-06-30"])
        #expect(early?.field == "body.lastDay" && early?.message.contains("first assignment") == true)
        try await s.run("staff.end", "hr", .system, "2020-04-06T17:00:00+07:00", ["staff": "a-3", "lastDay": "2020-04-10"])
        let reference = try s.service.referenceData()
        #expect(reference.assignment(of: "a-3", on: CivilDate("2020-04-10")!)?.unit == "A.P1")
        #expect(reference.assignment(of: "a-3", on: CivilDate("2020-04-13")!) == nil)
        #expect(reference.assignment(of: "a-3", on: CivilDate("2020-04-21")!) == nil, "the move never takes effect")
        #expect(!reference.staff(of: "A.MC", on: CivilDate("2020-04-21")!).map(\.staff).contains("a-3"))
        let april = (CivilDate("2020-04-01")!, CivilDate("2020-04-30")!)
        #expect(reference.departed(from: "A.P1", between: april.0, and: april.1).map(\.staff) == ["a-3"])
        #expect(reference.departed(from: "A.MC", between: april.0, and: april.1).isEmpty,
                "never served in A.MC, so never left it")
        let twice = try await s.refusal("staff.end", "hr", .system, "2020-04-06T17:05:00+07:00",
                                        ["staff": "a-3", "lastDay": "2020-04-24"])
        #expect(twice?.code == .invalidState && twice?.message.contains("already ended on 2020-04-10") == true)

        // A move already in effect is history: a back-dated end before it is refused.
        try await s.run("staff.assign", "hr", .system, "2020-04-01T08:00:00+07:00", [
            "staff": "a-4", "unit": "A.MC", "position": "officer", "leader": false, "from": "2020-04-06", "head": "a-1"])
        let backdated = try await s.refusal("staff.end", "hr", .system, "2020-04-08T17:00:00+07:00",
                                            ["staff": "a-4", "lastDay": "2020-04-03"])
        #expect(backdated?.code == .invalidState && backdated?.message.contains("moved to A.MC on 2020-04-06") == true,
                "\(backdated?.message ?? "accepted")")
        try await s.run("staff.end", "hr", .system, "2020-04-08T17:00:00+07:00", ["staff": "a-4", "lastDay": "2020-04-08"])
        #expect(try s.service.referenceData().assignment(of: "a-4", on: CivilDate("2020-04-08")!)?.unit == "A.MC")
    }
}
