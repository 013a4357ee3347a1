import EventStore
import Foundation
import Ledger
import TestSupport
import Testing

/// A ward keeps every field of its one-stop desk served each working day while half its desk works from home
/// (domain.md §3.2, RosterPublished; seed A0).
@Suite("One-stop desk: an officer of each field on site")
struct DeskFieldsTests {
    @Test("under a policy asking for it, a desk roster leaving a field without an officer on site is refused, naming who handles it")
    func everyField() async throws {
        let s = try await Scenario.make("desk-fields")
        defer { s.remove() }
        let at = "2020-03-31T09:00:00+07:00"
        try await s.run("unit.define", "hr", .system, at, ["id": "A.TN", "agency": "A", "name": "Bộ phận một cửa",
                                                           "desk": true, "fields": .array(["DD", "HT"])])
        for (staff, fields) in [("a-11", ["HT"]), ("a-12", ["DD"]), ("a-13", ["DD", "HT"])] {
            try await s.run("staff.assign", "hr", .system, at, [
                "staff": .string(staff), "unit": "A.TN", "position": "officer", "leader": false, "from": "2020-01-01",
                "head": "a-1", "fields": .array(fields.map(JSONValue.string))])
        }
        try await s.run("policy.declare", "hr", .system, at, [
            "scope": "A", "ratioNumerator": 1, "ratioDenominator": 2, "minLeaders": 1, "validFrom": "2020-04-06",
            "validTo": "2020-04-30", "directive16Intake": true, "deskFieldCoverage": true])
        let week = ["06", "07", "08", "09", "10"].map { "2020-04-\($0)" }
        // The week before, under the first policy, one officer suffices.
        try await s.run("roster.publish", "a-1", .agencyHead, "2020-04-01T07:00:00+07:00", [
            "unit": "A.TN", "week": "2020-04-01", "entries": .array([Scenario.rosterEntry("2020-04-03", "a-11")])])
        let head = s.store.head
        let landless = try await s.refusal("roster.publish", "a-1", .agencyHead, "2020-04-03T07:00:00+07:00", [
            "unit": "A.TN", "week": "2020-04-06", "entries": .array(week.map { Scenario.rosterEntry($0, "a-11") })])
        #expect(landless?.code == .invalidCommand
            && landless?.message.contains("nobody on site for field DD on 2020-04-06") == true
            && landless?.message.contains("a-12, a-13") == true, "\(landless?.message ?? "accepted")")
        let gap = try await s.refusal("roster.publish", "a-1", .agencyHead, "2020-04-03T07:00:00+07:00", [
            "unit": "A.TN", "week": "2020-04-06", "entries": .array(week.dropLast().map { Scenario.rosterEntry($0, "a-13") })])
        #expect(gap?.message.contains("on 2020-04-10") == true, "every working day of the week, Friday included")
        #expect(s.store.head == head)
        try await s.run("roster.publish", "a-1", .agencyHead, "2020-04-03T07:00:00+07:00", [
            "unit": "A.TN", "week": "2020-04-06", "entries": .array(week.map { Scenario.rosterEntry($0, "a-13") })])
        // Each roster records the version of the duty policies it was checked against: three declared so far (the
        // scenario's two and this ward's), and a fourth shows in the next roster.
        func policyVersion(week: String) throws -> Int? {
            let stream = Roster.stream(unit: "A.TN", week: CivilDate(week)!)
            let last = try #require(try s.store.readStream(stream, payloads: .facts).last)
            return try Roster.policyVersion(facts: last.facts ?? [])
        }
        #expect(try policyVersion(week: "2020-04-06") == 3)
        try await s.run("policy.declare", "hr", .system, "2020-04-03T08:00:00+07:00", [
            "scope": "S", "ratioNumerator": 1, "ratioDenominator": 3, "minLeaders": 1, "validFrom": "2020-05-01",
            "validTo": "2020-05-15", "directive16Intake": true])
        try await s.run("roster.publish", "a-1", .agencyHead, "2020-04-03T08:05:00+07:00", [
            "unit": "A.TN", "week": "2020-04-13", "entries": .array(["13", "14", "15", "16", "17"].map {
                Scenario.rosterEntry("2020-04-\($0)", "a-13") })])
        #expect(try policyVersion(week: "2020-04-13") == 4)
        #expect(try policyVersion(week: "2020-04-01") == 3, "the week before, under the first policy, too")
    }
}
