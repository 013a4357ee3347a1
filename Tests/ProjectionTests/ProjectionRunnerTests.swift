import EventStore
import Foundation
import Projections
import Testing

/// Counts events per type and per category: a small, order-independent read model.
struct TallyProjection: Projection {
    var name = "tally"
    var version: UInt32 = 1
    var databases = ["byType", "byCategory"]

    func fold(_ event: ProjectedEvent, _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases) throws {
        for (db, key) in [("byType", Array(event.record.eventTypeBytes)),
                          ("byCategory", Array(EventRecord.category(of: event.record.stream).utf8))] {
            let old = try txn.get(dbs[db], key: key).map { $0.reduce(UInt64(0)) { $0 << 8 | UInt64($1) } } ?? 0
            try txn.put(dbs[db], key: key, value: withUnsafeBytes(of: (old + (version == 1 ? 1 : 2)).bigEndian, Array.init))
        }
    }
}

/// Fails on every event whose type is `Poison.v1`: a projection meeting an event it cannot fold.
struct PoisonedProjection: Projection {
    var name = "poisoned"
    var version: UInt32 = 1
    var databases = ["seen"]

    struct Unfoldable: Error {}

    func fold(_ event: ProjectedEvent, _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases) throws {
        if event.record.eventType == "Poison.v1" { throw Unfoldable() }
        try txn.put(dbs["seen"], key: withUnsafeBytes(of: event.record.position.bigEndian, Array.init), value: [])
    }
}

@Suite("Projection engine")
struct ProjectionRunnerTests {
    static func temporary(_ label: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ledger-proj-\(label)-\(UUID().uuidString.prefix(8))").path
    }

    static func append(_ store: Store, _ range: Range<Int>) async throws {
        for i in range {
            try await store.append(to: ["dossier", "roster", "leave"][i % 3] + "-\(i % 7)",
                                   [EventData(type: ["A.v1", "B.v1"][i % 2], facts: Array("{\"i\":\(i)}".utf8))])
        }
    }

    @Test("an incremental run, a resumed run and a rebuild reach the same digest")
    func digests() async throws {
        let root = Self.temporary("digest")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try Store.create(at: root + "/log", origin: "o.example/log")
        defer { store.close() }
        var incremental: ProjectionRunner? = try ProjectionRunner(store: store, statePath: root + "/state-a",
                                                                 projections: [TallyProjection()], batchSize: 64)
        try incremental!.catchUp(until: 1_000)  // past the head: nothing folded, nothing skipped
        #expect(try incremental!.checkpoint(of: TallyProjection()) == 0)
        try await Self.append(store, 0..<500)
        try incremental!.catchUp(until: 250)
        #expect(try incremental!.checkpoint(of: TallyProjection()) == 250)
        incremental = nil  // closed, as after a stop
        let resumed = try ProjectionRunner(store: store, statePath: root + "/state-a", projections: [TallyProjection()],
                                           batchSize: 64)
        try resumed.catchUp()
        try await Self.append(store, 500..<700)
        try resumed.catchUp()
        let rebuilt = try ProjectionRunner(store: store, statePath: root + "/state-b", projections: [TallyProjection()],
                                           batchSize: 1_000)
        try rebuilt.catchUp()
        #expect(try resumed.checkpoint(of: TallyProjection()) == 700)
        #expect(try resumed.digest(of: TallyProjection()) == rebuilt.digest(of: TallyProjection()))
        let counts = try resumed.state(of: TallyProjection()).read { txn in
            try txn.get(resumed.databases(of: TallyProjection())["byCategory"], key: Array("dossier".utf8))
        }
        #expect(counts.map { $0.reduce(UInt64(0)) { $0 << 8 | UInt64($1) } } == 234)  // i % 3 == 0 for i < 700
    }

    @Test("a version bump rebuilds beside the old version, which serves until the new one has caught up; the old version is found in the state when the caller does not name it", arguments: [true, false])
    func blueGreen(named: Bool) async throws {
        let root = Self.temporary("bluegreen-\(named)")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try Store.create(at: root + "/log", origin: "o.example/log")
        defer { store.close() }
        try await Self.append(store, 0..<300)
        var v1: ProjectionRunner? = try ProjectionRunner(store: store, statePath: root + "/state",
                                                         projections: [TallyProjection()])
        try v1!.catchUp()
        #expect(try v1!.servingVersion(of: TallyProjection()) == 1)
        let oldDigest = try v1!.digest(of: TallyProjection())
        v1 = nil
        let next = TallyProjection(version: 2)
        let v2 = try ProjectionRunner(store: store, statePath: root + "/state", projections: [next],
                                      previousVersions: named ? ["tally": 1] : [:], batchSize: 100)
        #expect(try v2.servingVersion(of: next) == 1, "the old version serves while the new one rebuilds")
        #expect(try v2.digest(of: next, version: 1) == oldDigest)
        let attested = try v2.attestation(of: next)
        #expect(attested.version == 1 && attested.digest == oldDigest, "an attestation meanwhile is of the old version")
        try v2.catchUp()
        #expect(try v2.servingVersion(of: next) == 2)
        #expect(try v2.digest(of: next, version: 1) != oldDigest, "the old version's databases are emptied")
        let fresh = try ProjectionRunner(store: store, statePath: root + "/fresh", projections: [next])
        try fresh.catchUp()
        #expect(try v2.digest(of: next) == fresh.digest(of: next))
    }

