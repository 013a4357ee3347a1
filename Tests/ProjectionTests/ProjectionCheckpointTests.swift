import EventStore
import Foundation
import Projections
import Testing

@Suite("Projection checkpoints")
struct ProjectionCheckpointTests {
    struct Crash: Error {}

    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ledger-proj-\(UUID().uuidString.prefix(8))").path
    }

    @Test("a checkpoint is written in the same transaction as the state: both or neither")
    func atomicWithState() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let state = try StateStore(path: path, databases: ["checkpoints", "tally"], mapSize: 64 << 20)
        try state.write { txn in
            try txn.put(state["tally"], key: Array("unit-A".utf8), value: [3])
            try ProjectionCheckpoint(name: "tally", version: 1, position: 10).save(in: state["checkpoints"], txn)
        }
        #expect(throws: Crash.self) {
            try state.write { txn in
                try txn.put(state["tally"], key: Array("unit-A".utf8), value: [4])
                try ProjectionCheckpoint(name: "tally", version: 1, position: 11).save(in: state["checkpoints"], txn)
                throw Crash()
            }
        }
        let (checkpoint, tally, other) = try state.read { txn in
            (try ProjectionCheckpoint.load("tally", in: state["checkpoints"], txn),
             try txn.get(state["tally"], key: Array("unit-A".utf8)),
             try ProjectionCheckpoint.load("other", in: state["checkpoints"], txn))
        }
        #expect(checkpoint == ProjectionCheckpoint(name: "tally", version: 1, position: 10))
        #expect(tally == [3])
        #expect(other == nil)
    }

    @Test("a malformed checkpoint is reported, naming the projection")
    func malformed() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let state = try StateStore(path: path, databases: ["checkpoints"], mapSize: 64 << 20)
        try state.write { try $0.put(state["checkpoints"], key: Array("q".utf8), value: [1, 2, 3]) }
        let error = #expect(throws: StoreError.self) {
            try state.read { try ProjectionCheckpoint.load("q", in: state["checkpoints"], $0) }
        }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("projection q") == true)
    }
}
