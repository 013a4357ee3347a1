import EventStore
import Foundation
import Ledger
import TestSupport
import Testing

/// Directive 16's duty rules through the command handlers and real streams: the policy's intake channels, the cap
/// counted with leaders, rosters beyond the cap, amendments, leave and duty exceptions of every kind.
@Suite("Duty rules under Directive 16")
struct DutyRulesTests {
    static func entry(_ date: String, _ person: String, _ location: String = "ONSITE") -> JSONValue {
        .object(["date": .string(date), "person": .string(person), "location": .string(location)])
    }

    @Test("a policy's intake channels take any procedure; the others only urgent ones, flagged or listed by the policy")
    func intakeChannels() async throws {
        let s = try await Scenario.make("intake")
        defer { s.remove() }
        try await s.run("procedure.publish", "hr", .system, "2020-03-31T09:00:00+07:00", [
            "code": "P2", "name": "Chứng thực hợp đồng", "field": "CT", "onlineLevel": 2, "durationUnit": "workingDays",
            "duration": 2, "channels": .array(["direct", "postal"])])
        var policy: [String: JSONValue] = [
            "scope": "A", "ratioNumerator": 1, "ratioDenominator": 3, "minLeaders": 1, "validFrom": "2020-04-01",
            "validTo": "2020-04-30", "intakeChannels": .array(["online", "fax"])]
        let fax = try await s.refusal("policy.declare", "hr", .system, "2020-03-31T10:00:00+07:00", policy)
        #expect(fax?.code == .badField && fax?.field == "body.intakeChannels")
        policy["intakeChannels"] = .array(["online", "postal"])
        policy["urgentProcedures"] = .array(["P9"])
        let unknown = try await s.refusal("policy.declare", "hr", .system, "2020-03-31T10:00:00+07:00", policy)
        #expect(unknown?.code == .badField && unknown?.message.contains("P9") == true)
        policy["urgentProcedures"] = .array(["P2"])
        try await s.run("policy.declare", "hr", .system, "2020-03-31T10:00:00+07:00", policy)

        func submit(_ procedure: String, _ channel: String) async throws -> LedgerError? {
            // Online through the portal; on paper through the one-stop desk.
            let (who, role): (String, Actor.Role) = channel == "online" ? ("portal", .applicant) : ("a-7", .oneStopOfficer)
            return try await s.refusal("dossier.submit", who, role, "2020-04-01T09:00:00+07:00", [
                "dossier": .string(UUID().uuidString), "procedure": .string(procedure), "agency": "A",
                "channel": .string(channel), "applicantName": "Lê Văn Cường", "applicantId": "079190000002"])
        }
        let counter = try await submit("P1", "direct")
        #expect(counter?.code == .channelNotAllowed
            && counter?.message.contains("submit P1 through online or postal") == true)
        #expect(try await submit("P1", "online") == nil)
        #expect(try await submit("P2", "direct") == nil, "P2 is on the policy's urgent list")
        // A policy stored as v1 (a Directive-16 flag) reads as the Directive-16 rule.
        let v1 = Facts.Writer().with { w in
            w.field("scope", "A")
            w.field("ratioNumerator", 1)
            w.field("ratioDenominator", 3)
            w.field("minLeaders", 1)
            w.field("validFrom", "2020-04-01")
            w.field("validTo", "2020-04-30")
            w.field("directive16Intake", true)
        }
        guard case .dutyPolicyDeclared(let old)? = try ReferenceEvent(type: "DutyPolicyDeclared.v1", facts: v1) else {
            Issue.record("a v1 policy did not decode")
            return
        }
        #expect(old.intake == .directive16, "a v1 policy's flag reads as Directive 16's rule")
    }

    @Test("the cap counts leaders on the leader roster; a place beyond it needs a granted exception and is marked")
    func capWithLeaders() async throws {
        let s = try await Scenario.make("leadercap")
        defer { s.remove() }
        // a-2 leads A.P1 (cap 1 of 5) and is the agency's leader on duty on Friday 3 April.
        try await s.run("roster.publishLeaders", "a-1", .agencyHead, "2020-04-01T06:00:00+07:00", [
            "agency": "A", "week": "2020-04-01",
            "entries": .array([Self.entry("2020-04-01", "a-1"), Self.entry("2020-04-03", "a-2")])])
        let full = try await s.refusal("roster.publish", "a-2", .unitHead, "2020-04-01T07:00:00+07:00", [
            "unit": "A.P1", "week": "2020-04-01", "entries": .array([Self.entry("2020-04-03", "a-3")])])
        #expect(full?.code == .capReached && full?.message.contains("2 ONSITE in unit A.P1 on 2020-04-03 (leaders included)") == true)

        // The superior head grants a-3 a place beyond the cap; the roster then takes a-3, marked.
        let exception = UUID().uuidString
        try await s.run("exception.request", "a-3", .specialist, "2020-04-01T07:10:00+07:00", [
            "exception": .string(exception), "date": "2020-04-03", "kind": "EXTRA_ONSITE", "reason": "CLASSIFIED"])
        try await s.run("exception.grant", "s-1", .superiorHead, "2020-04-01T07:20:00+07:00", [
            "exception": .string(exception), "person": "a-3"])
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-01T07:30:00+07:00", [
            "unit": "A.P1", "week": "2020-04-01",
            "entries": .array([Self.entry("2020-04-03", "a-3"), Self.entry("2020-04-03", "a-4", "REMOTE")])])
        let roster = try s.store.readStream("roster-A.P1-20200330", payloads: .facts)
        let entries = try Roster.entries(facts: roster.last?.facts ?? [])
        #expect(entries.map(\.exception) == [true, false])

        // A place granted within the cap counts: the next extra place that day is beyond it.
        let within = UUID().uuidString
        try await s.run("exception.request", "a-5", .specialist, "2020-04-03T07:00:00+07:00", [
            "exception": .string(within), "date": "2020-04-08", "reason": "ESSENTIAL"])
        try await s.run("exception.grant", "a-1", .agencyHead, "2020-04-03T07:05:00+07:00", [
            "exception": .string(within), "person": "a-5"])
        let grant = try #require(try s.store.readStream("person-a-5", payloads: .facts).last)
        #expect(try PersonEvent(type: grant.record.eventType, facts: grant.facts ?? [])
            == .exceptionDecided(id: UUID(uuidString: within)!, granted: true, by: "a-1",
                                 at: Instant.parse("2020-04-03T07:05:00+07:00")!, validFor: CivilDate("2020-04-08")!),
            "a grant names the date it is valid for")
        // (Pending requests count too: a-4 asks for 9 April, then a-6 — beyond the cap though a-4's is undecided.)
        try await s.run("exception.request", "a-4", .specialist, "2020-04-03T07:06:00+07:00", [
            "exception": .string(UUID().uuidString), "date": "2020-04-09", "reason": "ESSENTIAL"])
        let pending = UUID().uuidString
        try await s.run("exception.request", "a-6", .specialist, "2020-04-03T07:07:00+07:00", [
            "exception": .string(pending), "date": "2020-04-09", "reason": "ESSENTIAL"])
        let pendingByHead = try await s.refusal("exception.grant", "a-1", .agencyHead, "2020-04-03T07:08:00+07:00", [
            "exception": .string(pending), "person": "a-6"])
        #expect(pendingByHead?.code == .notPermitted)
        let next = UUID().uuidString
        try await s.run("exception.request", "a-6", .specialist, "2020-04-03T07:10:00+07:00", [
            "exception": .string(next), "date": "2020-04-08", "reason": "ESSENTIAL"])
        let byAgencyHead = try await s.refusal("exception.grant", "a-1", .agencyHead, "2020-04-03T07:15:00+07:00", [
            "exception": .string(next), "person": "a-6"])
        #expect(byAgencyHead?.code == .notPermitted && byAgencyHead?.message.contains("superior") == true)
        // A first publication covers no past day; a unit head is no deputy of the agency head.
        let past = try await s.refusal("roster.publish", "a-2", .unitHead, "2020-04-08T07:00:00+07:00", [
            "unit": "A.P1", "week": "2020-04-08", "entries": .array([Self.entry("2020-04-07", "a-5", "REMOTE")])])
        #expect(past?.code == .invalidCommand && past?.message.contains("2020-04-07, which is past") == true)
        let byUnitHead = try await s.refusal("roster.publishLeaders", "a-2", .deputyHead, "2020-04-03T08:00:00+07:00", [
            "agency": "A", "week": "2020-04-13", "entries": .array([Self.entry("2020-04-13", "a-1")])])
        #expect(byUnitHead?.code == .notPermitted)
        // A leader roster that fills a unit already full is refused too.
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-03T07:00:00+07:00", [
            "unit": "A.P1", "week": "2020-04-06", "entries": .array([Self.entry("2020-04-06", "a-4")])])
        let week = ["2020-04-06", "2020-04-07", "2020-04-08", "2020-04-09", "2020-04-10"].map { Self.entry($0, "a-1") }
        let leaders = try await s.refusal("roster.publishLeaders", "a-1", .agencyHead, "2020-04-03T08:00:00+07:00", [
            "agency": "A", "week": "2020-04-06", "entries": .array(week + [Self.entry("2020-04-06", "a-2")])])
        #expect(leaders?.code == .capReached && leaders?.message.contains("unit A.P1 on 2020-04-06") == true)
        let byOfficer = try await s.refusal("roster.publishLeaders", "a-3", .deputyHead, "2020-04-03T08:00:00+07:00", [
            "agency": "A", "week": "2020-04-06", "entries": .array(week)])
        #expect(byOfficer?.code == .notPermitted, "a-3 claims a deputy's role but leads nothing")
        try await s.run("roster.publishLeaders", "a-1", .agencyHead, "2020-04-03T08:00:00+07:00", [
            "agency": "A", "week": "2020-04-06", "entries": .array(week)])
    }

    @Test("leave: by official e-mail, within the annual allowance; half days; a delegate decides; conflicts flagged; withdrawal")
    func leave() async throws {
        let s = try await Scenario.make("leave")
        defer { s.remove() }
        let at = "2020-04-03T08:00:00+07:00"
        func request(_ body: [String: JSONValue]) async throws -> LedgerError? {
            try await s.refusal("leave.request", "a-4", .specialist, at, [
                "leave": .string(UUID().uuidString), "kind": "ANNUAL", "emailMessageId": "<l@mail.a.gov.vn>",
            ].merging(body) { $1 })
        }
        let noMail = try await s.refusal("leave.request", "a-4", .specialist, at, [
            "leave": .string(UUID().uuidString), "kind": "ANNUAL", "from": "2020-04-13", "to": "2020-04-13"])
        #expect(noMail?.code == .badField && noMail?.field == "body.emailMessageId")
        let tooLong = try await request(["from": "2020-04-06", "to": "2020-04-24"])
        #expect(tooLong?.code == .invalidCommand && tooLong?.message.contains("15 day(s) of annual leave in 2020") == true)
        let halfTwoDays = try await request(["from": "2020-04-06", "to": "2020-04-07", "halfDay": "AM"])
        #expect(halfTwoDays?.field == "body.halfDay")

        // a-4 is rostered on site on Tuesday 14 April; the leave covers it.
        try await s.run("roster.publish", "a-2", .unitHead, at, [
            "unit": "A.P1", "week": "2020-04-13", "entries": .array([Self.entry("2020-04-14", "a-4")])])
        let leave = UUID().uuidString, half = UUID().uuidString
        #expect(try await request(["leave": .string(leave), "from": "2020-04-13", "to": "2020-04-14"]) == nil)
        #expect(try await request(["leave": .string(half), "from": "2020-04-07", "to": "2020-04-07", "halfDay": "PM"]) == nil)
        let decide: [String: JSONValue] = ["leave": .string(leave), "person": "a-4"]
        let colleague = try await s.refusal("leave.approve", "a-3", .specialist, "2020-04-03T09:00:00+07:00", decide)
        #expect(colleague?.code == .notPermitted)
        // a-8, the unit's deputy, holds a delegation from the direct head for apology slips only: not for leave.
        try await s.run("staff.assign", "hr", .system, "2020-03-31T08:00:00+07:00", [
            "staff": "a-8", "unit": "A.P1", "position": "deputy head", "leader": true, "head": "a-2", "from": "2020-01-01"])
        let grant: [String: JSONValue] = ["to": "a-8", "capacity": "TL", "validFrom": "2020-04-03T09:00:00+07:00",
                                          "validTo": "2020-04-03T17:00:00+07:00"]
        try await s.run("delegation.grant", "a-2", .unitHead, "2020-04-03T09:00:00+07:00",
                        grant.merging(["subjects": .array(["APOLOGY_SLIP"])]) { $1 })
        let outOfScope = try await s.refusal("leave.approve", "a-8", .deputyHead, "2020-04-03T09:05:00+07:00", decide)
        #expect(outOfScope?.code == .notPermitted)
        try await s.run("delegation.grant", "a-2", .unitHead, "2020-04-03T09:06:00+07:00",
                        grant.merging(["subjects": .array(["LEAVE"]), "validFrom": "2020-04-03T09:06:00+07:00"]) { $1 })
        try await s.run("leave.approve", "a-8", .deputyHead, "2020-04-03T09:10:00+07:00", decide)
        try await s.run("leave.approve", "a-2", .unitHead, "2020-04-03T09:20:00+07:00", ["leave": .string(half), "person": "a-4"])
        let person = try s.store.readStream("person-a-4", payloads: .facts)
        let approval = try person.compactMap { try PersonEvent(type: $0.record.eventType, facts: $0.facts ?? []) }
            .first { if case .leaveDecided(_, true, "a-8", _, _) = $0 { true } else { false } }
        #expect(approval == .leaveDecided(id: UUID(uuidString: leave)!, approved: true, by: "a-8",
                                          rosterConflicts: [CivilDate("2020-04-14")!],
                                          at: Instant.parse("2020-04-03T09:10:00+07:00")!))
        // The morning of the same day is a separate half day; a whole day over the approved afternoon is not.
        #expect(try await request(["from": "2020-04-07", "to": "2020-04-07", "halfDay": "AM"]) == nil)
        #expect(try await request(["from": "2020-04-07", "to": "2020-04-07"])?.code == .invalidState)
        // A half day's leave leaves the rest of the day to work: a-4 checks in on 7 April.
        try await s.run("attendance.checkIn", "a-4", .specialist, "2020-04-07T07:40:00+07:00", ["location": "REMOTE"])
        let begun = try await s.refusal("leave.cancel", "a-4", .specialist, "2020-04-08T08:00:00+07:00",
                                        ["leave": .string(half), "person": "a-4"])
        #expect(begun?.code == .invalidState && begun?.message.contains("not yet begun") == true)
        let stranger = try await s.refusal("leave.cancel", "a-5", .specialist, "2020-04-08T08:00:00+07:00", decide)
        #expect(stranger?.code == .notPermitted)
        try await s.run("leave.cancel", "a-4", .specialist, "2020-04-10T08:00:00+07:00", decide)
        let again = try await s.refusal("leave.cancel", "a-4", .specialist, "2020-04-10T08:05:00+07:00", decide)
        #expect(again?.code == .invalidState)
        // Withdrawn, it no longer keeps a-4 from work, nor counts against the allowance.
        try await s.run("attendance.checkIn", "a-4", .specialist, "2020-04-13T07:40:00+07:00", ["location": "REMOTE"])
        #expect(try await request(["from": "2020-04-20", "to": "2020-05-06"]) == nil, "11.5 of 12 days")
    }

    @Test("duty exceptions by kind: REMOTE_INSTEAD excuses an on-site place at day's end; progress reports list their items")
    func exceptionKinds() async throws {
        let s = try await Scenario.make("kinds")
        defer { s.remove() }
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-03T07:00:00+07:00", [
            "unit": "A.P1", "week": "2020-04-03", "entries": .array([Self.entry("2020-04-03", "a-3")])])
        func ask(_ person: String, _ kind: String) async throws -> LedgerError? {
            try await s.refusal("exception.request", .init(person), .specialist, "2020-04-03T07:10:00+07:00", [
                "exception": .string(UUID().uuidString), "date": "2020-04-03", "kind": .string(kind),
                "reason": "ESSENTIAL"])
        }
        #expect(try await ask("a-3", "EXTRA_ONSITE")?.code == .invalidCommand, "a-3 is rostered on site already")
        #expect(try await ask("a-4", "REMOTE_INSTEAD")?.code == .invalidCommand, "a-4 is not rostered on site")
        #expect(try await ask("a-4", "LATER")?.field == "body.kind")
        #expect(try await ask("a-4", "SWAP")?.field == "body.with", "a SWAP names the colleague")
        // a-4 takes a-3's place on Monday 6 April; the end of that day then expects a-3 remote, not on site.
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-03T07:20:00+07:00", [
            "unit": "A.P1", "week": "2020-04-06", "entries": .array([Self.entry("2020-04-06", "a-3")])])
        let swap = UUID().uuidString
        let notRostered = try await s.refusal("exception.request", "a-4", .specialist, "2020-04-03T07:25:00+07:00", [
            "exception": .string(swap), "date": "2020-04-06", "kind": "SWAP", "with": "a-5", "reason": "ESSENTIAL"])
        #expect(notRostered?.field == "body.with", "a-5 is not rostered on site that day")
        try await s.run("exception.request", "a-4", .specialist, "2020-04-03T07:25:00+07:00", [
            "exception": .string(swap), "date": "2020-04-06", "kind": "SWAP", "with": "a-3", "reason": "ESSENTIAL"])
        try await s.run("exception.grant", "a-1", .agencyHead, "2020-04-03T07:30:00+07:00", [
            "exception": .string(swap), "person": "a-4"])
        try await s.run("attendance.checkIn", "a-4", .specialist, "2020-04-06T07:40:00+07:00", ["location": "ONSITE"])
        try await s.run("attendance.checkIn", "a-3", .specialist, "2020-04-06T07:41:00+07:00", ["location": "REMOTE"])
        try await s.run("system.endOfDay", "scheduler", .system, "2020-04-06T17:45:00+07:00", ["agency": "A", "date": "2020-04-06"])
        let monday = try s.store.readStream("eod-A-20200406", payloads: .facts).filter { $0.record.eventType == "NoShowDetected.v1" }
        let absent = try monday.map { e in try Facts.decode(e.facts ?? []) { r throws(Facts.DecodingError) in try r.string("person") } }
        #expect(!absent.contains("a-3") && !absent.contains("a-4"), "\(absent)")
        // Nobody else takes a-3's place that day, nor a place of someone already remote.
        let secondSwap = try await s.refusal("exception.request", "a-5", .specialist, "2020-04-03T07:26:00+07:00", [
            "exception": .string(UUID().uuidString), "date": "2020-04-06", "kind": "SWAP", "with": "a-3",
            "reason": "ESSENTIAL"])
        #expect(secondSwap?.code == .invalidState && secondSwap?.message.contains("already takes a-3's place") == true)
        let remote = UUID().uuidString
        try await s.run("exception.request", "a-3", .specialist, "2020-04-03T07:10:00+07:00", [
            "exception": .string(remote), "date": "2020-04-03", "kind": "REMOTE_INSTEAD", "reason": "ESSENTIAL"])
        try await s.run("exception.grant", "a-1", .agencyHead, "2020-04-03T07:15:00+07:00", [
            "exception": .string(remote), "person": "a-3"])
        try await s.run("attendance.checkIn", "a-3", .specialist, "2020-04-03T07:40:00+07:00", ["location": "REMOTE"])

        let numbered = try await s.refusal("progress.report", "a-3", .specialist, "2020-04-03T16:00:00+07:00", ["items": 2])
        #expect(numbered?.field == "body.items")
        let status = try await s.refusal("progress.report", "a-3", .specialist, "2020-04-03T16:00:00+07:00", [
            "items": .array([.object(["taskRef": "dossier-queue", "status": "ALMOST"])])])
        #expect(status?.field == "body.items[0].status")
        try await s.run("progress.report", "a-3", .specialist, "2020-04-03T16:00:00+07:00", [
            "items": .array([.object(["taskRef": "dossier-queue", "status": "DONE", "note": "three dossiers"])])])

        try await s.run("system.endOfDay", "scheduler", .system, "2020-04-03T17:45:00+07:00", ["agency": "A", "date": "2020-04-03"])
        let findings = try s.store.readStream("eod-A-20200403", payloads: .facts).filter {
            $0.record.eventType == "NoShowDetected.v1"
        }
        let people = try findings.map { e in try Facts.decode(e.facts ?? []) { r throws(Facts.DecodingError) in try r.string("person") } }
        #expect(!people.contains("a-3"), "a-3 worked remote under a granted REMOTE_INSTEAD")
        #expect(people.contains("a-4"), "a-4 never checked in")
    }

    @Test("a check-in says where it came from; a denied exception gives its reason code")
    func sourcesAndReasons() async throws {
        let s = try await Scenario.make("sources")
        defer { s.remove() }
        let badSource = try await s.refusal("attendance.checkIn", "a-4", .specialist, "2020-04-03T07:40:00+07:00", [
            "location": "REMOTE", "source": "HOME_IP"])
        #expect(badSource?.code == .badField && badSource?.field == "body.source")
        try await s.run("attendance.checkIn", "a-4", .specialist, "2020-04-03T07:41:00+07:00", [
            "location": "REMOTE", "source": "MOBILE"])
        let person = try s.store.readStream("person-a-4", payloads: .facts).compactMap {
            try PersonEvent(type: $0.record.eventType, facts: $0.facts ?? [])
        }
        if case .checkedIn(_, _, _, _, let source)? = person.first { #expect(source == .mobile) } else { Issue.record("\(person)") }

        let exception = UUID().uuidString
        try await s.run("exception.request", "a-5", .specialist, "2020-04-03T07:00:00+07:00", [
            "exception": .string(exception), "date": "2020-04-08", "reason": "ESSENTIAL"])
        let bare = try await s.refusal("exception.deny", "a-1", .agencyHead, "2020-04-03T07:05:00+07:00", [
            "exception": .string(exception), "person": "a-5"])
        #expect(bare?.code == .badField && bare?.field == "body.reasonCode")
        let prose = try await s.refusal("exception.deny", "a-1", .agencyHead, "2020-04-03T07:05:00+07:00", [
            "exception": .string(exception), "person": "a-5", "reasonCode": "Đủ người trực ngày 8/4"])
        #expect(prose?.field == "body.reasonCode")
        #expect(try s.store.readStream("person-a-5").count == 1, "a refused decision writes nothing")
        try await s.run("exception.deny", "a-1", .agencyHead, "2020-04-03T07:06:00+07:00", [
            "exception": .string(exception), "person": "a-5", "reasonCode": "ROSTER_COVERS"])
        let decided = try s.store.readStream("person-a-5", payloads: .facts).last
        let event = try PersonEvent(type: decided?.record.eventType ?? "", facts: decided?.facts ?? [])
        #expect(decided?.record.eventType == "DutyExceptionDenied.v1")
        #expect(event == .exceptionDecided(id: UUID(uuidString: exception)!, granted: false, by: "a-1",
                                           at: Instant.parse("2020-04-03T07:06:00+07:00")!, denial: .rosterCovers))
    }

    @Test("a health incident lists the days on site before it; who and what are a personal part, erased with its own subject")
    func healthIncident() async throws {
        let s = try await Scenario.make("health")
        defer { s.remove() }
        try await s.run("staff.assign", "hr", .system, "2020-03-31T08:00:00+07:00", [
            "staff": "a-8", "unit": "A.LD", "position": "HR officer", "leader": false, "head": "a-1",
            "from": "2020-03-31"])
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-01T06:00:00+07:00", [
            "unit": "A.P1", "week": "2020-04-01", "entries": .array([Self.entry("2020-04-01", "a-4"),
                                                                     Self.entry("2020-04-03", "a-4")])])
        for day in ["2020-04-01", "2020-04-03"] {
            try await s.run("attendance.checkIn", "a-4", .specialist, "\(day)T07:40:00+07:00", ["location": "ONSITE"])
        }
        try await s.run("attendance.checkIn", "a-4", .specialist, "2020-04-06T07:40:00+07:00", ["location": "REMOTE"])
        let body: [String: JSONValue] = ["person": "a-4", "date": "2020-04-06", "kind": "CONFIRMED"]
        let bySpecialist = try await s.refusal("health.report", "a-3", .specialist, "2020-04-06T09:00:00+07:00", body)
        #expect(bySpecialist?.code == .notPermitted)
        let claimed = try await s.refusal("health.report", "a-7", .hrOfficer, "2020-04-06T09:00:00+07:00", body)
        #expect(claimed?.code == .notPermitted, "claiming the role is not enough: the position says who is HR")
        let future = try await s.refusal("health.report", "a-8", .hrOfficer, "2020-04-03T09:00:00+07:00", body)
        #expect(future?.field == "body.date")
        let badKind = try await s.refusal("health.report", "a-8", .hrOfficer, "2020-04-06T09:00:00+07:00", [
            "person": "a-4", "date": "2020-04-06", "kind": "FLU"])
        #expect(badKind?.field == "body.kind")
        let head = s.store.head
        let command = UUID()
        try await s.run("health.report", "a-8", .hrOfficer, "2020-04-06T09:00:00+07:00", body, id: command)
        #expect(s.store.head == head + 1)

        let stored = try #require(try s.store.readCategory("health", payloads: .all).last)
        let id = try #require(UUID(uuidString: String(stored.record.stream.dropFirst("health-".count))))
        #expect(stored.record.eventType == HealthIncident.type)
        #expect(stored.record.metadata["subject"] == id.uuidString.lowercased(), "the report is its own subject")
        let facts = String(decoding: stored.facts ?? [], as: UTF8.self)
        #expect(!facts.contains("a-4") && !facts.contains("CONFIRMED") && !facts.contains("2020-04-0"),
                "who, when and what are health data: \(facts)")
        let incident = try HealthIncident(id: id, facts: stored.facts ?? [], personal: stored.personal)
        #expect(incident.unit == "A.P1" && incident.reportedBy == "a-8")
        #expect(incident.details?.person == "a-4" && incident.details?.kind == .confirmed)
        #expect(incident.details?.onsiteDays.map(\.description) == ["2020-04-01", "2020-04-03"], "not the remote day")
        #expect(try s.store.readStream("person-a-4").allSatisfy { $0.record.eventType != HealthIncident.type })
        // A retry is answered with the same position; the person's stream goes on.
        let again = try await s.run("health.report", "a-8", .hrOfficer, "2020-04-06T09:00:00+07:00", body, id: command)
        #expect(again?.positions == [stored.position])
        try await s.run("attendance.checkIn", "a-4", .specialist, "2020-04-07T07:40:00+07:00", ["location": "REMOTE"])

        // Erasing the report's subject leaves the unit, the reporter and the time.
        try await s.store.eraseSubject(id, reason: "hết thời hạn lưu trữ dữ liệu sức khỏe")
        let erased = try #require(try s.store.event(at: stored.position))
        let after = try HealthIncident(id: id, facts: erased.facts ?? [], personal: erased.personal)
        #expect(after.details == nil && after.unit == "A.P1")
    }
}

