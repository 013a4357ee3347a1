import EventStore
import Foundation
import Testing

@Suite("Idempotent retries")
struct IdempotencyTests {
    @Test("a retry with the same ids and content returns the original positions, even with a stale expectation")
    func retryReturnsOriginal() async throws {
        try await withStore { store, _ in
            let ids = [UUID.v7(), UUID.v7()]
            let events = [event("A.v1", "{\"n\":1}", personal: "Nguyễn Văn An", id: ids[0]), event("B.v1", id: ids[1])]
            let first = try await store.append(to: "d-1", expected: .noStream, events)
            try await store.append(to: "d-1", [event("C.v1")])
            let retry = try await store.append(to: "d-1", expected: .noStream, events)
            #expect(retry.wasRetry)
            #expect(!first.wasRetry)
            #expect(retry.positions == first.positions)
            #expect(store.head == 3)
        }
    }

    @Test("a known id with other content is refused, naming what differs", arguments: [
        ("facts", event("A.v1", "{\"n\":2}", personal: "P")), ("type", event("Z.v1", "{\"n\":1}", personal: "P")),
        ("personal", event("A.v1", "{\"n\":1}", personal: "Q")), ("personal", event("A.v1", "{\"n\":1}")),
        ("metadata", event("A.v1", "{\"n\":1}", personal: "P", metadata: Metadata(["role": "clerk"]))),
    ])
    func conflictingContent(what: String, other: EventData) async throws {
        try await withStore { store, _ in
            let id = UUID.v7()
            var original = event("A.v1", "{\"n\":1}", personal: "P")
            original.id = id
            try await store.append(to: "d-1", [original])
            var changed = other
            changed.id = id
            let error = await #expect(throws: StoreError.self) { try await store.append(to: "d-1", [changed]) }
            #expect(error?.code == .idempotencyConflict)
            #expect(error?.message.contains(what) == true, "\(error?.message ?? "")")
            #expect(error?.position == 0)
            #expect(store.head == 1)
        }
    }

    @Test("the same id on another stream is a conflict")
    func otherStream() async throws {
        try await withStore { store, _ in
            let e = event(id: UUID.v7())
            try await store.append(to: "d-1", [e])
            let error = await #expect(throws: StoreError.self) { try await store.append(to: "d-2", [e]) }
            #expect(error?.message.contains("stream") == true)
        }
    }

    @Test("the same id twice in one append is refused")
    func duplicateInOneAppend() async throws {
        try await withStore { store, _ in
            let id = UUID.v7()
            let error = await #expect(throws: StoreError.self) {
                try await store.append(to: "d-1", [event(id: id), event(id: id)])
            }
            #expect(error?.code == .idempotencyConflict)
            #expect(store.head == 0)
        }
    }

    @Test("a retry that mixes stored and new ids is refused and writes nothing")
    func partialRetry() async throws {
        try await withStore { store, _ in
            let known = event(id: UUID.v7())
            try await store.append(to: "d-1", [known])
            let error = await #expect(throws: StoreError.self) {
                try await store.append(to: "d-1", [known, event(id: UUID.v7())])
            }
            #expect(error?.code == .idempotencyConflict)
            #expect(store.head == 1)
        }
    }

    @Test("concurrent retries of one append in one batch store it once")
    func concurrentRetries() async throws {
        try await withStore { store, _ in
            let events = [event(id: UUID.v7()), event(id: UUID.v7())]
            let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
                for _ in 0..<20 { group.addTask { try await store.append(to: "d-1", events) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(results.map(\.positions)) == [[0, 1]])
            #expect(results.filter { !$0.wasRetry }.count == 1)
            #expect(store.head == 2)
        }
    }

    @Test("server-made ids are version-7 UUIDs that increase")
    func generatedIDs() async throws {
        try await withStore { store, _ in
            for _ in 0..<50 { try await store.append(to: "d-1", [event()]) }
            let ids = try store.read(limit: 100).map(\.record.eventID)
            #expect(ids.allSatisfy { $0.uuidString.dropFirst(14).first == "7" })
            let keys = ids.map { withUnsafeBytes(of: $0.uuid) { Array($0) } }
            #expect(zip(keys, keys.dropFirst()).allSatisfy { $0.lexicographicallyPrecedes($1) })
        }
    }
}
