import EventStore
import Foundation
import Ledger
import TestSupport
import Testing

/// The dossier's side events of domain.md §3.1: processing notes, inter-agency consultations, the post's delivery
/// and the citizen's feedback.
@Suite("Dossier side events")
struct DossierExtrasTests {
    @Test("notes and consultations come from the assignee; their text is personal data under the applicant's subject")
    func notesAndConsultations() async throws {
        let s = try await Scenario.make("notes")
        defer { s.remove() }
        let id = UUID()
        try await s.openDossier(id, submit: "2020-04-01T09:00:00", receive: "2020-04-01T10:00:00", assignee: "a-3")
        let d = JSONValue.string(id.uuidString)
        let at = "2020-04-02T09:00:00+07:00"
        let byOther = try await s.refusal("dossier.addNote", "a-4", .specialist, at, ["dossier": d, "note": "x"])
        #expect(byOther?.code == .notPermitted)
        try await s.run("dossier.addNote", "a-3", .specialist, at, ["dossier": d, "note": "Gọi bà Bình xác minh địa chỉ"])
        let own = try await s.refusal("dossier.consult", "a-3", .specialist, at, [
            "dossier": d, "consultation": .string(UUID().uuidString), "toAgency": "A", "question": "?",
            "dueAt": "2020-04-06T17:00:00+07:00"])
        #expect(own?.code == .invalidCommand)
        let nowhere = try await s.refusal("dossier.consult", "a-3", .specialist, at, [
            "dossier": d, "consultation": .string(UUID().uuidString), "toAgency": "Z", "question": "?",
            "dueAt": "2020-04-06T17:00:00+07:00"])
        #expect(nowhere?.code == .notFound)
        let consultation = JSONValue.string(UUID().uuidString)
        try await s.run("dossier.consult", "a-3", .specialist, at, [
            "dossier": d, "consultation": consultation, "toAgency": "S",
            "question": "Xác nhận quyền sử dụng đất của bà Trần Thị Bình", "dueAt": "2020-04-06T17:00:00+07:00"])
        let unknown = try await s.refusal("dossier.recordConsultationAnswer", "a-3", .specialist, at, [
            "dossier": d, "consultation": .string(UUID().uuidString), "answerRef": "12/CV-S"])
        #expect(unknown?.code == .invalidState)
        try await s.run("dossier.recordConsultationAnswer", "a-3", .specialist, "2020-04-03T09:00:00+07:00", [
            "dossier": d, "consultation": consultation, "answerRef": "12/CV-S"])

        let reused = try await s.refusal("dossier.consult", "a-3", .specialist, "2020-04-03T10:00:00+07:00", [
            "dossier": d, "consultation": consultation, "toAgency": "S", "question": "?", "dueAt": "2020-04-08T17:00:00+07:00"])
        #expect(reused?.code == .invalidState, "a consultation id is never reused, answered or not")
        let events = try s.store.readStream(DossierHandler.stream(id), payloads: .all)
        let submitted = try #require(events.first)
        let subject = try #require(submitted.record.metadata["subject"])
        for type in ["ProcessingNoteAdded.v1", "InterAgencyConsultationSent.v1"] {
            let e = try #require(events.first { $0.record.eventType == type })
            #expect(e.record.metadata["subject"] == subject, "\(type) is under the applicant's subject")
            #expect(e.personal != nil && !String(decoding: e.facts ?? [], as: UTF8.self).contains("Bình"))
        }
        let note = try #require(events.first { $0.record.eventType == "ProcessingNoteAdded.v1" })
        #expect(try DossierEvent(type: note.record.eventType, facts: note.facts ?? [], personal: note.personal)
            == .noteAdded(by: "a-3", note: "Gọi bà Bình xác minh địa chỉ", at: Instant.parse(at)!))
    }

    @Test("a postal delivery is confirmed once, for a postal return; the applicant rates the service once")
    func deliveryAndFeedback() throws {
        var resolved = Dossier()
        resolved.status = .resolved
        let clerk = DossierTests.clerk
        let applicant = Actor(staffID: "portal", role: .applicant)
        // Each step has its actor: the result goes back through the desk, a supplement is asked by the assignee.
        let specialist = Actor(staffID: "staff-4", role: .specialist)
        let bySpecialist = #expect(throws: LedgerError.self) {
            try Dossier.decide(resolved, .returnResult(method: .direct, at: 5), by: specialist)
        }
        #expect(bySpecialist?.code == .notPermitted)
        var processing = Dossier()
        processing.status = .inProcess
        processing.assignee = "staff-3"
        let notAssignee = #expect(throws: LedgerError.self) {
            try Dossier.decide(processing, .requestSupplement(items: ["GT01"], headOverride: false, at: 1), by: specialist)
        }
        #expect(notAssignee?.code == .notPermitted)
        let counter = Dossier.evolve(resolved, .resultReturned(method: .direct, at: 5))
        #expect(throws: LedgerError.self) { try Dossier.decide(counter, .confirmDelivery(at: 6), by: clerk) }
        let posted = Dossier.evolve(resolved, .resultReturned(method: .postal, trackingNumber: "EB123456789VN", at: 5))
        #expect(throws: LedgerError.self) { try Dossier.decide(resolved, .confirmDelivery(at: 6), by: clerk) }
        let delivered = try Dossier.decide(posted, .confirmDelivery(at: 6), by: clerk)
        #expect(delivered == [.postalDelivered(at: 6)])
        let after = Dossier.evolve(posted, delivered[0])
        #expect(throws: LedgerError.self) { try Dossier.decide(after, .confirmDelivery(at: 7), by: clerk) }

        let bad = #expect(throws: LedgerError.self) {
            try Dossier.decide(after, .recordFeedback(score: 6, criteria: ["timeliness"], comment: nil, at: 8), by: applicant)
        }
        #expect(bad?.code == .invalidCommand)
        #expect(throws: LedgerError.self) {
            try Dossier.decide(after, .recordFeedback(score: 5, criteria: [], comment: nil, at: 8), by: clerk)
        }
        #expect(throws: LedgerError.self) {
            try Dossier.decide(resolved, .recordFeedback(score: 5, criteria: [], comment: nil, at: 8), by: applicant)
        }
        let rated = try Dossier.decide(after, .recordFeedback(score: 4, criteria: ["timeliness", "courtesy"],
                                                               comment: "Nhanh", at: 8), by: applicant)
        #expect(throws: LedgerError.self) {
            try Dossier.decide(Dossier.evolve(after, rated[0]), .recordFeedback(score: 5, criteria: [], comment: nil, at: 9),
                               by: applicant)
        }
        try DossierTests.expectRoundTrip(delivered + rated)
        // A result handed to a representative names them, in the personal part.
        let handed = try Dossier.decide(resolved, .returnResult(method: .direct, at: 5, recipient: "Lê Văn Bảy (ủy quyền)"),
                                        by: clerk)
        #expect(handed[0].encoded.personal != nil)
        try DossierTests.expectRoundTrip(handed)
    }

    @Test("a dossier is received only with the procedure's required components; a fee request follows the schedule")
    func componentsAndFees() async throws {
        let s = try await Scenario.make("components")
        defer { s.remove() }
        try await s.run("procedure.publish", "hr", .system, "2020-03-31T09:00:00+07:00", [
            "code": "P2", "name": "Cấp giấy phép", "field": "XD", "onlineLevel": 4, "durationUnit": "workingDays",
            "duration": 5, "channels": .array(["online"]), "requiredComponents": .array(["TK01", "GT01"]),
            "fees": .array([.object(["code": "LEPHI", "amount": 50_000])]), "legalBasis": "QĐ 1/2020/QĐ-UBND"])
        let id = UUID()
        let d = JSONValue.string(id.uuidString)
        func attachment(_ code: String, sha: String = String(repeating: "ab", count: 32)) -> JSONValue {
            .object(["component": .string(code), "fileRef": .string("files/\(code).pdf"), "sha256": .string(sha)])
        }
        var submit: [String: JSONValue] = [
            "dossier": d, "procedure": "P2", "agency": "A", "channel": "online", "applicantName": "Lê Thị Hoa",
            "applicantId": "079190000003", "applicantPhone": "0901000003", "returnMethod": "postal",
            "attachments": .array([attachment("TK01", sha: "not-a-digest")])]
        let badDigest = try await s.refusal("dossier.submit", "portal", .applicant, "2020-04-01T09:00:00+07:00", submit)
        #expect(badDigest?.code == .invalidCommand)
        submit["attachments"] = .array([attachment("TK01")])
        try await s.run("dossier.submit", "portal", .applicant, "2020-04-01T09:00:00+07:00", submit)
        let abroad = try await s.refusal("dossier.requestIntakeSupplement", "s-1", .oneStopOfficer,
                                         "2020-04-01T10:00:00+07:00", ["dossier": d, "items": .array(["GT01"])])
        #expect(abroad?.code == .notPermitted && abroad?.message.contains("not on the staff of A") == true)
        let notDesk = try await s.refusal("dossier.receive", "a-2", .oneStopOfficer, "2020-04-01T10:00:00+07:00",
                                          ["dossier": d])
        #expect(notDesk?.code == .notPermitted && notDesk?.message.contains("one-stop desk of A") == true)
        let incomplete = try await s.refusal("dossier.receive", "a-7", .oneStopOfficer, "2020-04-01T10:00:00+07:00",
                                             ["dossier": d], unit: "A.MC")
        #expect(incomplete?.code == .invalidState && incomplete?.message.contains("lacks required components GT01") == true)
        let other = try await s.refusal("dossier.requestIntakeSupplement", "a-7", .oneStopOfficer,
                                        "2020-04-01T10:05:00+07:00", ["dossier": d, "items": .array(["TK01"])], unit: "A.MC")
        #expect(other?.code == .invalidCommand, "TK01 is attached already")
        try await s.run("dossier.requestIntakeSupplement", "a-7", .oneStopOfficer, "2020-04-01T10:05:00+07:00",
                        ["dossier": d, "items": .array(["GT01"])], unit: "A.MC")
        try await s.run("dossier.receive", "a-7", .oneStopOfficer, "2020-04-02T08:00:00+07:00",
                        ["dossier": d, "components": .array(["GT01"])], unit: "A.MC")
        try await s.run("dossier.transfer", "a-7", .oneStopOfficer, "2020-04-03T08:05:00+07:00",
                        ["dossier": d, "unit": "A.P1"], unit: "A.MC")
        try await s.run("dossier.assign", "a-2", .unitHead, "2020-04-03T08:10:00+07:00", ["dossier": d, "assignee": "a-3"])
        try await s.run("dossier.startProcessing", "a-3", .specialist, "2020-04-03T08:15:00+07:00", ["dossier": d])
        let wrongAmount = try await s.refusal("dossier.requestPayment", "a-3", .specialist, "2020-04-03T09:00:00+07:00", [
            "dossier": d, "items": .array([.object(["code": "LEPHI", "amount": 40_000])])])
        #expect(wrongAmount?.code == .invalidCommand && wrongAmount?.message.contains("LEPHI 50000") == true)
        let wrongSum = try await s.refusal("dossier.requestPayment", "a-3", .specialist, "2020-04-03T09:00:00+07:00",
                                           ["dossier": d, "amount": 70_000])
        #expect(wrongSum?.code == .invalidCommand)
        try await s.run("dossier.requestPayment", "a-3", .specialist, "2020-04-03T09:00:00+07:00", ["dossier": d])
        let events = try s.store.readStream(DossierHandler.stream(id), payloads: .all)
        let decoded = try events.map { try DossierEvent(type: $0.record.eventType, facts: $0.facts ?? [], personal: $0.personal) }
        guard case .submitted(let submitted)? = decoded.first, case .paymentRequested(let amount, let items, _)? = decoded.last
        else {
            Issue.record("unexpected events \(decoded)")
            return
        }
        #expect(submitted.attachments.map(\.component) == ["TK01"] && submitted.returnMethod == .postal
            && submitted.applicantPhone == "0901000003")
        #expect(amount == 50_000 && items == [ProcedureVersion.Fee(code: "LEPHI", amount: 50_000)])
        let received = decoded.first { if case .received = $0 { true } else { false } }
        if case .received(let r)? = received { #expect(r.components == ["GT01"]) } else { Issue.record("not received") }
    }

    @Test("events stored under the names before the catalogue followed domain.md read as today's")
    func formerNames() throws {
        let events: [DossierEvent] = [
            .feePaid(amount: 2_000, online: true, at: 1), .approvalReturned(approvalID: UUID(), rejected: false, at: 2),
            .resultReturned(method: .online, at: 3), .deadlineBreached(dueAt: 4, at: 5),
        ]
        for event in events {
            let former = try #require(DossierEvent.formerNames.first { $0.value == event.type }?.key)
            #expect(former.hasPrefix("Dossier") && former != event.type)
            #expect(try DossierEvent(type: former, facts: event.encoded.facts, personal: nil) == event)
        }
        #expect(DossierEvent.formerNames.count == 14 && Set(DossierEvent.formerNames.values).count == 14)
        var unit = Facts.Writer()
        unit.field("id", "A.P1")
        unit.field("agency", "A")
        unit.field("name", "Phòng 1")
        unit.field("desk", false)
        guard case .unitDefined(let u)? = try ReferenceEvent(type: "UnitDefined.v1", facts: unit.finish()) else {
            Issue.record("UnitDefined.v1 did not decode")
            return
        }
        #expect(u.id == "A.P1")
    }

    @Test("assignment: by the head of the dossier's unit; a MAIN handler with a step due date, co-handlers kept off the approval, on-leave flagged")
    func assignmentRoles() async throws {
        let s = try await Scenario.make("roles")
        defer { s.remove() }
        let id = UUID()
        let d = JSONValue.string(id.uuidString)
        // a-3 is on approved leave on Friday 3 April, the day of the assignment.
        let leave = JSONValue.string(UUID().uuidString)
        try await s.run("leave.request", "a-3", .specialist, "2020-04-01T08:00:00+07:00", [
            "leave": leave, "kind": "ANNUAL", "from": "2020-04-03", "to": "2020-04-03", "emailMessageId": "<l3@a>"])
        try await s.run("leave.approve", "a-2", .unitHead, "2020-04-01T08:10:00+07:00", ["leave": leave, "person": "a-3"])
        try await s.run("dossier.submit", "portal", .applicant, "2020-04-01T09:00:00+07:00", [
            "dossier": d, "procedure": "P1", "agency": "A", "channel": "online", "applicantName": "Phạm Văn An",
            "applicantId": "079190000004"])
        try await s.run("dossier.receive", "a-7", .oneStopOfficer, "2020-04-01T10:00:00+07:00", ["dossier": d], unit: "A.MC")
        try await s.run("dossier.transfer", "a-7", .oneStopOfficer, "2020-04-01T10:05:00+07:00",
                        ["dossier": d, "unit": "A.P1"], unit: "A.MC")
        let at = "2020-04-03T08:00:00+07:00"
        let byDesk = try await s.refusal("dossier.assign", "a-7", .unitHead, at, ["dossier": d, "assignee": "a-3"])
        #expect(byDesk?.code == .notPermitted && byDesk?.message.contains("head of the dossier's unit A.P1") == true)
        let badRole = try await s.refusal("dossier.assign", "a-2", .unitHead, at, ["dossier": d, "assignee": "a-3", "role": "BOSS"])
        #expect(badRole?.field == "body.role")
        let lateStep = try await s.refusal("dossier.assign", "a-2", .unitHead, at, [
            "dossier": d, "assignee": "a-3", "stepDueAt": "2020-04-20T10:00:00+07:00"])
        #expect(lateStep?.code == .invalidCommand, "the dossier is due 9 April")
        try await s.run("dossier.assign", "a-2", .unitHead, at, [
            "dossier": d, "assignee": "a-3", "stepDueAt": "2020-04-07T10:00:00+07:00", "note": "ưu tiên"])
        try await s.run("dossier.assign", "a-2", .unitHead, at, ["dossier": d, "assignee": "a-4", "role": "CO_HANDLER"])
        try await s.run("dossier.assign", "a-2", .unitHead, at, ["dossier": d, "assignee": "a-5", "role": "FOR_INFO"])
        let again = try await s.refusal("dossier.assign", "a-2", .unitHead, at,
                                        ["dossier": d, "assignee": "a-4", "role": "CO_HANDLER"])
        #expect(again?.code == .invalidCommand)
        let (state, _) = try DossierHandler(store: s.store).load(id)
        #expect(state.assignee == "a-3" && state.processors == ["a-3", "a-4"] && state.support == ["a-4": .coHandler, "a-5": .forInfo])
        let events = try s.store.readStream(DossierHandler.stream(id), payloads: .all)
        let main = try events.compactMap { try DossierEvent(type: $0.record.eventType, facts: $0.facts ?? [], personal: $0.personal) }
            .first { if case .assigned = $0 { true } else { false } }
        // The head's note is free text: in the personal part, not the facts.
        #expect(!events.contains { String(decoding: $0.facts ?? [], as: UTF8.self).contains("ưu tiên") })
        #expect(main == .assigned(assignee: "a-3", by: "a-2", at: Instant.parse(at)!,
                                  details: .init(stepDueAt: Instant.parse("2020-04-07T10:00:00+07:00")!, note: "ưu tiên",
                                                 assigneeOnLeave: true)))
    }

    @Test("first submissions of one citizen racing each other get one subject")
    func racingFirstSubmissions() async throws {
        let s = try await Scenario.make("race")
        defer { s.remove() }
        let ids = (0..<12).map { _ in UUID() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (i, id) in ids.enumerated() {
                group.addTask {
                    try await s.run("dossier.submit", "portal", .applicant, "2020-04-01T08:0\(i % 10):00+07:00", [
                        "dossier": .string(id.uuidString), "procedure": "P1", "agency": "A", "channel": "online",
                        "applicantName": "Đỗ Thị Hoa", "applicantId": i % 2 == 0 ? "079190000042" : " 079190000042"])
                }
            }
            try await group.waitForAll()
        }
        let subjects = try ids.map { id in
            try s.store.readStream(DossierHandler.stream(id), payloads: .none).first?.record.metadata["subject"]
        }
        #expect(subjects.allSatisfy { $0 != nil })
        #expect(Set(subjects).count == 1, "\(subjects)")
    }

    @Test("racing submissions of two citizens giving one new subject: it goes to one of them, the other's are refused")
    func racingGivenSubject() async throws {
        let s = try await Scenario.make("race-subject")
        defer { s.remove() }
        let subject = UUID().uuidString.lowercased()
        let outcomes = try await withThrowingTaskGroup(of: (String, LedgerError?).self) { group in
            for i in 0..<8 {
                let citizen = i % 2 == 0 ? "079190000051" : "079190000052"
                group.addTask {
                    let refusal = try await s.refusal("dossier.submit", "portal", .applicant, "2020-04-01T08:0\(i):00+07:00", [
                        "dossier": .string(UUID().uuidString), "procedure": "P1", "agency": "A", "channel": "online",
                        "applicantName": "Phan Văn Hùng", "applicantId": .string(citizen), "subject": .string(subject)])
                    return (citizen, refusal)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let accepted = Set(outcomes.filter { $0.1 == nil }.map(\.0))
        let refused = outcomes.filter { $0.1 != nil }
        #expect(accepted.count == 1, "the subject belongs to one citizen: \(outcomes.map { ($0.0, $0.1?.message ?? "ok") })")
        #expect(refused.count == 4 && refused.allSatisfy { !accepted.contains($0.0) && $0.1?.field == "body.subject" })
    }

    @Test("one citizen keeps one subject across dossiers until erased; a malformed subject is refused")
    func oneSubjectPerCitizen() async throws {
        let s = try await Scenario.make("citizens")
        defer { s.remove() }
        func submit(_ idNumber: String, at: String, subject: String? = nil) async throws -> UUID? {
            let id = UUID()
            var body: [String: JSONValue] = [
                "dossier": .string(id.uuidString), "procedure": "P1", "agency": "A", "channel": "online",
                "applicantName": "Võ Thị Lan", "applicantId": .string(idNumber)]
            if let subject { body["subject"] = .string(subject) }
            try await s.run("dossier.submit", "portal", .applicant, at, body)
            let first = try #require(try s.store.readStream(DossierHandler.stream(id), payloads: .none).first)
            return first.record.metadata["subject"].flatMap(UUID.init(uuidString:))
        }
        let malformed = try await s.refusal("dossier.submit", "portal", .applicant, "2020-04-01T08:00:00+07:00", [
            "dossier": .string(UUID().uuidString), "procedure": "P1", "agency": "A", "channel": "online",
            "applicantName": "Võ Thị Lan", "applicantId": "079190000005", "subject": "not-a-uuid"])
        #expect(malformed?.field == "body.subject")
        let first = try #require(try await submit("079190000005", at: "2020-04-01T08:00:00+07:00"))
        #expect(try await submit("079190000005", at: "2020-04-01T09:00:00+07:00") == first, "the same citizen")
        #expect(try await submit(" 079190000005 ", at: "2020-04-01T09:30:00+07:00") == first, "written with spaces")
        #expect(try await submit("079190000006", at: "2020-04-01T10:00:00+07:00") != first, "another citizen")
        // A service started afresh finds the citizen again in the log.
        let fresh = try LedgerService(store: s.store, durability: .relaxed)
        let id = UUID()
        _ = try await fresh.execute(CommandEnvelope(commandID: UUID(), type: "dossier.submit",
                                                    actor: Actor(staffID: "portal", role: .applicant),
                                                    occurredAt: Instant.parse("2020-04-01T10:30:00+07:00")!, body: [
            "dossier": .string(id.uuidString), "procedure": "P1", "agency": "A", "channel": "online",
            "applicantName": "Võ Thị Lan", "applicantId": "079190000005"]), principal: "test", trustedTime: true)
        let again = try #require(try s.store.readStream(DossierHandler.stream(id), payloads: .none).first)
        #expect(again.record.metadata["subject"] == first.uuidString.lowercased())
        // Erased, the citizen met again is a new subject, unlinked from the erased records.
        try await s.store.eraseSubject(first, reason: "yêu cầu xóa dữ liệu")
        let after = try #require(try await submit("079190000005", at: "2020-04-01T11:00:00+07:00"))
        #expect(after != first)
        let revived = try await s.refusal("dossier.submit", "portal", .applicant, "2020-04-01T11:30:00+07:00", [
            "dossier": .string(UUID().uuidString), "procedure": "P1", "agency": "A", "channel": "online",
            "applicantName": "Võ Thị Lan", "applicantId": "079190000007", "subject": .string(first.uuidString)])
        #expect(revived?.field == "body.subject" && revived?.message.contains("erased") == true)
        let other = try await s.refusal("dossier.submit", "portal", .applicant, "2020-04-01T11:30:00+07:00", [
            "dossier": .string(UUID().uuidString), "procedure": "P1", "agency": "A", "channel": "online",
            "applicantName": "Võ Thị Lan", "applicantId": "079190000005", "subject": .string(UUID().uuidString)])
        #expect(other?.field == "body.subject", "not the subject this citizen has")
        // A service started after the erasure never hands the erased subject out.
        let later = try LedgerService(store: s.store, durability: .relaxed)
        let next = UUID()
        _ = try await later.execute(CommandEnvelope(commandID: UUID(), type: "dossier.submit",
                                                    actor: Actor(staffID: "portal", role: .applicant),
                                                    occurredAt: Instant.parse("2020-04-01T12:00:00+07:00")!, body: [
            "dossier": .string(next.uuidString), "procedure": "P1", "agency": "A", "channel": "online",
            "applicantName": "Võ Thị Lan", "applicantId": "079190000005"]), principal: "test", trustedTime: true)
        let fromLater = try #require(try s.store.readStream(DossierHandler.stream(next), payloads: .none).first)
        #expect(fromLater.record.metadata["subject"] == after.uuidString.lowercased())
        // Another applicant's subject is refused; a retried submission is answered, whatever happened since.
        let theirs = try await s.refusal("dossier.submit", "portal", .applicant, "2020-04-01T12:10:00+07:00", [
            "dossier": .string(UUID().uuidString), "procedure": "P1", "agency": "A", "channel": "online",
            "applicantName": "Ngô Văn Hai", "applicantId": "079190000009", "subject": .string(after.uuidString)])
        #expect(theirs?.field == "body.subject" && theirs?.message.contains("another applicant") == true)
        let given = UUID(), retried = UUID(), command = UUID()
        let body: [String: JSONValue] = [
            "dossier": .string(retried.uuidString), "procedure": "P1", "agency": "A", "channel": "online",
            "applicantName": "Ngô Văn Hai", "applicantId": "079190000009", "subject": .string(given.uuidString)]
        let original = try await s.run("dossier.submit", "portal", .applicant, "2020-04-01T12:20:00+07:00", body, id: command)
        try await s.store.eraseSubject(given, reason: "yêu cầu xóa dữ liệu")
        let retry = try await s.run("dossier.submit", "portal", .applicant, "2020-04-01T12:20:00+07:00", body, id: command)
        #expect(retry?.positions == original?.positions)
    }

    @Test("step details: a refusal's code, a transfer only to a unit of the field, a supplement's reason and contact, a recipient")
    func stepDetails() async throws {
        let s = try await Scenario.make("details")
        defer { s.remove() }
        try await s.run("unit.define", "hr", .system, "2020-03-31T08:00:00+07:00", [
            "id": "A.P2", "agency": "A", "name": "Phòng Xây dựng", "fields": .array(["XD"])])
        let refused = UUID(), kept = UUID()
        for (id, minute) in [(refused, "00"), (kept, "05")] {
            try await s.run("dossier.submit", "portal", .applicant, "2020-04-01T09:\(minute):00+07:00", [
                "dossier": .string(id.uuidString), "procedure": "P1", "agency": "A", "channel": "online",
                "applicantName": "Bùi Văn Tâm", "applicantId": "079190000008"])
        }
        let badCode = try await s.refusal("dossier.refuseIntake", "a-7", .oneStopOfficer, "2020-04-01T09:30:00+07:00", [
            "dossier": .string(refused.uuidString), "reason": "không thuộc thẩm quyền", "reasonCode": "NOPE"], unit: "A.MC")
        #expect(badCode?.field == "body.reasonCode" && badCode?.message.contains("NOT_IN_SCOPE") == true)
        try await s.run("dossier.refuseIntake", "a-7", .oneStopOfficer, "2020-04-01T09:30:00+07:00", [
            "dossier": .string(refused.uuidString), "reason": "không thuộc thẩm quyền", "reasonCode": "NOT_IN_SCOPE",
            "legalBasis": "Điều 19 NĐ 61/2018"], unit: "A.MC")
        let d = JSONValue.string(kept.uuidString)
        try await s.run("dossier.receive", "a-7", .oneStopOfficer, "2020-04-01T10:00:00+07:00", ["dossier": d], unit: "A.MC")
        let wrongField = try await s.refusal("dossier.transfer", "a-7", .oneStopOfficer, "2020-04-01T10:05:00+07:00",
                                             ["dossier": d, "unit": "A.P2"], unit: "A.MC")
        #expect(wrongField?.code == .invalidCommand && wrongField?.message.contains("does not handle field HT") == true)
        let handedLater = try await s.refusal("dossier.transfer", "a-7", .oneStopOfficer, "2020-04-01T10:05:00+07:00",
                                              ["dossier": d, "unit": "A.P1", "handedOverAt": "2020-04-01T10:06:00+07:00"],
                                              unit: "A.MC")
        #expect(handedLater?.field == "body.handedOverAt" && handedLater?.message.contains("after the step") == true)
        let handedEarly = try await s.refusal("dossier.transfer", "a-7", .oneStopOfficer, "2020-04-01T10:05:00+07:00",
                                              ["dossier": d, "unit": "A.P1", "handedOverAt": "2020-04-01T09:59:00+07:00"],
                                              unit: "A.MC")
        #expect(handedEarly?.field == "body.handedOverAt" && handedEarly?.message.contains("before the dossier's last step") == true)
        try await s.run("dossier.transfer", "a-7", .oneStopOfficer, "2020-04-01T10:05:00+07:00",
                        ["dossier": d, "unit": "A.P1", "handedOverAt": "2020-04-01T10:02:00+07:00"], unit: "A.MC")
        try await s.run("dossier.assign", "a-2", .unitHead, "2020-04-01T10:10:00+07:00", ["dossier": d, "assignee": "a-3"])
        try await s.run("dossier.startProcessing", "a-3", .specialist, "2020-04-01T10:15:00+07:00", ["dossier": d])
        let badVia = try await s.refusal("dossier.requestSupplement", "a-3", .specialist, "2020-04-01T11:00:00+07:00", [
            "dossier": d, "items": .array(["Bản vẽ"]), "contactVia": "PIGEON"])
        #expect(badVia?.field == "body.contactVia")
        try await s.run("dossier.requestSupplement", "a-3", .specialist, "2020-04-01T11:00:00+07:00", [
            "dossier": d, "items": .array(["Bản vẽ"]), "reason": "bản vẽ của ông Tâm thiếu chữ ký", "contactVia": "ZALO"])
        try await s.run("dossier.receiveSupplement", "a-7", .oneStopOfficer, "2020-04-03T08:00:00+07:00",
                        ["dossier": d, "receivedVia": "postal"], unit: "A.MC")
        let events = try s.store.readStream(DossierHandler.stream(kept), payloads: .all)
        let decoded = try events.map { try DossierEvent(type: $0.record.eventType, facts: $0.facts ?? [], personal: $0.personal) }
        #expect(decoded.contains(.transferred(toUnit: "A.P1", at: Instant.parse("2020-04-01T10:05:00+07:00")!, fromUnit: "A.MC",
                                              handedOverAt: Instant.parse("2020-04-01T10:02:00+07:00")!,
                                              controlSheetEntry: 2)), "the receipt is row 1 of the control sheet")
        let request = try #require(events.first { $0.record.eventType == "SupplementRequested.v1" })
        #expect(request.personal != nil && !String(decoding: request.facts ?? [], as: UTF8.self).contains("ông Tâm"),
                "the reason is a personal part")
        #expect(decoded.contains { if case .supplementRequested(_, _, _, _, "bản vẽ của ông Tâm thiếu chữ ký", .zalo) = $0 { true } else { false } })
        #expect(decoded.contains { if case .supplementReceived(_, _, _, .postal) = $0 { true } else { false } })
        let refusal = try #require(try s.store.readStream(DossierHandler.stream(refused), payloads: .all).last)
        #expect(!String(decoding: refusal.facts ?? [], as: UTF8.self).contains("thẩm quyền"), "the reason is personal")
        #expect(try DossierEvent(type: refusal.record.eventType, facts: refusal.facts ?? [], personal: nil)
            == .intakeRefused(reason: "", at: Instant.parse("2020-04-01T09:30:00+07:00")!, code: .notInScope,
                              legalBasis: "Điều 19 NĐ 61/2018",
                              slipRef: "03/" + refused.uuidString.lowercased().filter { $0 != "-" }.prefix(12)),
                "erased (no personal part), the refusal keeps its code, basis and slip")
        #expect(try DossierEvent(type: refusal.record.eventType, facts: refusal.facts ?? [], personal: refusal.personal)
            == .intakeRefused(reason: "không thuộc thẩm quyền", at: Instant.parse("2020-04-01T09:30:00+07:00")!,
                              code: .notInScope, legalBasis: "Điều 19 NĐ 61/2018",
                              slipRef: "03/" + refused.uuidString.lowercased().filter { $0 != "-" }.prefix(12)))
    }

    @Test("slips are numbered: Mẫu 01 by the receipt code, Mẫu 02 by the dossier and round, or as the desk numbers them")
    func slipNumbers() async throws {
        let s = try await Scenario.make("slips")
        defer { s.remove() }
        let id = UUID()
        let d = JSONValue.string(id.uuidString)
        try await s.run("dossier.submit", "portal", .applicant, "2020-04-01T09:00:00+07:00", [
            "dossier": d, "procedure": "P1", "agency": "A", "channel": "online", "applicantName": "Trần Thị Bình",
            "applicantId": "079190000001"])
        let bad = try await s.refusal("dossier.requestIntakeSupplement", "a-7", .oneStopOfficer, "2020-04-01T09:10:00+07:00",
                                      ["dossier": d, "items": .array(["GT01"]), "slipRef": "02/\n"], unit: "A.MC")
        #expect(bad?.field == "body.slipRef")
        try await s.run("dossier.requestIntakeSupplement", "a-7", .oneStopOfficer, "2020-04-01T09:10:00+07:00",
                        ["dossier": d, "items": .array(["GT01"])], unit: "A.MC")
        try await s.run("dossier.requestIntakeSupplement", "a-7", .oneStopOfficer, "2020-04-01T09:20:00+07:00",
                        ["dossier": d, "items": .array(["GT01"]), "slipRef": "MC-2020/117"], unit: "A.MC")
        try await s.run("dossier.receive", "a-7", .oneStopOfficer, "2020-04-01T10:00:00+07:00", ["dossier": d], unit: "A.MC")
        let slips = try s.store.readStream(DossierHandler.stream(id), payloads: .facts).compactMap { e -> String? in
            switch try DossierEvent(type: e.record.eventType, facts: e.facts ?? [], personal: nil) {
            case .intakeSupplementRequested(_, _, let slip): slip
            case .received(let r): r.slipRef
            default: nil
            }
        }
        let short = String(id.uuidString.lowercased().filter { $0 != "-" }.prefix(12))
        let receipt = try #require(try DossierHandler(store: s.store).load(id).state.receiptCode)
        #expect(slips == ["02/\(short)-1", "MC-2020/117", "01/\(receipt)"])

        // The desk's own numbers are the agency's: a second slip with the same number is refused, naming the dossier.
        let other = UUID()
        try await s.run("dossier.submit", "portal", .applicant, "2020-04-01T10:30:00+07:00", [
            "dossier": .string(other.uuidString), "procedure": "P1", "agency": "A", "channel": "online",
            "applicantName": "Lê Văn Cường", "applicantId": "079190000009"])
        let head = s.store.head
        let reused = try await s.refusal("dossier.requestIntakeSupplement", "a-7", .oneStopOfficer,
                                         "2020-04-01T10:40:00+07:00", ["dossier": .string(other.uuidString),
                                                                       "items": .array(["GT01"]), "slipRef": "mc-2020/117 "],
                                         unit: "A.MC")
        #expect(reused?.field == "body.slipRef" && reused?.message.contains("already used in A (dossier \(id.uuidString.lowercased()))") == true,
                "\(reused?.message ?? "accepted")")
        #expect(s.store.head == head, "refused, nothing written (the number in capitals without spaces is the same)")
        try await s.run("dossier.requestIntakeSupplement", "a-7", .oneStopOfficer, "2020-04-01T10:41:00+07:00",
                        ["dossier": .string(other.uuidString), "items": .array(["GT01"]), "slipRef": "MC-2020/118"],
                        unit: "A.MC")
    }
}
