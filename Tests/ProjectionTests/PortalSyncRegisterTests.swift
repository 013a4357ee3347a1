import EventStore
import Foundation
import Ledger
import Projections
import TestSupport
import Testing

/// The portal-sync register: what the sync worker sends and the reconciliation view (domain.md §4, view 10).
@Suite("Portal sync register")
struct PortalSyncRegisterTests {
    @Test("unrequested steps, pending and failing pushes, and the reconciliation counts follow the outbox")
    func reconciliation() async throws {
        let s = try await Scenario.make("portal-register")
        defer { s.remove() }
        let first = UUID(), second = UUID()
        try await s.openDossier(first, submit: "2020-04-01T09:00:00", receive: "2020-04-01T10:00:00", assignee: "a-3")
        try await s.openDossier(second, submit: "2020-04-01T09:30:00", receive: "2020-04-01T10:30:00", assignee: "a-3")
        // Submitted only: not the portal's yet.
        try await s.run("dossier.submit", "portal", .applicant, "2020-04-01T11:00:00+07:00", [
            "dossier": .string(UUID().uuidString), "procedure": "P1", "agency": "A", "channel": "online",
            "applicantName": "Lê Văn Tám", "applicantId": "079190000002"])
        let model = try ReadModel(store: s.store, statePath: s.root + "/state")
        try model.runner.catchUp()
        let ids = [first, second].map { $0.uuidString.lowercased() }.sorted()
        #expect(try model.portalSyncUnrequested() == ids)
        var before = try model.portalReconciliation(agency: "A")
        #expect(before.local == 2 && before.synced == 0 && before.behind == 2 && before.pendingPushes == 0)

        let sys = "portal-sync"
        try await s.run("system.portalSync", sys, .system, "2020-04-01T12:00:00+07:00", ["dossier": .string(first.uuidString)])
        try model.runner.catchUp()
        #expect(try model.portalSyncUnrequested() == [second.uuidString.lowercased()])
        let pending = try model.portalPushes()
        #expect(pending.map(\.push.dossierVersion) == [2, 3, 4, 5])
        #expect(pending.allSatisfy { $0.dossier == first.uuidString.lowercased() && $0.agency == "A" })

        // Version 2 accepted, version 3 failing.
        let d = JSONValue.string(first.uuidString)
        try await s.run("system.portalSyncResult", sys, .system, "2020-04-01T12:01:00+07:00",
                        ["dossier": d, "dossierVersion": 2, "attempt": 1, "outcome": "succeeded"])
        try await s.run("system.portalSyncResult", sys, .system, "2020-04-01T12:01:00+07:00", [
            "dossier": d, "dossierVersion": 3, "attempt": 1, "outcome": "failed", "error": "the portal answered 503",
            "retryAt": "2020-04-01T12:02:00+07:00"])
        try model.runner.catchUp()
        before = try model.portalReconciliation(agency: "A")
        #expect(before.acceptedPushes == 1 && before.pendingPushes == 3 && before.failedAttempts == 1)
        #expect(before.failing.map(\.push.dossierVersion) == [3])
        #expect(before.failing.first?.lastError == "the portal answered 503" && before.failing.first?.push.attempts == 1)
        #expect(before.failing.first?.push.nextAttemptAt == Instant.parse("2020-04-01T12:02:00+07:00"))

        // Everything accepted: the first dossier is synced; a new step puts it behind again.
        for (version, attempt) in [(3, 2), (4, 1), (5, 1)] {
            try await s.run("system.portalSyncResult", sys, .system, "2020-04-01T12:03:00+07:00", [
                "dossier": d, "dossierVersion": .number(Double(version)), "attempt": .number(Double(attempt)),
                "outcome": "succeeded"])
        }
        try model.runner.catchUp()
        let after = try model.portalReconciliation(agency: "A")
        #expect(after.local == 2 && after.synced == 1 && after.behind == 1 && after.pendingPushes == 0)
        #expect(after.acceptedPushes == 4 && after.failing.isEmpty && after.syncRate == 0.5)
        try await s.run("dossier.requestSupplement", "a-3", .specialist, "2020-04-01T14:00:00+07:00",
                        ["dossier": d, "items": .array(["GT01"])])
        try model.runner.catchUp()
        #expect(try model.portalReconciliation(agency: "A").synced == 0)
        #expect(try model.portalSyncUnrequested() == ids)
        #expect(try model.portalReconciliation(agency: "B").local == 0)

        // A rebuild from the log agrees with the incremental fold.
        let rebuilt = try ReadModel(store: s.store, statePath: s.root + "/state-rebuilt")
        try rebuilt.runner.catchUp()
        #expect(try rebuilt.runner.digest(of: PortalSyncRegister()) == model.runner.digest(of: PortalSyncRegister()))
    }
}
