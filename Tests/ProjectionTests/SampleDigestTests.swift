import EventStore
import Foundation
import Ledger
import Projections
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The committed fixture sample through the domain projections: incremental = rebuild, blue/green, erasure, SIGKILL.
@Suite("Domain projections over the fixture sample", .serialized)
struct SampleDigestTests {
    static func sampleStore(_ root: String) async throws -> Store {
        var options = StoreOptions()
        options.mapSize = 1 << 30
        let store = try Store.create(at: root + "/log", origin: "sample.example/log", options: options)
        let tally = try await LedgerService(store: store, durability: .relaxed)
            .importCommands(ndjson: try Data(contentsOf: fixtureURL("sample/commands.ndjson")), principal: "import")
        #expect(tally.unexpected.isEmpty)
        try await store.sync()
        return store
    }

    static func digests(_ model: ReadModel) throws -> [String] {
        try ReadModel.projections.map { try model.runner.digest(of: $0) }
    }

    @Test("incremental catch-up in small steps = a rebuild; an erasure drops the name and keeps them equal")
    func incrementalEqualsRebuild() async throws {
        let root = temporaryPath("sample-digest")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try await Self.sampleStore(root)
        defer { store.close() }
        let incremental = try ReadModel(store: store, statePath: root + "/incremental", batchSize: 97)
        var at: UInt64 = 0
        while at < store.head {
            at = min(store.head, at + 1_234)
            try incremental.runner.catchUp(until: at)
        }
        let rebuilt = try ReadModel(store: store, statePath: root + "/rebuilt")
        try rebuilt.runner.catchUp()
        #expect(try Self.digests(incremental) == Self.digests(rebuilt))
        // Batches of one event: the batch folds (rows kept decoded for a batch) equal folding event by event.
        let single = try ReadModel(store: store, statePath: root + "/single", batchSize: 1)
        try single.runner.catchUp()
        #expect(try Self.digests(single) == Self.digests(rebuilt))

        // Erase one applicant: the incremental run folds the erasure; a rebuild from zero agrees.
        let row = try #require(try incremental.dossiers().first { !$0.applicantName.isEmpty && !$0.subject.isEmpty })
        try await store.eraseSubject(try #require(UUID(uuidString: row.subject)), reason: "request under Decree 13",
                                     actor: "dpo")
        try incremental.runner.catchUp()
        #expect(try incremental.dossier(row.id)?.applicantName == "")
        let afterErasure = try ReadModel(store: store, statePath: root + "/after-erasure")
        try afterErasure.runner.catchUp()
        #expect(try Self.digests(incremental) == Self.digests(afterErasure))
        #expect(try Self.digests(incremental) != Self.digests(rebuilt))
        // The erased applicant's dossier moves on after the erasure: a rebuild whose one batch holds the erasure and
        // the later event agrees with folding event by event.
        let later = DossierEvent.deadlineBreached(dueAt: row.dueAt ?? 0, at: (row.dueAt ?? 0) + 60)
        try await store.append(to: "dossier-\(row.id)", [EventData(type: later.type, facts: later.encoded.facts)])
        let oneBatch = try ReadModel(store: store, statePath: root + "/one-batch")
        let eventByEvent = try ReadModel(store: store, statePath: root + "/event-by-event", batchSize: 1)
        try oneBatch.runner.catchUp()
        try eventByEvent.runner.catchUp()
        #expect(try Self.digests(oneBatch) == Self.digests(eventByEvent))
        #expect(try oneBatch.dossier(row.id)?.breachRecorded == true && oneBatch.dossier(row.id)?.applicantName == "")
    }

    @Test("a new projection version rebuilds beside the old one, which serves until the switch")
    func blueGreen() async throws {
        let root = temporaryPath("sample-bluegreen")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try await Self.sampleStore(root)
        defer { store.close() }
        let before = try {
            let v1 = try ProjectionRunner(store: store, statePath: root + "/state", projections: [DossierRegister()])
            try v1.catchUp()
            return try v1.digest(of: DossierRegister())
        }()
        let old = DossierRegister().version
        var next = DossierRegister()
        next.version = old + 1
        let v2 = try ProjectionRunner(store: store, statePath: root + "/state", projections: [next],
                                      previousVersions: ["dossiers": old], batchSize: 256)
        #expect(try v2.servingVersion(of: next) == old)
        var servedDuring = [String]()
        try v2.catchUp { done, total in
            if done < total, let v = try? v2.servingVersion(of: next), v == old {
                servedDuring.append((try? v2.digest(of: next, version: old)) ?? "")
            }
        }
        #expect(!servedDuring.isEmpty && servedDuring.allSatisfy { $0 == before }, "the old version serves meanwhile")
        #expect(try v2.servingVersion(of: next) == next.version)
        #expect(try v2.digest(of: next) == before, "the same code at a new version rebuilds the same state")
    }

    @Test("a catch-up SIGKILLed mid-way resumes to the rebuild's digests")
    func killDuringCatchUp() async throws {
        let root = temporaryPath("sample-kill")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try await Self.sampleStore(root)
        store.close()
        let killed = try await ProjectionCrashTests.run(["project", root + "/log", root + "/state", "domain"],
                                                        killAfter: 20)
        #expect(!killed.contains { $0.hasPrefix("done") }, "the first run must die mid-way")
        let resumed = try await ProjectionCrashTests.run(["project", root + "/log", root + "/state", "domain"],
                                                         killAfter: nil)
        let start = try #require(resumed.first.flatMap { UInt64($0.dropFirst("start ".count)) })
        #expect(start > 0)
        let fresh = try await ProjectionCrashTests.run(["project", root + "/log", root + "/fresh", "domain"],
                                                       killAfter: nil)
        #expect(resumed.last?.hasPrefix("done ") == true && resumed.last == fresh.last)
    }
}