@Suite("Work items")
struct WorkItemTests {
    @Test("registered by a clerk or head; assigned by the unit's head as MAIN, CO or FOR_INFO; overdue found once")
    func workItems() async throws {
        let s = try await Scenario.make("tasks")
        defer { s.remove() }
        let taskID = UUID()
        let task = JSONValue.string(taskID.uuidString)
        let register: [String: JSONValue] = ["task": task, "unit": "A.P1", "kind": "incoming letter",
                                             "dueAt": "2020-04-06T10:00:00+07:00"]
        let bySpecialist = try await s.refusal("task.register", "a-3", .specialist, "2020-04-01T08:00:00+07:00", register)
        #expect(bySpecialist?.code == .notPermitted)
        let fromAbroad = try await s.refusal("task.register", "s-1", .clerk, "2020-04-01T08:00:00+07:00", register)
        #expect(fromAbroad?.code == .notPermitted, "s-1 works for agency S")
        try await s.run("task.register", "a-7", .clerk, "2020-04-01T08:00:00+07:00", register)
        let byDesk = try await s.refusal("task.assign", "a-7", .unitHead, "2020-04-01T08:05:00+07:00",
                                         ["task": task, "assignee": "a-3"])
        #expect(byDesk?.code == .notPermitted && byDesk?.message.contains("does not lead it") == true)
        let late = try await s.refusal("task.assign", "a-2", .unitHead, "2020-04-01T08:05:00+07:00", [
            "task": task, "assignee": "a-3", "dueAt": "2020-04-07T10:00:00+07:00"])
        #expect(late?.field == "body.dueAt")
        try await s.run("task.assign", "a-2", .unitHead, "2020-04-01T08:05:00+07:00", [
            "task": task, "assignee": "a-3", "dueAt": "2020-04-03T10:00:00+07:00"])
        try await s.run("task.assign", "a-2", .unitHead, "2020-04-01T08:06:00+07:00",
                        ["task": task, "assignee": "a-4", "role": "CO"])
        try await s.run("task.assign", "a-2", .unitHead, "2020-04-01T08:07:00+07:00",
                        ["task": task, "assignee": "a-5", "role": "FOR_INFO"])
        let twice = try await s.refusal("task.assign", "a-2", .unitHead, "2020-04-01T08:08:00+07:00",
                                        ["task": task, "assignee": "a-5", "role": "FOR_INFO"])
        #expect(twice?.code == .invalidCommand)
        let pastItem = try await s.refusal("task.assign", "a-2", .unitHead, "2020-04-01T08:09:00+07:00", [
            "task": task, "assignee": "a-6", "dueAt": "2020-04-06T11:00:00+07:00"])
        #expect(pastItem?.field == "body.dueAt", "a step never passes the item's due instant")
        let coCompletes = try await s.refusal("task.complete", "a-4", .specialist, "2020-04-02T08:00:00+07:00", ["task": task])
        #expect(coCompletes?.code == .notPermitted)
        // The step's due instant (3 April 10:00) rules the overdue check, not the item's.
        let early = try await s.run("system.taskCheck", "scheduler", .system, "2020-04-03T09:00:00+07:00", ["task": task])
        #expect(early == nil)
        let found = try await s.run("system.taskCheck", "scheduler", .system, "2020-04-03T11:00:00+07:00", ["task": task])
        #expect(found?.positions.count == 1)
        let again = try await s.run("system.taskCheck", "scheduler", .system, "2020-04-03T12:00:00+07:00", ["task": task])
        #expect(again == nil, "an item is found overdue once")
        let byClerk = try await s.refusal("system.taskCheck", "a-7", .clerk, "2020-04-03T12:00:00+07:00", ["task": task])
        #expect(byClerk?.code == .notPermitted)
        try await s.run("task.complete", "a-3", .specialist, "2020-04-03T15:00:00+07:00", ["task": task])
        let events = try s.store.readStream("task-\(taskID.uuidString.lowercased())", payloads: .facts)
        #expect(events.map(\.record.eventType) == ["IncomingDocumentRegistered.v1", "TaskAssigned.v1", "TaskAssigned.v1",
                                                  "TaskAssigned.v1", "TaskOverdue.v1", "TaskCompleted.v1"])
        let roles = try events.compactMap { try WorkItem.Event(type: $0.record.eventType, facts: $0.facts ?? []) }
            .compactMap { e -> WorkItem.Role? in if case .assigned(_, let role, _, _, _) = e { role } else { nil } }
        #expect(roles == [.main, .co, .forInfo])
    }
}

extension Facts.Writer {
    /// The bytes of a writer filled by `fill`.
    fileprivate func with(_ fill: (inout Facts.Writer) -> Void) -> [UInt8] {
        var w = self
        fill(&w)
        return w.finish()
    }
}