    @Test("a version that was rebuilding and never served (an upgrade interrupted, then another) is cleared at open")
    func strayVersion() async throws {
        let root = Self.temporary("stray")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try Store.create(at: root + "/log", origin: "o.example/log")
        defer { store.close() }
        try await Self.append(store, 0..<200)
        do {
            let v1 = try ProjectionRunner(store: store, statePath: root + "/state", projections: [TallyProjection()])
            try v1.catchUp()
        }
        // Version 2 had folded part of the log when the daemon was replaced by one at version 3.
        do {
            let state = try StateStore(path: root + "/state/tally",
                                       databases: ["checkpoints", "tally.v2.byType", "tally.v2.byCategory"])
            try state.write { txn in
                try txn.put(state["tally.v2.byType"], key: Array("Applicant.v1".utf8), value: Array("Nguyễn".utf8))
                try ProjectionCheckpoint(name: "tally.v2", version: 2, position: 50).save(in: state["checkpoints"], txn)
            }
        }
        let v3 = try ProjectionRunner(store: store, statePath: root + "/state", projections: [TallyProjection(version: 3)])
        #expect(try v3.servingVersion(of: TallyProjection(version: 3)) == 1, "version 1 serves until 3 has caught up")
        let strays = try v3.state(of: TallyProjection()).read { txn in
            (try txn.count(v3.state(of: TallyProjection())["tally.v2.byType"]),
             try ProjectionCheckpoint.load("tally.v2", in: v3.state(of: TallyProjection())["checkpoints"], txn))
        }
        #expect(strays.0 == 0 && strays.1 == nil, "version 2's state and checkpoint are gone")
        try v3.catchUp()
        #expect(try v3.servingVersion(of: TallyProjection(version: 3)) == 3)
    }

    @Test("lanes: projections folded on parallel threads reach the digests of one thread, each in its own environment")
    func lanes() async throws {
        let root = Self.temporary("lanes")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try Store.create(at: root + "/log", origin: "o.example/log")
        defer { store.close() }
        try await Self.append(store, 0..<900)
        let projections: [any Projection] = [TallyProjection(), TallyProjection(name: "tally2", version: 2),
                                             TallyProjection(name: "tally3")]
        let serial = try ProjectionRunner(store: store, statePath: root + "/serial", projections: projections,
                                          batchSize: 100, lanes: 1)
        let parallel = try ProjectionRunner(store: store, statePath: root + "/parallel", projections: projections,
                                            batchSize: 64, lanes: 3)
        var reported = [(UInt64, UInt64)]()
        #expect(try serial.catchUp() == 900)
        let reached = try parallel.catchUp { done, total in reported.append((done, total)) }
        #expect(reached == 900 && reported.allSatisfy { $0.1 == 900 })
        #expect(reported.last?.0 == 900 && reported.map(\.0) == reported.map(\.0).sorted(),
                "progress is the slowest lane's, never going back")
        for p in projections {
            #expect(try parallel.checkpoint(of: p) == 900)
            #expect(try parallel.digest(of: p) == serial.digest(of: p))
            #expect(FileManager.default.fileExists(atPath: root + "/parallel/\(p.name)/data.mdb"))
        }
        #expect(try parallel.digest(of: projections[0]) != parallel.digest(of: projections[1]), "the states differ")
    }

    @Test("an event a projection cannot fold stops that projection alone, at its checkpoint, until it is rebuilt")
    func stopsAlone() async throws {
        let root = Self.temporary("poison")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try Store.create(at: root + "/log", origin: "o.example/log")
        defer { store.close() }
        try await Self.append(store, 0..<250)
        try await store.append(to: "dossier-x", [EventData(type: "Poison.v1", facts: [1])])  // position 250
        try await Self.append(store, 251..<400)
        let tally = TallyProjection(), poisoned = PoisonedProjection()
        for lanes in [1, 2] {
            let runner = try ProjectionRunner(store: store, statePath: root + "/state-\(lanes)",
                                              projections: [tally, poisoned], batchSize: 100, lanes: lanes)
            let head = store.head
            #expect(throws: ProjectionStopped.self) { try runner.catchUp() }
            #expect(try runner.checkpoint(of: tally) == head, "the other projection went on")
            #expect(try runner.checkpoint(of: poisoned) == 200, "the failed batch (200..<300) left nothing behind")
            let status = try runner.status(of: poisoned)
            #expect(status.lag == head - 200 && status.stopped?.contains("200..<300") == true)
            #expect(try runner.status(of: tally).stopped == nil && runner.status(of: tally).rate > 0)
            // Later catch-ups skip it without failing again; the others follow the log.
            try await Self.append(store, 400 + lanes * 10..<410 + lanes * 10)
            #expect(try runner.catchUp() == store.head)
            #expect(try runner.checkpoint(of: tally) == store.head && runner.checkpoint(of: poisoned) == 200)
            // A rebuild clears the stop and meets the same event again.
            try runner.reset(poisoned)
            #expect(try runner.status(of: poisoned).stopped == nil)
            #expect(throws: ProjectionStopped.self) { try runner.catchUp() }
        }
    }
}
