import EventStore
import Foundation
import Ledger
import TestSupport
import Testing

@Suite("Command service: rules through real streams")
struct ServiceTests {
    @Test("malformed commands name the field; unknown types list the known ones; nothing is appended")
    func badInput() async throws {
        let s = try await Scenario.make("bad")
        defer { s.remove() }
        let head = s.store.head
        let missing = try await s.refusal("dossier.submit", "portal", .applicant, "2020-04-01T09:00:00+07:00", [
            "dossier": .string(UUID().uuidString), "procedure": "P1", "agency": "A", "channel": "online",
            "applicantId": "001"])
        #expect(missing?.code == .badField && missing?.field == "body.applicantName")
        let unknown = try await s.refusal("dossier.teleport", "a-1", .agencyHead, "2020-04-01T09:00:00+07:00", [:])
        #expect(unknown?.code == .notFound && unknown?.message.contains("dossier.submit") == true)
        #expect(throws: LedgerError.self) { try CommandEnvelope(json: Data("{\"commandId\": 1".utf8)) }
        let wrongType = #expect(throws: LedgerError.self) {
            try CommandEnvelope(json: Data(#"{"commandId":"x","type":"a","actor":{"staff":"a","role":"clerk"}}"#.utf8))
        }
        #expect(wrongType?.field == "command.commandId")
        #expect(s.store.head == head)
    }

    @Test("a check-out keeps the official's summary of the day, checked; a check-out without one has none")
    func checkOutSummary() async throws {
        let s = try await Scenario.make("checkout-summary")
        defer { s.remove() }
        try await s.run("attendance.checkIn", "a-4", .specialist, "2020-04-03T07:40:00+07:00", ["location": "REMOTE"])
        let head = s.store.head
        let control = try await s.refusal("attendance.checkOut", "a-4", .specialist, "2020-04-03T17:00:00+07:00",
                                          ["summary": "hồ sơ\u{7}"])
        #expect(control?.code == .badField && control?.field == "body.summary")
        let long = try await s.refusal("attendance.checkOut", "a-4", .specialist, "2020-04-03T17:00:00+07:00",
                                       ["summary": .string(String(repeating: "x", count: AttendanceRules.summaryLimit + 1))])
        #expect(long?.field == "body.summary" && s.store.head == head, "refused, nothing written")
        try await s.run("attendance.checkOut", "a-4", .specialist, "2020-04-03T17:00:00+07:00",
                        ["summary": "Xử lý 3 hồ sơ đất đai;\r\n\ttrả lời 2 phiếu chuyển. "])
        try await s.run("attendance.checkIn", "a-4", .specialist, "2020-04-06T07:40:00+07:00", ["location": "REMOTE"])
        try await s.run("attendance.checkOut", "a-4", .specialist, "2020-04-06T17:00:00+07:00", [:])
        let types = try s.store.readStream("person-a-4").map(\.record.eventType)
        #expect(types == ["CheckedIn.v2", "CheckedOut.v1", "CheckedIn.v2", "CheckedOut.v1"])
        let stored = try s.store.readStream("person-a-4", payloads: .all).filter { $0.record.eventType == "CheckedOut.v1" }
        let checkOuts = try stored.map { try PersonEvent(type: $0.record.eventType, facts: $0.facts ?? [], personal: $0.personal) }
        #expect(checkOuts == [
            .checkedOut(date: CivilDate("2020-04-03")!, at: Instant.parse("2020-04-03T17:00:00+07:00")!,
                        summary: "Xử lý 3 hồ sơ đất đai;\n\ttrả lời 2 phiếu chuyển."),
            .checkedOut(date: CivilDate("2020-04-06")!, at: Instant.parse("2020-04-06T17:00:00+07:00")!),
        ], "the summary is kept trimmed, CRLF as LF; a check-out without one has none")
        // The summary is personal data under the official's own subject, not in the facts.
        #expect(!String(decoding: stored[0].facts ?? [], as: UTF8.self).contains("hồ sơ"))
        #expect(stored[0].record.metadata["subject"]?.lowercased() == PersonEvent.dataSubject(ofStaff: "a-4").uuidString.lowercased()
            && stored[1].personal == nil)
        try await s.store.eraseSubject(PersonEvent.dataSubject(ofStaff: "a-4"), reason: "test", actor: "admin")
        let erased = try #require(try s.store.readStream("person-a-4", payloads: .all).first { $0.record.eventType == "CheckedOut.v1" })
        #expect(try PersonEvent(type: erased.record.eventType, facts: erased.facts ?? [], personal: erased.personal)
            == .checkedOut(date: CivilDate("2020-04-03")!, at: Instant.parse("2020-04-03T17:00:00+07:00")!),
            "after an erasure the check-out reads without its summary")
        try await s.run("attendance.checkIn", "a-4", .specialist, "2020-04-07T07:40:00+07:00", ["location": "REMOTE"])
        let again = try await s.refusal("attendance.checkOut", "a-4", .specialist, "2020-04-07T17:00:00+07:00",
                                        ["summary": "x"])
        #expect(again?.code == .invalidState && again?.message.contains("was erased") == true)
        try await s.run("attendance.checkOut", "a-4", .specialist, "2020-04-07T17:00:00+07:00", [:])
    }

    @Test("a unit's own duty policy sets its cap over its agency's; a policy's scope must exist")
    func unitPolicy() async throws {
        let s = try await Scenario.make("unit-policy")
        defer { s.remove() }
        let twoOnsite: [String: JSONValue] = ["unit": "A.P1", "week": "2020-04-06", "entries": .array([
            Scenario.rosterEntry("2020-04-06", "a-3"), Scenario.rosterEntry("2020-04-06", "a-4")])]
        // Agency A's 1/3 gives A.P1 (headcount 5) one place.
        let over = try await s.refusal("roster.publish", "a-2", .unitHead, "2020-04-01T07:00:00+07:00", twoOnsite)
        #expect(over?.code == .capReached && over?.message.contains("ratio 1/3") == true, "\(over?.message ?? "accepted")")
        let unknown = try await s.refusal("policy.declare", "hr", .system, "2020-04-01T07:10:00+07:00", [
            "scope": "A.ZZ", "ratioNumerator": 1, "ratioDenominator": 2, "minLeaders": 1, "validFrom": "2020-04-06",
            "validTo": "2020-04-30"])
        #expect(unknown?.code == .notFound && unknown?.message.contains("no agency or unit A.ZZ") == true)
        let leaders = try await s.refusal("policy.declare", "hr", .system, "2020-04-01T07:10:00+07:00", [
            "scope": "A.P1", "ratioNumerator": 1, "ratioDenominator": 2, "minLeaders": 1, "validFrom": "2020-04-06",
            "validTo": "2020-04-30"])
        #expect(leaders?.field == "body.minLeaders", "the leader minimum is the agency's")
        let clash = try await s.refusal("unit.define", "hr", .system, "2020-04-01T07:10:00+07:00", [
            "id": "S", "agency": "A", "name": "Phòng S", "desk": false])
        #expect(clash?.code == .invalidCommand && clash?.message.contains("already names an agency") == true)
        // A.P1's own 1/2 from 6 April gives it two; the week before keeps the agency's cap.
        try await s.run("policy.declare", "hr", .system, "2020-04-01T07:10:00+07:00", [
            "scope": "A.P1", "ratioNumerator": 1, "ratioDenominator": 2, "validFrom": "2020-04-06",
            "validTo": "2020-04-30"])
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-01T07:20:00+07:00", twoOnsite)
        let before = try await s.refusal("roster.publish", "a-2", .unitHead, "2020-04-01T07:30:00+07:00", [
            "unit": "A.P1", "week": "2020-04-01", "entries": .array([
                Scenario.rosterEntry("2020-04-03", "a-3"), Scenario.rosterEntry("2020-04-03", "a-4")])])
        #expect(before?.code == .capReached && before?.message.contains("ratio 1/3") == true)
        var reference = ReferenceData()
        try reference.refresh(from: s.store)
        #expect(reference.policy(forUnit: "A.P1", on: CivilDate("2020-04-06")!)?.ratio.denominator == 2)
        #expect(reference.policy(forUnit: "A.MC", on: CivilDate("2020-04-06")!)?.ratio.denominator == 3,
                "another unit of the agency keeps the agency's policy")
        #expect(reference.policy(for: "A", on: CivilDate("2020-04-06")!)?.minimumLeaders == 1,
                "the agency's leader minimum is its own")
    }

    @Test("rosters: the cap per date and the leader rule; an amendment replaces the roster")
    func rosters() async throws {
        let s = try await Scenario.make("roster")
        defer { s.remove() }
        func entry(_ date: String, _ person: String, _ location: String) -> JSONValue {
            .object(["date": .string(date), "person": .string(person), "location": .string(location)])
        }
        let over = try await s.refusal("roster.publish", "a-2", .unitHead, "2020-04-01T07:00:00+07:00", [
            "unit": "A.P1", "week": "2020-04-01",
            "entries": .array([entry("2020-04-03", "a-3", "ONSITE"), entry("2020-04-03", "a-4", "ONSITE")])])
        #expect(over?.code == .capReached && over?.message.contains("cap of 1 (headcount 5, ratio 1/3)") == true)
        let holiday = try await s.refusal("roster.publish", "a-2", .unitHead, "2020-04-01T07:00:00+07:00", [
            "unit": "A.P1", "week": "2020-04-01", "entries": .array([entry("2020-04-02", "a-3", "ONSITE")])])
        #expect(holiday?.code == .invalidCommand && holiday?.message.contains("not a working day") == true)
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-01T07:00:00+07:00", [
            "unit": "A.P1", "week": "2020-04-01", "entries": .array([entry("2020-04-03", "a-3", "ONSITE")])])
        let amend: [String: JSONValue] = [
            "unit": "A.P1", "week": "2020-04-01", "entries": .array([entry("2020-04-03", "a-4", "ONSITE")])]
        let unexplained = try await s.refusal("roster.publish", "a-2", .unitHead, "2020-04-01T07:30:00+07:00", amend)
        #expect(unexplained?.code == .badField && unexplained?.field == "body.reason")
        let late = try await s.refusal("roster.publish", "a-2", .unitHead, "2020-04-06T07:30:00+07:00",
                                       amend.merging(["reason": "a-3 is ill"]) { $1 })
        #expect(late?.code == .invalidCommand && late?.message.contains("2020-04-03, which is past") == true)
        let stranger = try await s.refusal("roster.publish", "a-1", .unitHead, "2020-04-01T07:30:00+07:00",
                                           amend.merging(["reason": "a-3 is ill", "unit": "A.MC"]) { $1 })
        #expect(stranger?.code == .invalidCommand, "a-4 is not on the desk's staff")
        let notTheirs = try await s.refusal("roster.publish", "a-7", .unitHead, "2020-04-01T07:30:00+07:00",
                                            amend.merging(["reason": "a-3 is ill"]) { $1 })
        #expect(notTheirs?.code == .notPermitted && notTheirs?.message.contains("leads neither") == true)
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-01T07:30:00+07:00",
                        amend.merging(["reason": "a-3 is ill"]) { $1 })
        let events = try s.store.readStream("roster-A.P1-20200330", payloads: .facts)
        #expect(events.map(\.record.eventType) == ["RosterPublished.v1", "RosterAmended.v1"])
        let changes = try Facts.decode(events[1].facts ?? []) { r throws(Facts.DecodingError) in
            (try r.string("reason"), try r.strings("changes"))
        }
        #expect(changes.0 == "a-3 is ill")
        #expect(changes.1 == ["- 2020-04-03 a-3 ONSITE OFFICE", "+ 2020-04-03 a-4 ONSITE OFFICE"])
        let noLeader = try await s.refusal("roster.publishLeaders", "a-1", .agencyHead, "2020-04-01T07:00:00+07:00", [
            "agency": "A", "week": "2020-04-01", "entries": .array([entry("2020-04-01", "a-1", "ONSITE")])])
        #expect(noLeader?.code == .invalidCommand && noLeader?.message.contains("0 leader(s) on site on 2020-04-03") == true)
        let notLeader = try await s.refusal("roster.publishLeaders", "a-1", .agencyHead, "2020-04-01T07:00:00+07:00", [
            "agency": "A", "week": "2020-04-01", "entries": .array([entry("2020-04-01", "a-3", "ONSITE")])])
        #expect(notLeader?.message.contains("not a leader") == true)
    }

    @Test("check-ins: the roster, the cap, exceptions beyond it only from the superior head; leave; one check-in a day")
    func checkIns() async throws {
        let s = try await Scenario.make("checkin")
        defer { s.remove() }
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-03T07:00:00+07:00", [
            "unit": "A.P1", "week": "2020-04-03",
            "entries": .array([.object(["date": "2020-04-03", "person": "a-3", "location": "ONSITE"])])])
        let unrostered = try await s.refusal("attendance.checkIn", "a-4", .specialist, "2020-04-03T07:35:00+07:00",
                                             ["location": "ONSITE"])
        #expect(unrostered?.code == .notPermitted)
        try await s.run("attendance.checkIn", "a-3", .specialist, "2020-04-03T07:36:00+07:00", ["location": "ONSITE"])
        let twice = try await s.refusal("attendance.checkIn", "a-3", .specialist, "2020-04-03T07:37:00+07:00",
                                        ["location": "REMOTE"])
        #expect(twice?.code == .invalidState)
        let exception = UUID().uuidString
        try await s.run("exception.request", "a-4", .specialist, "2020-04-03T07:40:00+07:00", [
            "exception": .string(exception), "date": "2020-04-03", "reason": "CLASSIFIED"])
        let byAgencyHead = try await s.refusal("exception.grant", "a-1", .agencyHead, "2020-04-03T07:41:00+07:00", [
            "exception": .string(exception), "person": "a-4"])
        #expect(byAgencyHead?.code == .notPermitted && byAgencyHead?.message.contains("superior") == true)
        try await s.run("exception.grant", "s-1", .superiorHead, "2020-04-03T07:42:00+07:00", [
            "exception": .string(exception), "person": "a-4"])
        try await s.run("attendance.checkIn", "a-4", .specialist, "2020-04-03T07:43:00+07:00", ["location": "ONSITE"])
        let day = try s.store.readStream("unitday-A.P1-20200403", payloads: .facts)
        #expect(day.count == 2)
        let flags = try day.map { e in try Facts.decode(e.facts ?? []) { r throws(Facts.DecodingError) in try r.bool("beyondCap") } }
        #expect(flags == [false, true])
        // Leave: never approved by the requester; approved leave blocks check-ins.
        let leave = UUID().uuidString
        try await s.run("leave.request", "a-5", .specialist, "2020-04-03T08:00:00+07:00", [
            "leave": .string(leave), "kind": "ANNUAL", "from": "2020-04-06", "to": "2020-04-06",
            "emailMessageId": "<leave-1@mail.a.gov.vn>"])
        let selfApproved = try await s.refusal("leave.approve", "a-5", .specialist, "2020-04-03T08:01:00+07:00", [
            "leave": .string(leave), "person": "a-5"])
        #expect(selfApproved?.code == .notPermitted)
        try await s.run("leave.approve", "a-2", .unitHead, "2020-04-03T08:02:00+07:00", ["leave": .string(leave), "person": "a-5"])
        let onLeave = try await s.refusal("attendance.checkIn", "a-5", .specialist, "2020-04-06T07:40:00+07:00",
                                          ["location": "REMOTE"])
        #expect(onLeave?.code == .invalidState && onLeave?.message.contains("leave") == true)
        // Only the person or their head asks; nobody decides an exception for themselves.
        let forHead = UUID().uuidString
        let colleague = try await s.refusal("exception.request", "a-3", .specialist, "2020-04-03T09:00:00+07:00", [
            "exception": .string(forHead), "person": "a-1", "date": "2020-04-06", "reason": "ESSENTIAL"])
        #expect(colleague?.code == .notPermitted && colleague?.message.contains("the person or their head") == true)
        try await s.run("exception.request", "a-1", .agencyHead, "2020-04-03T09:00:00+07:00", [
            "exception": .string(forHead), "person": "a-1", "date": "2020-04-06", "reason": "ESSENTIAL"])
        let own = try await s.refusal("exception.grant", "a-1", .agencyHead, "2020-04-03T09:05:00+07:00", [
            "exception": .string(forHead), "person": "a-1"])
        #expect(own?.code == .notPermitted)
    }

    @Test("receipt codes given by a client must be the agency-day's next; anything else is refused")
    func receiptCodes() async throws {
        let s = try await Scenario.make("receipt")
        defer { s.remove() }
        let dossier = JSONValue.string(UUID().uuidString)
        try await s.run("dossier.submit", "portal", .applicant, "2020-04-01T09:00:00+07:00", [
            "dossier": dossier, "procedure": "P1", "agency": "A", "channel": "online", "applicantName": "X",
            "applicantId": "1"])
        let shaped = try await s.refusal("dossier.receive", "a-7", .oneStopOfficer, "2020-04-01T10:00:00+07:00",
                                         ["dossier": dossier, "receiptCode": "A-200401-Nguyen-0001"], unit: "A.MC")
        #expect(shaped?.code == .invalidCommand)
        let skipped = try await s.refusal("dossier.receive", "a-7", .oneStopOfficer, "2020-04-01T10:00:00+07:00",
                                          ["dossier": dossier, "receiptCode": "A-200401-0007"], unit: "A.MC")
        #expect(skipped?.code == .invalidState && skipped?.message.contains("A-200401-0001") == true)
        try await s.run("dossier.receive", "a-7", .oneStopOfficer, "2020-04-01T10:00:00+07:00",
                        ["dossier": dossier, "receiptCode": "A-200401-0001"], unit: "A.MC")
    }

    @Test("the end-of-day check records no-shows and missing reports once; a retried command keeps its positions")
    func endOfDay() async throws {
        let s = try await Scenario.make("eod")
        defer { s.remove() }
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-03T07:00:00+07:00", [
            "unit": "A.P1", "week": "2020-04-03",
            "entries": .array([.object(["date": "2020-04-03", "person": "a-3", "location": "ONSITE"])])])
        let id = UUID()
        let first = try await s.run("attendance.checkIn", "a-4", .specialist, "2020-04-03T07:40:00+07:00",
                                    ["location": "REMOTE"], id: id)
        let retry = try await s.run("attendance.checkIn", "a-4", .specialist, "2020-04-03T07:45:00+07:00",
                                    ["location": "REMOTE"], id: id)
        #expect(retry?.wasRetry == true && retry?.positions == first?.positions)
        try await s.run("progress.report", "a-4", .specialist, "2020-04-03T16:30:00+07:00", ["items": .array([
            .object(["taskRef": "dossier-queue", "status": "IN_PROGRESS"]),
            .object(["taskRef": "incoming-letters", "status": "DONE", "note": "answered two letters"])])])
        let closed = try await s.run("system.endOfDay", "scheduler", .system, "2020-04-03T17:45:00+07:00",
                                     ["agency": "A", "date": "2020-04-03"])
        #expect(closed != nil)
        let events = try s.store.readStream("eod-A-20200403", payloads: .facts)
        let noShows = try events.filter { $0.record.eventType == "NoShowDetected.v1" }.map { e in
            try Facts.decode(e.facts ?? []) { r throws(Facts.DecodingError) in "\(try r.string("person")) \(try r.string("expected"))" }
        }
        // a-3 was rostered on site and never came; the others never checked in at all (a-4 worked remotely).
        #expect(noShows.contains("a-3 ONSITE") && !noShows.contains { $0.hasPrefix("a-4") })
        #expect(events.contains { $0.record.eventType == "LeaderAbsenceRecorded.v1" })
        #expect(events.last?.record.eventType == "DayClosed.v1")
        let again = try await s.run("system.endOfDay", "scheduler", .system, "2020-04-03T18:00:00+07:00",
                                    ["agency": "A", "date": "2020-04-03"])
        #expect(again == nil)
        let byClerk = try await s.refusal("system.endOfDay", "a-7", .clerk, "2020-04-06T18:00:00+07:00",
                                          ["agency": "A", "date": "2020-04-06"])
        #expect(byClerk?.code == .notPermitted)
        let early = try await s.refusal("system.endOfDay", "scheduler", .system, "2020-04-06T10:00:00+07:00",
                                        ["agency": "A", "date": "2020-04-06"])
        #expect(early?.code == .invalidCommand && early?.message.contains("has not ended") == true)
    }

    @Test("a returned dossier draft resubmitted to its approval puts the dossier back in it; signed, it resolves")
    func resubmission() async throws {
        let s = try await Scenario.make("resubmit")
        defer { s.remove() }
        let dossier = UUID()
        try await s.openDossier(dossier, submit: "2020-04-01T09:00:00", receive: "2020-04-01T10:00:00", assignee: "a-3")
        let approvalID = UUID()
        let d = JSONValue.string(dossier.uuidString), approval = JSONValue.string(approvalID.uuidString)
        let (first, revised) = (String(repeating: "a", count: 64), String(repeating: "b", count: 64))
        try await s.run("dossier.submitForApproval", "a-3", .specialist, "2020-04-03T09:00:00+07:00",
                        ["dossier": d, "approval": approval, "draftSha256": .string(first), "outcome": "grant"])
        try await s.run("approval.return", "a-2", .unitHead, "2020-04-03T10:00:00+07:00",
                        ["approval": approval, "comments": .array(["sửa căn cứ pháp lý"])])
        let handler = DossierHandler(store: s.store)
        #expect(try handler.load(dossier).state.status == .inProcess)
        // Without the outcome, or by someone else than the submitter: refused, nothing appended.
        let head = s.store.head
        let noOutcome = try await s.refusal("approval.resubmit", "a-3", .specialist, "2020-04-03T11:00:00+07:00",
                                            ["approval": approval, "draftSha256": .string(revised)])
        #expect(noOutcome?.code == .badField && noOutcome?.field == "body.outcome")
        let other = try await s.refusal("approval.resubmit", "a-4", .specialist, "2020-04-03T11:00:00+07:00",
                                        ["approval": approval, "draftSha256": .string(revised), "outcome": "grant"])
        #expect(other?.code == .notPermitted && s.store.head == head)
        try await s.run("approval.resubmit", "a-3", .specialist, "2020-04-03T11:00:00+07:00",
                        ["approval": approval, "draftSha256": .string(revised), "outcome": "grant"])
        let back = try handler.load(dossier).state
        #expect(back.status == .pendingApproval && back.approvalID == approvalID && back.revisions == 1)
        try await s.run("approval.approve", "a-2", .unitHead, "2020-04-03T14:00:00+07:00", ["approval": approval])
        try await s.run("approval.approve", "a-1", .agencyHead, "2020-04-03T15:00:00+07:00", ["approval": approval])
        try await s.run("approval.sign", "a-1", .agencyHead, "2020-04-03T15:30:00+07:00",
                        ["approval": approval, "signedSha256": .string(revised), "certificate": Scenario.certificate])
        let bySpecialist = try await s.refusal("dossier.resolve", "a-3", .specialist, "2020-04-03T16:00:00+07:00",
                                               ["dossier": d, "resultNumber": "7/QĐ-A"])
        #expect(bySpecialist?.code == .notPermitted)
        let plainLink = try await s.refusal("dossier.resolve", "a-7", .oneStopOfficer, "2020-04-03T16:00:00+07:00",
                                            ["dossier": d, "resultNumber": "7/QĐ-A",
                                             "eResultLink": "http://dichvucong.example.vn/kq/7"], unit: "A.MC")
        #expect(plainLink?.field == "body.eResultLink" && plainLink?.message.contains("https") == true)
        for bad in ["https://user:pw@dichvucong.example.vn/kq/7", "https://dichvucong.example.vn/kết quả", "https://"] {
            let refused = try await s.refusal("dossier.resolve", "a-7", .oneStopOfficer, "2020-04-03T16:00:00+07:00",
                                              ["dossier": d, "resultNumber": "7/QĐ-A", "eResultLink": .string(bad)],
                                              unit: "A.MC")
            #expect(refused?.field == "body.eResultLink", "\(bad)")
        }
        try await s.run("dossier.resolve", "a-7", .oneStopOfficer, "2020-04-03T16:00:00+07:00",
                        ["dossier": d, "resultNumber": "7/QĐ-A", "resultDocRef": "docregister-A-QD-2020#7",
                         "eResultLink": "https://dichvucong.example.vn/kq/7"], unit: "A.MC")
        #expect(try handler.load(dossier).state.status == .resolved)
        // The result names the approval it rests on, its signer and the signature's time.
        let resolved = try #require(try s.store.readStream(DossierHandler.stream(dossier), payloads: .all).last)
        #expect(!String(decoding: resolved.facts ?? [], as: UTF8.self).contains("dichvucong"),
                "the link opens the applicant's document: personal part")
        #expect(try DossierEvent(type: resolved.record.eventType, facts: resolved.facts ?? [], personal: resolved.personal)
            == .resolved(resultNumber: "7/QĐ-A", at: Instant.parse("2020-04-03T16:00:00+07:00")!,
                         signature: .init(approvalID: approvalID, signedBy: "a-1",
                                          signedAt: Instant.parse("2020-04-03T15:30:00+07:00")!),
                         documentRef: "docregister-A-QD-2020#7", eResultLink: "https://dichvucong.example.vn/kq/7"))
    }

    @Test("events carry the command's correlation and causation ids, the command id when the client sends none")
    func correlation() async throws {
        let s = try await Scenario.make("correlation")
        defer { s.remove() }
        let (workflow, cause, first, second, followUp) = (UUID(), UUID(), UUID(), UUID(), UUID())
        let at = Instant.parse("2020-04-01T09:00:00+07:00")!
        let submit = """
            {"commandId": "\(first)", "type": "dossier.submit", "correlationId": "\(workflow)", "causationId": "\(cause)",
             "actor": {"staff": "portal", "role": "applicant"}, "body": {"dossier": "\(second)", "procedure": "P1",
             "agency": "A", "channel": "online", "applicantName": "Trần Thị Bình", "applicantId": "079190000001"}}
            """
        let envelope = try CommandEnvelope(json: Data(submit.utf8))
        let result = try #require(try await s.service.execute(envelope, principal: "test", trustedTime: true, now: at))
        let event = try #require(try s.store.event(at: result.positions[0]))
        #expect(event.record.correlationID == workflow && event.record.causationID == cause)
        let receive = try #require(try await s.run("dossier.receive", "a-7", .oneStopOfficer, "2020-04-01T10:00:00+07:00",
                                                   ["dossier": .string(second.uuidString)], unit: "A.MC", id: followUp))
        let received = try #require(try s.store.event(at: receive.positions[0]))
        #expect(received.record.correlationID == followUp && received.record.causationID == followUp)
        let bad = #"{"commandId": "\#(UUID())", "type": "dossier.receive", "correlationId": "x", "actor": {"staff": "a", "role": "applicant"}}"#
        let error = #expect(throws: LedgerError.self) { try CommandEnvelope(json: Data(bad.utf8)) }
        #expect(error?.field == "command.correlationId")
    }

    @Test("a submission is under the procedure version in force: a superseded version is refused, nothing appended")
    func procedureVersionInForce() async throws {
        let s = try await Scenario.make("versions")
        defer { s.remove() }
        try await s.run("procedure.publish", "hr", .system, "2020-03-31T09:00:00+07:00", [
            "code": "P1", "name": "Thủ tục một", "field": "HT", "onlineLevel": 3, "durationUnit": "workingDays",
            "duration": 3, "channels": .array(["online", "direct"])])
        func submit(_ version: Int?) async throws -> LedgerError? {
            var body: [String: JSONValue] = [
                "dossier": .string(UUID().uuidString), "procedure": "P1", "agency": "A", "channel": "online",
                "applicantName": "Trần Thị Bình", "applicantId": "079190000001"]
            if let version { body["version"] = .number(Double(version)) }
            return try await s.refusal("dossier.submit", "portal", .applicant, "2020-04-01T09:00:00+07:00", body)
        }
        let head = s.store.head
        let superseded = try await submit(1)
        #expect(superseded?.code == .invalidCommand && superseded?.field == "body.version"
            && superseded?.message.contains("not the one in force on 2020-04-01 (version 2)") == true && s.store.head == head)
        let (current, unnamed, unknown) = (try await submit(2), try await submit(nil), try await submit(3))
        #expect(current == nil && unnamed == nil && unknown?.code == .notFound)
        // A version published ahead takes effect on its day; until then the one before stays in force.
        let ahead: [String: JSONValue] = [
            "code": "P1", "name": "Thủ tục một", "field": "HT", "onlineLevel": 3, "durationUnit": "workingDays",
            "duration": 2, "channels": .array(["online", "direct"]), "effectiveFrom": "2020-04-10"]
        let past = try await s.refusal("procedure.publish", "hr", .system, "2020-04-01T10:00:00+07:00",
                                       ahead.merging(["effectiveFrom": "2020-03-01"]) { $1 })
        #expect(past?.field == "body.effectiveFrom")
        try await s.run("procedure.publish", "hr", .system, "2020-04-01T10:00:00+07:00", ahead)
        #expect(try await submit(3)?.field == "body.version", "version 3 is not in force before 10 April")
        #expect(try await submit(nil) == nil, "version 2 is")
    }

    @Test("a second supplementation request needs the unit head's own override, once per request beyond the first")
    func secondSupplementOverride() async throws {
        let s = try await Scenario.make("override")
        defer { s.remove() }
        let dossier = UUID()
        try await s.openDossier(dossier, submit: "2020-04-01T09:00:00", receive: "2020-04-01T10:00:00", assignee: "a-3")
        let d: [String: JSONValue] = ["dossier": .string(dossier.uuidString)]
        let request = d.merging(["items": .array(["Tờ khai"])]) { a, _ in a }
        try await s.run("dossier.requestSupplement", "a-3", .specialist, "2020-04-03T09:00:00+07:00", request)
        try await s.run("dossier.receiveSupplement", "a-7", .oneStopOfficer, "2020-04-06T09:00:00+07:00", d, unit: "A.MC")
        // The requester's own say-so counts for nothing.
        let claimed = try await s.refusal("dossier.requestSupplement", "a-3", .specialist, "2020-04-07T09:00:00+07:00",
                                          request.merging(["headOverride": true]) { a, _ in a })
        #expect(claimed?.code == .secondSupplementNeedsOverride)
        let notHead = try await s.refusal("dossier.approveSecondSupplement", "a-1", .unitHead, "2020-04-07T09:05:00+07:00", d)
        #expect(notHead?.code == .notPermitted, "the agency head is not the head of A.P1")
        for officer in ["a-3", "a-4"] {
            let claimedRole = try await s.refusal("dossier.approveSecondSupplement", officer, .deputyHead,
                                                  "2020-04-07T09:06:00+07:00", d)
            #expect(claimedRole?.code == .notPermitted, "\(officer) is no leader, whatever role the envelope claims")
        }
        try await s.run("dossier.approveSecondSupplement", "a-2", .unitHead, "2020-04-07T09:10:00+07:00", d)
        let twice = try await s.refusal("dossier.approveSecondSupplement", "a-2", .unitHead, "2020-04-07T09:11:00+07:00", d)
        #expect(twice?.code == .invalidCommand)
        try await s.run("dossier.requestSupplement", "a-3", .specialist, "2020-04-07T09:20:00+07:00", request)
        let state = try DossierHandler(store: s.store).load(dossier).state
        #expect(state.supplementRequests == 2 && state.secondSupplementApprovedBy == nil)
        try await s.run("dossier.receiveSupplement", "a-7", .oneStopOfficer, "2020-04-08T09:00:00+07:00", d, unit: "A.MC")
        let third = try await s.refusal("dossier.requestSupplement", "a-3", .specialist, "2020-04-08T10:00:00+07:00", request)
        #expect(third?.code == .secondSupplementNeedsOverride, "each request beyond the first needs its own override")
    }

    @Test("an apology slip is signed by the agency head, or by an official the head delegated to at that time")
    func apologySigner() async throws {
        let s = try await Scenario.make("apology")
        defer { s.remove() }
        let dossier = UUID()
        try await s.openDossier(dossier, submit: "2020-04-01T09:00:00", receive: "2020-04-01T10:00:00", assignee: "a-3")
        let body: [String: JSONValue] = ["dossier": .string(dossier.uuidString), "newAppointmentAt": "2020-04-15T17:00:00+07:00",
                                         "reason": "chờ ý kiến Sở Xây dựng"]
        let head = s.store.head
        let undelegated = try await s.refusal("dossier.issueApology", "a-2", .deputyHead, "2020-04-07T09:00:00+07:00", body)
        #expect(undelegated?.code == .notPermitted && undelegated?.message.contains("a-1") == true && s.store.head == head)
        try await s.run("delegation.grant", "a-1", .agencyHead, "2020-04-07T08:00:00+07:00", [
            "to": "a-2", "capacity": "KT", "validFrom": "2020-04-07T08:00:00+07:00", "validTo": "2020-04-07T23:59:00+07:00"])
        let late = try await s.refusal("dossier.issueApology", "a-2", .deputyHead, "2020-04-08T09:00:00+07:00", body)
        #expect(late?.code == .notPermitted, "the delegation ended the day before")
        try await s.run("dossier.issueApology", "a-2", .deputyHead, "2020-04-07T09:00:00+07:00",
                        body.merging(["reason": "chờ ý kiến Sở Xây dựng"]) { $1 })
        #expect(try DossierHandler(store: s.store).load(dossier).state.apologyIssuedAt != nil)
        // The slip records the appointment it replaces (the due instant: 9 April 10:00) and the reason.
        let slip = try #require(try s.store.readStream(DossierHandler.stream(dossier), payloads: .all).last)
        #expect(slip.personal != nil && !String(decoding: slip.facts ?? [], as: UTF8.self).contains("Xây dựng"),
                "the reason is a personal part")
        // The applicant erased, the dossier goes on: a later slip's reason goes under a new subject.
        let applicant = try #require(try DossierHandler(store: s.store).load(dossier).state.subject)
        try await s.store.eraseSubject(applicant, reason: "yêu cầu xóa dữ liệu")
        try await s.run("dossier.issueApology", "a-1", .agencyHead, "2020-04-14T09:00:00+07:00", [
            "dossier": .string(dossier.uuidString), "newAppointmentAt": "2020-04-20T17:00:00+07:00", "reason": "chờ thẩm định"])
        let second = try #require(try s.store.readStream(DossierHandler.stream(dossier), payloads: .all).last)
        #expect(second.personal != nil && second.record.metadata["subject"] != applicant.uuidString.lowercased())
        let receipt = try #require(try DossierHandler(store: s.store).load(dossier).state.receiptCode)
        #expect(try DossierEvent(type: slip.record.eventType, facts: slip.facts ?? [], personal: slip.personal)
            == .apologyIssued(newAppointmentAt: Instant.parse("2020-04-15T17:00:00+07:00")!, signedBy: "a-2",
                              at: Instant.parse("2020-04-07T09:00:00+07:00")!,
                              previousDueAt: Instant.parse("2020-04-09T10:00:00+07:00")!, reason: "chờ ý kiến Sở Xây dựng",
                              slipRef: "04/\(receipt)-1"))
        guard case .apologyIssued(_, _, _, _, _, let secondSlip) = try DossierEvent(
            type: second.record.eventType, facts: second.facts ?? [], personal: nil) else {
            Issue.record("not an apology")
            return
        }
        #expect(secondSlip == "04/\(receipt)-2", "the second apology slip of the dossier")
    }

    @Test("a calendar publishes its office hours and same-day cut-off; malformed hours are refused naming the field")
    func officeHours() async throws {
        let s = try await Scenario.make("hours")
        defer { s.remove() }
        let at = "2020-03-31T09:00:00+07:00"
        try await s.run("calendar.publish", "hr", .system, at, [
            "id": "VN", "holidays": .array(["2020-04-30"]), "sessions": .array(["08:00-12:00", "13:00-17:30"]),
            "sameDayCutoff": "16:00"])
        let published = try #require(try s.service.referenceData().calendar("VN"))
        #expect(published.version == 2 && published.calendar.minutesPerDay == 8 * 60 + 30
            && published.calendar.sameDayCutoff == 16 * 60)
        for (sessions, cutoff, field) in [(["08:00-12:00", "11:00-17:00"], "15:00", "body.sessions"),
                                          (["8:00-12:00"], "09:00", "body.sessions"),
                                          (["08:00-12:00"], "12:30", "body.sameDayCutoff")] {
            let refused = try await s.refusal("calendar.publish", "hr", .system, at, [
                "id": "VN", "holidays": .array([]), "sessions": .array(sessions.map(JSONValue.string)),
                "sameDayCutoff": .string(cutoff)])
            #expect(refused?.code == .badField && refused?.field == field, "\(sessions) \(cutoff)")
        }
        // A holiday is a weekday off; a make-up day a weekend day worked.
        let sunday = try await s.refusal("calendar.publish", "hr", .system, at, ["id": "VN", "holidays": .array(["2020-04-05"])])
        #expect(sunday?.field == "body.holidays" && sunday?.message.contains("2020-04-05, a weekend day") == true)
        let monday = try await s.refusal("calendar.publish", "hr", .system, at, [
            "id": "VN", "holidays": .array([]), "makeUpDays": .array(["2020-04-06"])])
        #expect(monday?.field == "body.makeUpDays")
        #expect(try s.service.referenceData().calendar("VN")?.version == 2, "nothing published by the refused ones")
    }

    @Test("delegations: only a leader grants; the delegator or their direct head revokes, from then on")
    func delegationRevoked() async throws {
        let s = try await Scenario.make("revoke")
        defer { s.remove() }
        let (first, second) = (UUID(), UUID())
        try await s.openDossier(first, submit: "2020-04-01T09:00:00", receive: "2020-04-01T10:00:00", assignee: "a-3")
        try await s.openDossier(second, submit: "2020-04-01T09:10:00", receive: "2020-04-01T10:10:00", assignee: "a-4")
        let grant: [String: JSONValue] = ["to": "a-2", "capacity": "KT", "validFrom": "2020-04-07T08:00:00+07:00",
                                          "validTo": "2020-04-10T23:59:00+07:00"]
        let byOfficer = try await s.refusal("delegation.grant", "a-3", .specialist, "2020-04-07T08:00:00+07:00",
                                            grant.merging(["to": "a-4"]) { _, b in b })
        #expect(byOfficer?.code == .notPermitted, "a-3 is no leader")
        try await s.run("delegation.grant", "a-1", .agencyHead, "2020-04-07T08:00:00+07:00", grant)
        func apology(_ dossier: UUID, _ at: String) async throws -> LedgerError? {
            try await s.refusal("dossier.issueApology", "a-2", .deputyHead, at, [
                "dossier": .string(dossier.uuidString), "newAppointmentAt": "2020-04-15T17:00:00+07:00", "reason": "chờ"])
        }
        #expect(try await apology(first, "2020-04-07T09:00:00+07:00") == nil)
        let revoke: [String: JSONValue] = ["from": "a-1", "to": "a-2", "capacity": "KT"]
        let stranger = try await s.refusal("delegation.revoke", "a-4", .specialist, "2020-04-07T10:00:00+07:00", revoke)
        #expect(stranger?.code == .notPermitted)
        try await s.run("delegation.revoke", "a-1", .agencyHead, "2020-04-07T10:00:00+07:00", revoke)
        let again = try await s.refusal("delegation.revoke", "a-1", .agencyHead, "2020-04-07T10:05:00+07:00", revoke)
        #expect(again?.code == .invalidCommand, "nothing left in force to revoke")
        #expect(try await apology(second, "2020-04-07T10:00:00+07:00")?.code == .notPermitted, "revoked at 10:00")
        #expect(try await apology(second, "2020-04-07T11:00:00+07:00")?.code == .notPermitted)
        // Decree 30's capacities: KT only from the agency head, to a leader; TUQ in writing; named subjects only.
        try await s.run("staff.assign", "hr", .system, "2020-03-31T08:00:00+07:00", [
            "staff": "a-8", "unit": "A.P1", "position": "deputy head", "leader": true, "head": "a-2", "from": "2020-01-01"])
        let tl: [String: JSONValue] = ["to": "a-8", "capacity": "TL", "validFrom": "2020-04-08T08:00:00+07:00",
                                       "validTo": "2020-04-09T17:00:00+07:00"]
        let toOfficer = try await s.refusal("delegation.grant", "a-2", .unitHead, "2020-04-07T08:00:00+07:00",
                                            tl.merging(["to": "a-3"]) { $1 })
        #expect(toOfficer?.code == .invalidCommand && toOfficer?.message.contains("a-3 is not one") == true)
        let ktByUnitHead = try await s.refusal("delegation.grant", "a-2", .unitHead, "2020-04-07T08:00:00+07:00",
                                               tl.merging(["capacity": "KT"]) { $1 })
        #expect(ktByUnitHead?.code == .invalidCommand && ktByUnitHead?.message.contains("given by the head of A") == true)
        let unwritten = try await s.refusal("delegation.grant", "a-2", .unitHead, "2020-04-07T08:00:00+07:00",
                                            tl.merging(["capacity": "TUQ"]) { $1 })
        #expect(unwritten?.field == "body.documentRef")
        let scope = try await s.refusal("delegation.grant", "a-2", .unitHead, "2020-04-07T08:00:00+07:00",
                                        tl.merging(["subjects": .array(["EVERYTHING"])]) { $1 })
        #expect(scope?.field == "body.subjects")
        // A unit head's delegation, ended by the head above them, named by its id.
        let delegation = UUID()
        try await s.run("delegation.grant", "a-2", .unitHead, "2020-04-07T08:00:00+07:00",
                        tl.merging(["delegation": .string(delegation.uuidString), "capacity": "TUQ",
                                    "documentRef": "15/GUQ-P1"]) { $1 })
        try await s.run("delegation.revoke", "a-1", .agencyHead, "2020-04-07T12:00:00+07:00",
                        ["from": "a-2", "delegation": .string(delegation.uuidString)])
        let left = try s.store.readStream(Delegation.stream(from: "a-2"), payloads: .facts).reduce([Delegation]()) {
            try Delegation.apply($1.record.eventType, $1.facts ?? [], to: $0, eventID: $1.record.eventID)
        }
        #expect(left.isEmpty, "a delegation revoked before it started is gone")
    }

    @Test("a duty exception's reason must be one the duty policy allows; a policy names its reasons in UPPER_CASE")
    func onsiteReasons() async throws {
        let s = try await Scenario.make("reasons")
        defer { s.remove() }
        var policy: [String: JSONValue] = [
            "scope": "A", "ratioNumerator": 1, "ratioDenominator": 3, "minLeaders": 1, "validFrom": "2020-04-01",
            "validTo": "2020-04-30", "directive16Intake": true, "allowedOnsiteReasons": .array(["classified"])]
        let lower = try await s.refusal("policy.declare", "hr", .system, "2020-03-31T10:00:00+07:00", policy)
        #expect(lower?.code == .badField && lower?.field == "body.allowedOnsiteReasons")
        policy["allowedOnsiteReasons"] = .array(["CLASSIFIED"])
        try await s.run("policy.declare", "hr", .system, "2020-03-31T10:00:00+07:00", policy)
        func request(_ reason: String) async throws -> LedgerError? {
            try await s.refusal("exception.request", "a-4", .specialist, "2020-04-03T07:40:00+07:00", [
                "exception": .string(UUID().uuidString), "date": "2020-04-03", "reason": .string(reason)])
        }
        let essential = try await request("ESSENTIAL")
        #expect(essential?.field == "body.reason" && essential?.message.contains("CLASSIFIED") == true)
        #expect(try await request("CLASSIFIED") == nil)
    }
}

