import EventStore
import Foundation
import Ledger
import TestSupport
import Testing

/// Personal data lives only in personal payload parts: never in facts, stream names, event types, actors or metadata.
@Suite("Personal data placement")
struct PersonalDataTests {
    @Test("a dossier's free text (notes, reasons) and the applicant's identity appear in no facts, names or metadata")
    func freeTextIsPersonal() async throws {
        let s = try await Scenario.make("personal")
        defer { s.remove() }
        let secrets = ["Trần Thị Bình", "079190000001", "Ông Tâm gọi lại", "bà Hoa nghỉ ốm", "Bà Bình chuyển nhà",
                       "Hồ sơ của bà Lan giả mạo"]
        // One dossier: a reassignment with a reason, a co-handler with a note, a withdrawal with a reason.
        let first = UUID()
        try await s.openDossier(first, submit: "2020-04-01T09:00:00", receive: "2020-04-01T10:00:00", assignee: "a-3")
        let d1 = JSONValue.string(first.uuidString)
        try await s.run("dossier.assign", "a-2", .unitHead, "2020-04-02T09:00:00+07:00",
                        ["dossier": d1, "assignee": "a-4", "reason": .string(secrets[3])])
        try await s.run("dossier.assign", "a-2", .unitHead, "2020-04-02T09:10:00+07:00",
                        ["dossier": d1, "assignee": "a-5", "role": "CO_HANDLER", "note": .string(secrets[2])])
        try await s.run("dossier.requestWithdrawal", "portal", .applicant, "2020-04-03T09:00:00+07:00",
                        ["dossier": d1, "reason": .string(secrets[4])])
        try await s.run("dossier.withdraw", "a-7", .oneStopOfficer, "2020-04-03T10:00:00+07:00", ["dossier": d1],
                        unit: "A.MC")
        // Another refused at intake, with a reason that speaks of the applicant.
        let second = UUID()
        let d2 = JSONValue.string(second.uuidString)
        try await s.run("dossier.submit", "portal", .applicant, "2020-04-01T09:00:00+07:00", [
            "dossier": d2, "procedure": "P1", "agency": "A", "channel": "online", "applicantName": "Ngô Thị Lan",
            "applicantId": "079190000002"])
        try await s.run("dossier.refuseIntake", "a-7", .oneStopOfficer, "2020-04-01T09:30:00+07:00",
                        ["dossier": d2, "reason": .string(secrets[5])], unit: "A.MC")
        let all = try s.store.read(limit: 10_000, payloads: .all)
        let dossierEvents = all.filter { $0.record.stream.hasPrefix("dossier-") }
        #expect(dossierEvents.count >= 10)
        for event in all {
            let facts = String(decoding: event.facts ?? [], as: UTF8.self)
            let record = event.record
            let named = [record.stream, record.eventType, record.actor] + record.metadata.entries.map { "\($0.key)=" + String(decoding: $0.value, as: UTF8.self) }
            for secret in secrets + ["Ngô Thị Lan", "079190000002"] {
                #expect(!facts.contains(secret), "\(record.eventType) at \(record.position) holds \(secret) in its facts")
                #expect(!named.contains { $0.contains(secret) }, "\(record.eventType) names \(secret)")
            }
        }
        // The texts are kept, in the personal parts, and read back.
        let personal = dossierEvents.compactMap { $0.personal.map { String(decoding: $0, as: UTF8.self) } }.joined()
        for secret in secrets { #expect(personal.contains(secret), "\(secret) is kept in a personal part") }
        let decoded = try dossierEvents.map { try DossierEvent(type: $0.record.eventType, facts: $0.facts ?? [], personal: $0.personal) }
        #expect(decoded.contains(.withdrawn(reason: secrets[4], at: Instant.parse("2020-04-03T10:00:00+07:00")!)))
        #expect(decoded.contains { if case .reassigned(_, "a-4", _, secrets[3], _) = $0 { true } else { false } })
    }
}
