import EventStore
import Foundation
import Testing

@Suite("Concurrent appenders")
struct ConcurrencyTests {
    @Test("1 000 appenders racing on one stream with exact expectations: exactly one wins per version")
    func racingAppenders() async throws {
        try await withStore { store, _ in
            let outcomes = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for appender in 0..<1_000 {
                    group.addTask {
                        var conflicts = 0
                        while true {
                            let version = try store.streamInfo("race-1")?.version ?? 0
                            do {
                                try await store.append(to: "race-1", expected: .exact(version), [
                                    event("Won.v1", "{\"appender\":\(appender),\"expected\":\(version)}"),
                                ])
                                return (appender, conflicts)
                            } catch let error as StoreError where error.code == .wrongExpectedVersion {
                                #expect(error.actualVersion! > version)
                                conflicts += 1
                            }
                        }
                    }
                }
                return try await group.reduce(into: [(Int, Int)]()) { $0.append($1) }
            }
            let events = try store.readStream("race-1", limit: 2_000)
            #expect(events.count == 1_000)
            #expect(events.map(\.record.streamVersion) == Array(1...1_000))
            // Each event was written by an appender that expected exactly the version before it.
            for e in events {
                #expect(e.factsText.hasSuffix("\"expected\":\(e.record.streamVersion - 1)}"))
            }
            let winners = Set(events.map { $0.factsText.split(separator: ",")[0] })
            #expect(winners.count == 1_000, "every appender won exactly one version")
            #expect(outcomes.count == 1_000)
            #expect(outcomes.reduce(0) { $0 + $1.1 } > 0, "the race should have produced conflicts")
        }
    }

    @Test("concurrent multi-stream appends keep every stream's versions and chain intact")
    func concurrentMultiStream() async throws {
        try await withStore { store, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<64 {
                    group.addTask {
                        for i in 0..<20 {
                            try await store.append([
                                StreamAppend(stream: "a-\((w + i) % 7)", events: [event()]),
                                StreamAppend(stream: "b-\((w * i) % 5)", events: [event(), event()]),
                            ])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(store.head == 64 * 20 * 3)
            for stream in (0..<7).map({ "a-\($0)" }) + (0..<5).map({ "b-\($0)" }) {
                let events = try store.readStream(stream, limit: 10_000)
                #expect(events.map(\.record.streamVersion) == Array(1...UInt64(events.count)))
                #expect(events.map(\.record.previousPosition) == [nil] + events.dropLast().map(\.position))
            }
        }
    }
}
