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
    }
}