@Suite("Schema versions")
struct UpcastTests {
    @Test("a CheckedIn.v1 without a date (an older store) is upcast when folded: the check-out after it is accepted")
    func checkedInV1() async throws {
        let s = try await Scenario.make("upcast")
        defer { s.remove() }
        // What an older version wrote: unit, location and instant, no date.
        var w = Facts.Writer()
        w.field("unit", "A.P1")
        w.field("location", "REMOTE")
        w.field("at", instant: Instant.parse("2020-04-03T07:40:00+07:00")!)
        try await s.store.append(to: "person-a-4", expected: .noStream, [EventData(type: "CheckedIn.v1", facts: w.finish(),
                                                                                   actor: "a-4")])
        let twice = try await s.refusal("attendance.checkIn", "a-4", .specialist, "2020-04-03T08:00:00+07:00",
                                        ["location": "REMOTE"])
        #expect(twice?.code == .invalidState, "the v1 check-in counts for 3 April")
        try await s.run("attendance.checkOut", "a-4", .specialist, "2020-04-03T17:00:00+07:00", [:])
        try await s.run("attendance.checkIn", "a-4", .specialist, "2020-04-06T07:40:00+07:00", ["location": "REMOTE"])
        let types = try s.store.readStream("person-a-4").map(\.record.eventType)
        #expect(types == ["CheckedIn.v1", "CheckedOut.v1", "CheckedIn.v2"])
        let decoded = try s.store.readStream("person-a-4", payloads: .facts).compactMap {
            try PersonEvent(type: $0.record.eventType, facts: $0.facts ?? [])
        }
        #expect(decoded.first == .checkedIn(unit: "A.P1", location: .remote, date: CivilDate("2020-04-03")!,
                                             at: Instant.parse("2020-04-03T07:40:00+07:00")!))
    }
}
