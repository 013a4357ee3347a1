import EventStore
import Foundation
import Ledger
import Projections
import TestSupport
import Testing

@Suite("Work queue: graded dossiers")
struct ConfidentialQueueTests {
    @Test("a dossier the desk graded is flagged CONFIDENTIAL in the queue; an ungraded one is not")
    func flagged() async throws {
        let s = try await Scenario.make("confidential-queue")
        defer { s.remove() }
        let (graded, plain) = (UUID(), UUID())
        for (id, level) in [(graded, "SECRET"), (plain, nil)] {
            let d = JSONValue.string(id.uuidString)
            try await s.run("dossier.submit", "portal", .applicant, "2020-04-03T07:30:00+07:00", [
                "dossier": d, "procedure": "P1", "agency": "A", "channel": "online", "applicantName": "Lê Văn Cường",
                "applicantId": "079190000009"])
            var receive: [String: JSONValue] = ["dossier": d]
            if let level { receive["securityLevel"] = .string(level) }
            try await s.run("dossier.receive", "a-7", .oneStopOfficer, "2020-04-03T08:00:00+07:00", receive, unit: "A.MC")
            try await s.run("dossier.transfer", "a-7", .oneStopOfficer, "2020-04-03T08:05:00+07:00",
                            ["dossier": d, "unit": "A.P1"], unit: "A.MC")
        }
        let model = try ReadModel(store: s.store, statePath: s.root + "/state")
        try model.runner.catchUp()
        let items = try model.queue(QueueFilter(agency: "A", unit: "A.P1"), asOf: Instant.parse("2020-04-03T09:00:00+07:00")!)
            .items
        let byID = Dictionary(uniqueKeysWithValues: items.map { ($0.row.id, $0) })
        let secret = try #require(byID[graded.uuidString.lowercased()])
        #expect(secret.row.securityLevel == .secret && secret.flags.contains(.confidential))
        let open = try #require(byID[plain.uuidString.lowercased()])
        #expect(open.row.securityLevel == nil && !open.flags.contains(.confidential))
    }
}
