@testable import EventStore
import Foundation
import Testing

/// Appends of at least `Store.streamedAppendEvents` events are queued before they are encoded, and the writer
/// places their events as the caller encodes them.
@Suite("Large appends encoded while the writer places them")
struct StreamedAppendTests {
    /// `count` events over `streams` streams, in one multi-stream append.
    static func shares(_ count: Int, streams: Int, tag: String, expected: ExpectedVersion = .any) -> [StreamAppend] {
        (0..<streams).map { s in
            StreamAppend(stream: "bulk-\(s)", expected: expected, events: (0..<(count / streams)).map { i in
                event("Bulk.v1", "{\"\(tag)\":\(s * 100_000 + i)}", personal: i % 7 == 0 ? "Trần Thị \(i)" : nil,
                      id: UUID())
            })
        }
    }

    @Test("a large multi-stream append commits whole, in order, beside small appends queued with it")
    func largeBesideSmall() async throws {
        try await withStore { store, _ in
            #expect(Store.streamedAppendEvents <= 1_000)
            let big = Self.shares(1_000, streams: 4, tag: "big")
            async let large = store.append(big)
            async let smalls: [AppendResult] = withThrowingTaskGroup(of: AppendResult.self) { group in
                for i in 0..<20 { group.addTask { try await store.append(to: "small-\(i)", [event("Small.v1")]) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let result = try await large
            let others = try await smalls
            #expect(!result.wasRetry)
            #expect(result.positions.count == 1_000)
            #expect(zip(result.positions, result.positions.dropFirst()).allSatisfy { $1 == $0 + 1 },
                    "one append's events are contiguous")
            #expect(others.count == 20 && Set(others.flatMap(\.positions)).isDisjoint(with: result.positions))
            #expect(store.head == 1_020)
            for s in 0..<4 {
                let events = try store.readStream("bulk-\(s)")
                #expect(events.count == 250)
                #expect(events.map(\.factsText) == big[s].events.map { String(decoding: $0.facts, as: UTF8.self) })
                #expect(events.filter { $0.personal != nil }.count == big[s].events.filter { $0.personal != nil }.count)
            }
            #expect(try store.check().events == 1_020)
        }
    }

    @Test("a large append with a stale expectation writes nothing and fails alone; its retry answers the original positions")
    func refusedAndRetried() async throws {
        try await withStore { store, _ in
            try await store.append(to: "bulk-1", [event("Seed.v1")])
            let stale = await #expect(throws: StoreError.self) {
                try await store.append(Self.shares(600, streams: 2, tag: "x", expected: .noStream))
            }
            #expect(stale?.code == .wrongExpectedVersion)
            #expect(stale?.actualVersion == 1)
            #expect(store.head == 1)

            let shares = Self.shares(600, streams: 3, tag: "y")
            let first = try await store.append(shares)
            let again = try await store.append(shares)
            #expect(again.wasRetry)
            #expect(again.positions == first.positions)
            #expect(store.head == 601)
        }
    }

    @Test("a large append naming an erased subject, or mixing stored and new ids, is refused whole and writes nothing")
    func refusedBeforeItsEvents() async throws {
        try await withStore { store, _ in
            let subject = UUID()
            var metadata = Metadata()
            metadata["subject"] = subject.uuidString.lowercased()
            try await store.append(to: "dossier-1", [event("Submitted.v1", "{}", personal: "Lê Văn Nam", metadata: metadata)])
            try await store.eraseSubject(subject, reason: "yêu cầu xóa dữ liệu")
            let head = store.head
            var shares = Self.shares(400, streams: 2, tag: "e")
            shares[1] = StreamAppend(stream: "dossier-1", events: shares[1].events.enumerated().map { i, e in
                i == 150 ? event("Note.v1", "{}", personal: "ghi chú", metadata: metadata) : e
            })
            let erased = await #expect(throws: StoreError.self) { try await store.append(shares) }
            #expect(erased?.message.contains("was erased") == true, "\(erased?.message ?? "")")
            #expect(store.head == head)

            let stored = Self.shares(300, streams: 3, tag: "k")
            try await store.append(stored)
            var mixed = Self.shares(300, streams: 3, tag: "m")
            mixed[2] = stored[2]
            let conflict = await #expect(throws: StoreError.self) { try await store.append(mixed) }
            #expect(conflict?.code == .idempotencyConflict)
            #expect(store.head == head + 300)
            #expect(try store.check().events == store.head)
        }
    }

    @Test("a feed's reader waits for the events in order and gets the producer's failure")
    func feedOrderAndFailure() async throws {
        let prepared = try await withStore { store, _ async throws in
            try store.prepare([StreamAppend(stream: "s", events: (0..<4).map { event("E.v1", "{\"i\":\($0)}") })],
                              durability: .durable)
        }
        let events = try (0..<4).map { try prepared.feed.event($0) }
        let feed = EncodedEventFeed(count: 4)
        let reader = Task.detached { () -> (Int, StoreError?) in
            var read = 0
            do throws(StoreError) {
                for i in 0..<4 {
                    _ = try feed.event(i)
                    read += 1
                }
            } catch { return (read, error) }
            return (read, nil)
        }
        feed.publish(Array(events[0..<2]))
        try await Task.sleep(for: .milliseconds(50))
        feed.fail(StoreError(.storage, "encoding failed"))
        let (read, error) = await reader.value
        #expect(read == 2)
        #expect(try feed.event(1) === events[1], "the events come out as they went in")
        #expect(error?.message == "encoding failed")
        #expect(!feed.isComplete)
    }
}
