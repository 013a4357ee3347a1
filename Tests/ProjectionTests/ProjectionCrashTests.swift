import EventStore
import Foundation
import Projections
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Projection crash safety", .serialized)
struct ProjectionCrashTests {
    static var helper: URL { builtExecutable("ledger-test-helper") }

    static func run(_ arguments: [String], killAfter lines: Int?) async throws -> [String] {
        let process = Process()
        process.executableURL = helper
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        try out.fileHandleForWriting.close()
        var received = [String]()
        var buffer = Data()
        let handle = out.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 0x0A) {
                received.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                buffer.removeSubrange(buffer.startIndex...newline)
                if let lines, received.count >= lines {
                    kill(process.processIdentifier, SIGKILL)
                }
            }
        }
        process.waitUntilExit()
        return received
    }

    @Test("a process SIGKILLed during catch-up resumes from its checkpoint and reaches the rebuild's digest")
    func killDuringCatchUp() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-projkill-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        var options = StoreOptions()
        options.mapSize = 1 << 30
        let store = try Store.create(at: root + "/log", origin: "o.example/log", options: options)
        for i in 0..<3_000 {
            try await store.append(to: ["dossier", "roster", "leave"][i % 3] + "-\(i % 11)",
                                   [EventData(type: ["A.v1", "B.v1", "C.v1"][i % 2 + (i % 5 == 0 ? 1 : 0)],
                                              facts: Array("{\"i\":\(i)}".utf8))], durability: .relaxed)
        }
        try await store.sync()
        store.close()

        let killed = try await Self.run(["project", root + "/log", root + "/state"], killAfter: 10)
        #expect(killed.contains { $0.hasPrefix("at ") } && !killed.contains { $0.hasPrefix("done") },
                "the first run must die mid-way: \(killed.suffix(2))")
        let resumed = try await Self.run(["project", root + "/log", root + "/state"], killAfter: nil)
        let start = try #require(resumed.first.flatMap { UInt64($0.dropFirst("start ".count)) })
        #expect(start > 0 && start < 3_000, "the second run starts from the committed checkpoint, not from zero")
        let rebuilt = try await Self.run(["project", root + "/log", root + "/fresh"], killAfter: nil)
        let digest = try #require(resumed.last)
        #expect(digest.hasPrefix("done ") && digest == rebuilt.last)
    }

    @Test("following: commits are folded as they land; a query waits, bounded, for the position it names")
    func following() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-follow-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        var options = StoreOptions()
        options.mapSize = 1 << 30
        let store = try Store.create(at: root + "/log", origin: "o.example/log", options: options)
        defer { store.close() }
        let runner = try ProjectionRunner(store: store, statePath: root + "/state", projections: [EventTally()],
                                          mapSize: 1 << 30)
        let follower = Task { try await runner.follow() }
        var last: UInt64 = 0
        for i in 0..<50 {
            last = try await store.append(to: "dossier-\(i % 3)", [EventData(type: "A.v1", facts: [1])]).positions[0]
        }
        #expect(try await runner.waitUntil(EventTally(), reflects: last, timeout: .seconds(10)))
        #expect(try runner.status(of: EventTally()).lag == 0)
        let count = try runner.state(of: EventTally()).read { txn in
            try EventTally.count(runner.databases(of: EventTally())["byType"], "A.v1", txn)
        }
        #expect(count == 50)
        #expect(try await !runner.waitUntil(EventTally(), reflects: 1_000_000, timeout: .milliseconds(20)))
        follower.cancel()
        _ = try? await follower.value
    }
}
