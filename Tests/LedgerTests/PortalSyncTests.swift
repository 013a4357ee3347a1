import EventStore
import Foundation
import Ledger
import TestSupport
import Testing

/// The national-portal outbox (domain.md §3.1): pushes requested from a dossier's steps, attempts recorded in order.
@Suite("Portal sync outbox")
struct PortalSyncTests {
    static let system = (staff: "portal-sync", role: Actor.Role.system)

    func outbox(_ s: Scenario, _ dossier: UUID) throws -> [PortalSync.Event] {
        try s.store.readStream(PortalSync.stream(dossier: dossier.uuidString)).compactMap {
            try PortalSync.Event(type: $0.record.eventType, facts: $0.facts ?? [])
        }
    }

    @Test("system.portalSync records one push per synced step from the receipt on, each with its kind and status")
    func requests() async throws {
        let s = try await Scenario.make("portal-requests")
        defer { s.remove() }
        let id = UUID()
        let d = JSONValue.string(id.uuidString)
        // Submitted but not received: the portal knows a dossier by its receipt code, so nothing is pushed yet.
        try await s.run("dossier.submit", "portal", .applicant, "2020-04-01T09:00:00+07:00", [
            "dossier": d, "procedure": "P1", "agency": "A", "channel": "online", "applicantName": "Trần Thị Bình",
            "applicantId": "079190000001"])
        #expect(try await s.run("system.portalSync", Self.system.staff, Self.system.role, "2020-04-01T09:05:00+07:00",
                                ["dossier": d]) == nil)
        let other = UUID()
        try await s.openDossier(other, submit: "2020-04-01T09:30:00", receive: "2020-04-01T10:00:00", assignee: "a-3")
        let byClerk = try await s.refusal("system.portalSync", "a-7", .clerk, "2020-04-01T11:00:00+07:00",
                                          ["dossier": .string(other.uuidString)])
        #expect(byClerk?.code == .notPermitted)

        let at = "2020-04-01T11:00:00+07:00"
        let commandID = UUID()
        let first = try #require(try await s.run("system.portalSync", Self.system.staff, Self.system.role, at,
                                                 ["dossier": .string(other.uuidString)], id: commandID))
        // Received, transferred, assigned, processing started: versions 2…5 of the dossier's stream.
        let steps = try s.store.readStream(DossierHandler.stream(other))
        let synced = steps.filter { PortalStatusMapping.syncedTypes.contains($0.record.eventType) }
        #expect(synced.map(\.record.streamVersion) == [2, 3, 4, 5])
        let code = try #require(try DossierHandler(store: s.store).load(other).state.receiptCode)
        let pushes = try outbox(s, other).compactMap { e -> PortalSync.Push? in
            if case .requested(let p, let agency, _) = e, agency == "A" { return p }
            return nil
        }
        #expect(pushes.map(\.dossierVersion) == [2, 3, 4, 5])
        #expect(pushes.map(\.kind) == [.dossier, .progress, .progress, .status])
        #expect(pushes.map(\.externalStatus) == [2, 2, 2, 4])
        #expect(pushes.map(\.step) == ["DossierReceived", "DossierTransferred", "DossierAssigned", "ProcessingStarted"])
        #expect(pushes.allSatisfy { $0.code == code && $0.mappingVersion == 1 })
        #expect(pushes.first?.idempotencyKey == "\(code)/2")
        #expect(pushes.first?.occurredAt == Instant.parse("2020-04-01T10:00:00+07:00"))

        // A retry is answered with the original positions; a new round finds nothing new, nor after a local note.
        let retried = try #require(try await s.run("system.portalSync", Self.system.staff, Self.system.role, at,
                                                   ["dossier": .string(other.uuidString)], id: commandID))
        #expect(retried.wasRetry && retried.positions == first.positions)
        try await s.run("dossier.addNote", "a-3", .specialist, "2020-04-01T11:10:00+07:00",
                        ["dossier": .string(other.uuidString), "note": "gọi lại"])
        #expect(try await s.run("system.portalSync", Self.system.staff, Self.system.role, "2020-04-01T11:20:00+07:00",
                                ["dossier": .string(other.uuidString)]) == nil)
        // A supplement request changes the portal status (5): one more push, of kind STATUS.
        try await s.run("dossier.requestSupplement", "a-3", .specialist, "2020-04-01T14:00:00+07:00",
                        ["dossier": .string(other.uuidString), "items": .array(["GT01"])])
        try await s.run("system.portalSync", Self.system.staff, Self.system.role, "2020-04-01T14:05:00+07:00",
                        ["dossier": .string(other.uuidString)])
        guard case .requested(let supplement, _, _)? = try outbox(s, other).last else {
            Issue.record("no push for the supplement request")
            return
        }
        #expect(supplement.kind == .status && supplement.externalStatus == 5 && supplement.dossierVersion == 7)
    }

    @Test("attempts are recorded in order: the next attempt only, a failure with its reason and retry, one acceptance")
    func outcomes() async throws {
        let s = try await Scenario.make("portal-outcomes")
        defer { s.remove() }
        let id = UUID()
        let d = JSONValue.string(id.uuidString)
        try await s.openDossier(id, submit: "2020-04-01T09:00:00", receive: "2020-04-01T10:00:00", assignee: "a-3")
        let sys = Self.system
        try await s.run("system.portalSync", sys.staff, sys.role, "2020-04-01T11:00:00+07:00", ["dossier": d])
        let at = "2020-04-01T11:01:00+07:00"
        func result(_ fields: [String: JSONValue]) async throws -> LedgerError? {
            try await s.refusal("system.portalSyncResult", sys.staff, sys.role, at,
                                fields.merging(["dossier": d]) { a, _ in a })
        }
        #expect(try await result(["dossierVersion": 2, "attempt": 2, "outcome": "succeeded"])?.code == .invalidState)
        #expect(try await result(["dossierVersion": 9, "attempt": 1, "outcome": "succeeded"])?.code == .notFound)
        #expect(try await result(["dossierVersion": 2, "attempt": 1, "outcome": "lost"])?.field == "body.outcome")
        let noReason = try await result(["dossierVersion": 2, "attempt": 1, "outcome": "failed", "error": "",
                                         "retryAt": "2020-04-01T11:02:00+07:00"])
        #expect(noReason?.field == "body.error")
        let past = try await result(["dossierVersion": 2, "attempt": 1, "outcome": "failed", "error": "503",
                                     "retryAt": "2020-04-01T11:00:00+07:00"])
        #expect(past?.field == "body.retryAt")
        let byClerk = try await s.refusal("system.portalSyncResult", "a-7", .clerk, at, [
            "dossier": d, "dossierVersion": 2, "attempt": 1, "outcome": "succeeded"])
        #expect(byClerk?.code == .notPermitted)
        // Refusals changed nothing: the outbox holds only the four requests.
        #expect(try outbox(s, id).count == 4)

        #expect(try await result(["dossierVersion": 2, "attempt": 1, "outcome": "failed",
                                  "error": "the portal answered 503", "retryAt": "2020-04-01T11:02:00+07:00"]) == nil)
        #expect(try await result(["dossierVersion": 2, "attempt": 1, "outcome": "succeeded"])?.code == .invalidState,
                "attempt 1 is recorded already")
        #expect(try await result(["dossierVersion": 2, "attempt": 2, "outcome": "succeeded",
                                  "reference": "DVC-0001"]) == nil)
        let again = try await result(["dossierVersion": 2, "attempt": 3, "outcome": "succeeded"])
        #expect(again?.code == .invalidState && again?.message.contains("already accepted") == true)
        var state = PortalSync()
        for e in try outbox(s, id) { state = PortalSync.evolve(state, e) }
        let push = try #require(state.pushes.first)
        #expect(push.attempts == 2 && push.succeededAt == Instant.parse(at))
        #expect(state.pushes.dropFirst().allSatisfy { $0.attempts == 0 && $0.succeededAt == nil })
    }
}
