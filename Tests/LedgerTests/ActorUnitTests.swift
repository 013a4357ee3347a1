import EventStore
import Foundation
import Ledger
import TestSupport
import Testing

/// The unit recorded with an event's actor comes from the org chart, not from the client.
@Suite("Actor's unit")
struct ActorUnitTests {
    @Test("the actor's unit is the staff assignment's that day; a different unit named by the client is refused")
    func unitFromAssignment() async throws {
        let s = try await Scenario.make("actor-unit")
        defer { s.remove() }
        let dossier = UUID()
        let d = JSONValue.string(dossier.uuidString)
        try await s.run("dossier.submit", "portal", .applicant, "2020-04-01T09:00:00+07:00", [
            "dossier": d, "procedure": "P1", "agency": "A", "channel": "online", "applicantName": "Trần Thị Bình",
            "applicantId": "079190000001"])
        // No unit in the envelope: the desk officer's own is recorded.
        try await s.run("dossier.receive", "a-7", .oneStopOfficer, "2020-04-01T10:00:00+07:00", ["dossier": d])
        let head = s.store.head
        // A unit that is not the officer's: refused, naming the field, nothing appended.
        let wrong = try await s.refusal("dossier.transfer", "a-7", .oneStopOfficer, "2020-04-01T10:05:00+07:00",
                                        ["dossier": d, "unit": "A.P1"], unit: "A.P1")
        #expect(wrong?.code == .badField && wrong?.field == "actor.unit" && wrong?.message.contains("A.MC") == true)
        #expect(s.store.head == head)
        let events = try s.store.readStream(DossierHandler.stream(dossier), payloads: .none)
        let received = try #require(events.first { $0.record.eventType == "DossierReceived.v1" })
        #expect(received.record.metadata["unit"] == "A.MC")
        // The portal is on no unit's staff: nothing is made up for it.
        #expect(events.first?.record.metadata["unit"] == nil)
    }
}

/// A dossier keeps the calendar it was received under.
@Suite("Pinned versions")
struct PinnedVersionTests {
    @Test("a supplement's pause moves the due instant on the calendar the dossier was received under, not a newer one")
    func calendarPinned() async throws {
        let s = try await Scenario.make("pinned")
        defer { s.remove() }
        let dossier = UUID()
        try await s.openDossier(dossier, submit: "2020-04-01T09:00:00", receive: "2020-04-01T10:00:00", assignee: "a-3")
        let before = try DossierHandler(store: s.store).load(dossier).state
        #expect(before.calendarVersion == 1 && before.dueAt == Instant.parse("2020-04-09T10:00:00+07:00"))
        // A second version of the calendar makes 10 April a holiday.
        try await s.run("calendar.publish", "hr", .system, "2020-04-02T08:00:00+07:00", [
            "id": "VN", "holidays": .array(["2020-01-01", "2020-04-02", "2020-04-10", "2020-04-30", "2020-05-01"]
                .map(JSONValue.string))])
        let d: [String: JSONValue] = ["dossier": .string(dossier.uuidString)]
        try await s.run("dossier.requestSupplement", "a-3", .specialist, "2020-04-03T10:00:00+07:00",
                        d.merging(["items": .array(["Tờ khai"])]) { a, _ in a })
        try await s.run("dossier.receiveSupplement", "a-7", .oneStopOfficer, "2020-04-06T10:00:00+07:00", d, unit: "A.MC")
        let after = try DossierHandler(store: s.store).load(dossier).state
        // Paused one working day (Fri 3 Apr 10:00 → Mon 6 Apr 10:00): due Fri 10 Apr 10:00 on version 1; version 2
        // would have skipped its new holiday to Mon 13 Apr.
        #expect(after.calendarVersion == 1)
        #expect(after.dueAt == Instant.parse("2020-04-10T10:00:00+07:00"), "\(Instant.format(after.dueAt ?? 0, utcOffset: 25_200))")
    }
}

/// Every command is decided on reference data no older than the log it is appended to.
@Suite("Reference data guard")
struct ReferenceGuardTests {
    @Test("reference commands count their changes; other commands expect the count they read; a stale count is refused")
    func referenceChangesGuarded() async throws {
        let s = try await Scenario.make("reference-guard")
        defer { s.remove() }
        let changes = try #require(try s.store.streamInfo(ReferenceData.changesStream)?.version)
        // The scenario's reference commands: 2 agencies, 4 units, 8 staff, a calendar, 2 policies, a procedure.
        #expect(changes == 18)
        let dossier = UUID()
        let submitted = try #require(try await s.run("dossier.submit", "portal", .applicant, "2020-04-01T09:00:00+07:00", [
            "dossier": .string(dossier.uuidString), "procedure": "P1", "agency": "A", "channel": "online",
            "applicantName": "Trần Thị Bình", "applicantId": "079190000001"]))
        #expect(submitted.streamVersions[ReferenceData.changesStream] == changes, "the submission guarded the count")
        let published = try #require(try await s.run("procedure.publish", "hr", .system, "2020-04-01T10:00:00+07:00", [
            "code": "P2", "name": "Thủ tục hai", "field": "HT", "onlineLevel": 3, "durationUnit": "workingDays",
            "duration": 3, "channels": .array(["online"])]))
        #expect(published.streamVersions[ReferenceData.changesStream] == changes + 1)
        // A decision made on the reference data before that change is refused by the store, naming the stream, and
        // not retried by the handler (the service decides again on fresh reference data).
        var stale = CommandContext(commandID: UUID(), actor: Actor(staffID: "a-3", role: .specialist), principal: "test",
                                   occurredAt: Instant.parse("2020-04-01T10:05:00+07:00")!)
        stale.referenceChanges = changes
        var decided = 0
        let error = await #expect(throws: StoreError.self) {
            try await CommandHandler(store: s.store).execute(stale) {
                decided += 1
                return [PlannedAppend(stream: "note-guard-test", readVersion: 0, events: [NewEvent(type: "Note.v1", facts: [1, 0])])]
            }
        }
        #expect(error?.code == .wrongExpectedVersion && error?.stream == ReferenceData.changesStream)
        #expect(decided == 1)
    }
}
