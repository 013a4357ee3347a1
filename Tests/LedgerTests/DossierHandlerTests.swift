import EventStore
import Foundation
import Ledger
import Testing

@Suite("Dossier command handling on a real store")
struct DossierHandlerTests {
    static func withHandler(_ body: (DossierHandler, Store) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-handler-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = StoreOptions()
        options.mapSize = 1 << 30
        let store = try Store.create(at: path, origin: "ward.example/dossiers", options: options)
        defer { store.close() }
        try await body(DossierHandler(store: store), store)
    }

    static func submit(_ handler: DossierHandler, _ dossier: UUID, subject: UUID? = nil) async throws {
        try await handler.handle(DossierTests.submitLicense().0, dossier: dossier, by: DossierTests.applicant,
                                 commandID: UUID(), principal: "clerk01", subject: subject)
    }

    static func receive(at time: Int64) -> DossierCommand {
        .receive(receiptCode: "", procedure: DossierTests.license, calendar: DossierTests.calendar, calendarVersion: 1,
                 at: time)
    }

    @Test("the lifecycle through the store: folded state equals the decisions, receipt code allocated")
    func lifecycle() async throws {
        try await Self.withHandler { handler, store in
            let id = UUID()
            try await Self.submit(handler, id)
            try await handler.handle(Self.receive(at: DossierTests.at("2020-04-01", 10)), dossier: id,
                                     by: DossierTests.clerk, commandID: UUID(), principal: "clerk01")
            try await handler.handle(.assign(assignee: "staff-3", at: DossierTests.at("2020-04-01", 11)), dossier: id,
                                     by: DossierTests.head, commandID: UUID(), principal: "head01")
            let (state, version) = try handler.load(id)
            #expect(version == 3)
            #expect(state.status == .assigned && state.receiptCode == "SNV-200401-0001")
            #expect(state.dueAt == DossierTests.at("2020-04-09", 10))
            let refused = await #expect(throws: LedgerError.self) {
                try await handler.handle(.resolve(resultNumber: "1", approval: DossierTests.signed, at: 0), dossier: id, by: DossierTests.officer,
                                         commandID: UUID(), principal: "officer")
            }
            #expect(refused?.code == .invalidState)
            let events = try store.readStream(DossierHandler.stream(id))
            #expect(events.map(\.record.eventType) == ["DossierSubmitted.v1", "DossierReceived.v1", "DossierAssigned.v1"])
            #expect(events.allSatisfy { $0.record.metadata["command"] != nil && $0.record.metadata["principal"] != nil })
            #expect(events[0].record.metadata["subject"] != nil && events[0].personal != nil)
        }
    }

    @Test("a retried command returns its original positions and writes nothing")
    func retriedCommand() async throws {
        try await Self.withHandler { handler, store in
            let id = UUID()
            try await Self.submit(handler, id)
            let command = UUID()
            let first = try await handler.handle(Self.receive(at: DossierTests.at("2020-04-01", 10)), dossier: id,
                                                 by: DossierTests.clerk, commandID: command, principal: "clerk01")
            let head = store.head
            let again = try await handler.handle(Self.receive(at: DossierTests.at("2020-04-01", 10)), dossier: id,
                                                 by: DossierTests.clerk, commandID: command, principal: "clerk01")
            #expect(again.wasRetry && again.positions == first.positions)
            #expect(store.head == head)
        }
    }

    @Test("20 dossiers received at once get gap-free, distinct receipt codes")
    func racingReceipts() async throws {
        try await Self.withHandler { handler, _ in
            let ids = (0..<20).map { _ in UUID() }
            for id in ids { try await Self.submit(handler, id) }
            var handler = handler
            handler.maximumAttempts = 50
            let shared = handler
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in ids {
                    group.addTask {
                        try await shared.handle(Self.receive(at: DossierTests.at("2020-04-01", 10)), dossier: id,
                                                by: DossierTests.clerk, commandID: UUID(), principal: "clerk01")
                    }
                }
                try await group.waitForAll()
            }
            let codes = try ids.map { try #require(try shared.load($0).state.receiptCode) }
            #expect(Set(codes) == Set((1...20).map { String(format: "SNV-200401-%04d", $0) }))
        }
    }

    @Test("erasing the applicant leaves the dossier loadable, without the applicant")
    func erasure() async throws {
        try await Self.withHandler { handler, store in
            let id = UUID(), subject = UUID()
            try await Self.submit(handler, id, subject: subject)
            try await store.eraseSubject(subject, reason: "applicant's request")
            let (state, version) = try handler.load(id)
            #expect(version == 1 && state.status == .submitted)
            let event = try #require(try store.readStream(DossierHandler.stream(id)).first)
            #expect(event.personal == nil)
            #expect(try store.verify().erasedParts == 1)
        }
    }
}
