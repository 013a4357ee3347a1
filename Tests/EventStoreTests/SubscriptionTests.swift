import EventStore
import Foundation
import Testing

@Suite("Subscriptions")
struct SubscriptionTests {
    @Test("catch-up then live under concurrent appends: no gap, no duplicate at the switch")
    func switchOver() async throws {
        try await withStore { store, _ in
            for i in 0..<300 { try await store.append(to: "d-\(i % 7)", [event("A.v1", "{\"i\":\(i)}")]) }
            async let appender: Void = {
                for i in 300..<1_500 {
                    try await store.append(to: "d-\(i % 7)", [event("A.v1", "{\"i\":\(i)}")],
                                           durability: i % 2 == 0 ? .durable : .relaxed)
                }
            }()
            var seen = [UInt64]()
            for try await event in store.subscribe(from: 0, pageSize: 64) {
                seen.append(event.position)
                #expect(event.factsText == "{\"i\":\(event.position)}")
                if seen.count == 1_500 { break }
            }
            try await appender
            #expect(seen == Array(0..<1_500))

            var fromMiddle = [UInt64]()
            for try await event in store.subscribe(from: 1_200) {
                fromMiddle.append(event.position)
                if event.position == 1_499 { break }
            }
            #expect(fromMiddle == Array(1_200..<1_500))
        }
    }

    @Test("a category subscription sees exactly its events in order while others are appended")
    func filtered() async throws {
        try await withStore { store, _ in
            async let appender: Void = {
                for i in 0..<600 {
                    let stream = ["dossier", "roster", "leave"][i % 3] + "-\(i % 10)"
                    try await store.append(to: stream, [event(i % 2 == 0 ? "Even.v1" : "Odd.v1", "{\"i\":\(i)}")])
                }
            }()
            var dossiers = [UInt64]()
            for try await event in store.subscribe(filter: .category("dossier"), pageSize: 16) {
                #expect(event.record.category == "dossier")
                dossiers.append(event.position)
                if dossiers.count == 200 { break }
            }
            var odd = [UInt64]()
            for try await event in store.subscribe(filter: .type("Odd.v1")) {
                #expect(event.record.eventType == "Odd.v1")
                odd.append(event.position)
                if odd.count == 300 { break }
            }
            try await appender
            let all = try store.read(limit: 1_000)
            #expect(dossiers == all.filter { $0.record.category == "dossier" }.map(\.position))
            #expect(odd == all.filter { $0.record.eventType == "Odd.v1" }.map(\.position))
        }
    }

    @Test("a slow subscriber is paused by default and cut off with a clear error when it exceeds its lag limit")
    func slowSubscriber() async throws {
        try await withStore { store, _ in
            try await store.append(to: "d-1", (0..<10).map { _ in event() })
            var paused = store.subscribe(from: 0, pageSize: 8).makeAsyncIterator()
            var limited = store.subscribe(from: 0, pageSize: 8, maximumLag: 100).makeAsyncIterator()
            #expect(try await paused.next()?.position == 0)
            #expect(try await limited.next()?.position == 0)
            for _ in 0..<20 { try await store.append(to: "d-2", (0..<50).map { _ in event() }) }
            // The paused one resumes where it stopped and sees everything.
            var positions: [UInt64] = [0]
            while positions.count < 1_010, let e = try await paused.next() { positions.append(e.position) }
            #expect(positions == Array(0..<1_010))
            // The limited one finishes its page, then is cut off.
            let error = await #expect(throws: StoreError.self) {
                for _ in 0..<20 { _ = try await limited.next() }
            }
            #expect(error?.code == .subscriberTooSlow)
            #expect(error?.message.contains("resubscribe from position") == true)
        }
    }

    @Test("a live subscription ends when its task is cancelled or the store closes")
    func endings() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try Store.create(at: directory.sub("log"), origin: "o")
        let waiting = Task {
            var count = 0
            for try await _ in store.subscribe() { count += 1 }
            return count
        }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        #expect(try await waiting.value == 0)

        try await store.append(to: "d-1", [event()])
        let untilClose = Task {
            var count = 0
            for try await _ in store.subscribe() { count += 1 }
            return count
        }
        try await Task.sleep(for: .milliseconds(100))
        store.close()
        let delivered = try await untilClose.value
        #expect(delivered == 1)
    }
}
