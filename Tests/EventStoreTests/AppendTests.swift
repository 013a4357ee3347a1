import EventStore
import Foundation
import Testing

@Suite("Appending")
struct AppendTests {
    @Test("positions are gapless from 0 and versions count from 1 in each stream")
    func positionsAndVersions() async throws {
        try await withStore { store, _ in
            let a = try await store.append(to: "dossier-1", [event(), event()])
            let b = try await store.append(to: "dossier-2", [event()])
            let c = try await store.append(to: "dossier-1", [event()])
            #expect(a.positions == [0, 1])
            #expect(b.positions == [2])
            #expect(c.positions == [3])
            #expect(c.streamVersions == ["dossier-1": 3])
            #expect(store.head == 4)
            let stream = try store.readStream("dossier-1")
            #expect(stream.map(\.record.streamVersion) == [1, 2, 3])
            #expect(stream.map(\.record.previousPosition) == [nil, 0, 1])
            #expect(stream.allSatisfy { $0.record.origin == "test.ledger.local/log" })
        }
    }

    @Test("every expectation is honoured when it holds", arguments: [
        (ExpectedVersion.any, UInt64(0)), (.noStream, 0), (.exact(0), 0), (.any, 2), (.streamExists, 2), (.exact(2), 2),
    ])
    func expectationsHold(expected: ExpectedVersion, existing: UInt64) async throws {
        try await withStore { store, _ in
            if existing > 0 { try await store.append(to: "s-1", (0..<existing).map { _ in event() }) }
            let result = try await store.append(to: "s-1", expected: expected, [event()])
            #expect(result.streamVersions["s-1"] == existing + 1)
        }
    }

    @Test("a wrong expectation fails alone, names the actual version and writes nothing", arguments: [
        (ExpectedVersion.noStream, UInt64(2)), (.exact(1), 2), (.exact(3), 2), (.streamExists, 0), (.exact(1), 0),
    ])
    func expectationsFail(expected: ExpectedVersion, existing: UInt64) async throws {
        try await withStore { store, _ in
            if existing > 0 { try await store.append(to: "s-1", (0..<existing).map { _ in event() }) }
            let head = store.head
            let error = await #expect(throws: StoreError.self) {
                try await store.append(to: "s-1", expected: expected, [event()])
            }
            #expect(error?.code == .wrongExpectedVersion)
            #expect(error?.actualVersion == existing)
            #expect(error?.stream == "s-1")
            #expect(error?.message.contains("version \(existing)") == true)
            #expect(store.head == head)
            #expect(try store.streamInfo("s-1")?.version ?? 0 == existing)
        }
    }

    @Test("an append with a completion (no task): positions, a refusal, a large append, and a closed store")
    func completionAppend() async throws {
        func append(_ store: Store, _ appends: [StreamAppend]) async -> Result<AppendResult, StoreError> {
            await withCheckedContinuation { continuation in store.append(appends) { continuation.resume(returning: $0) } }
        }
        try await withStore { store, _ in
            try await store.append(to: "s-1", [event()])
            let first = try await append(store, [StreamAppend(stream: "s-1", expected: .exact(1), events: [event(), event()])]).get()
            #expect(first.positions == [1, 2] && first.streamVersions == ["s-1": 3] && !first.wasRetry)
            guard case .failure(let refused) = await append(store, [StreamAppend(stream: "s-1", expected: .noStream, events: [event()])])
            else { Issue.record("a wrong expectation was accepted"); return }
            #expect(refused.code == .wrongExpectedVersion && refused.actualVersion == 3)
            // 256 events or more are encoded while the writer places them, by a task.
            let large = try await append(store, [StreamAppend(stream: "s-2", events: (0..<300).map { _ in event() })]).get()
            #expect(large.positions == Array(3..<303))
            #expect(store.head == 303)
            guard case .failure(let invalid) = await append(store, [StreamAppend(stream: "", events: [event()])])
            else { Issue.record("an empty stream name was accepted"); return }
            #expect(invalid.code == .invalidArgument)
            store.close()
            guard case .failure(let closed) = await append(store, [StreamAppend(stream: "s-1", events: [event()])])
            else { Issue.record("a closed store took an append"); return }
            #expect(closed.code == .closed)
        }
    }

    @Test("a multi-stream append is atomic: one failed expectation writes none of it")
    func multiStreamAtomic() async throws {
        try await withStore { store, _ in
            try await store.append(to: "roster-1", [event("RosterPublished.v1")])
            let error = await #expect(throws: StoreError.self) {
                try await store.append([
                    StreamAppend(stream: "dossier-9", expected: .noStream, events: [event(), event()]),
                    StreamAppend(stream: "roster-1", expected: .exact(5), events: [event()]),
                ])
            }
            #expect(error?.stream == "roster-1")
            #expect(error?.actualVersion == 1)
            #expect(try store.streamInfo("dossier-9") == nil)
            #expect(store.head == 1)

            let ok = try await store.append([
                StreamAppend(stream: "dossier-9", expected: .noStream, events: [event(), event()]),
                StreamAppend(stream: "roster-1", expected: .exact(1), events: [event()]),
            ])
            #expect(ok.positions == [1, 2, 3])
            #expect(ok.streamVersions == ["dossier-9": 2, "roster-1": 2])
        }
    }

    @Test("a stream named without events guards an invariant: it must match, and it is not written")
    func guardOnlyStream() async throws {
        try await withStore { store, _ in
            try await store.append(to: "cap-unitA-2020-04-03", [event("PlaceTaken.v1")])
            let refused = await #expect(throws: StoreError.self) {
                try await store.append([
                    StreamAppend(stream: "checkin-1", expected: .noStream, events: [event("CheckedIn.v1")]),
                    StreamAppend(stream: "cap-unitA-2020-04-03", expected: .exact(0), events: []),
                ])
            }
            #expect(refused?.code == .wrongExpectedVersion)
            let result = try await store.append([
                StreamAppend(stream: "checkin-1", expected: .noStream, events: [event("CheckedIn.v1")]),
                StreamAppend(stream: "cap-unitA-2020-04-03", expected: .exact(1), events: []),
            ])
            #expect(result.positions == [1])
            #expect(result.streamVersions == ["checkin-1": 1, "cap-unitA-2020-04-03": 1])
            #expect(try store.streamInfo("cap-unitA-2020-04-03")?.version == 1)
        }
    }

    @Test("recorded_at never decreases and stays near the wall clock")
    func recordedAtMonotonic() async throws {
        try await withStore { store, _ in
            for i in 0..<20 { try await store.append(to: "t-\(i % 3)", [event()]) }
            let times = try store.read().map(\.record.recordedAt)
            #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
            let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
            #expect(abs(now - times.last!) < 60_000_000)
        }
    }

    @Test("bad input gets a specific error and changes nothing", arguments: [
        ("", "Thing.v1", "stream name"), ("-x", "Thing.v1", "category"), ("a\u{7}b", "Thing.v1", "control"),
        (String(repeating: "s", count: 256), "Thing.v1", "stream name"), ("s-1", "", "event type"),
    ])
    func invalidInput(stream: String, type: String, mentions: String) async throws {
        try await withStore { store, _ in
            let error = await #expect(throws: StoreError.self) {
                try await store.append(to: stream, [event(type)])
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains(mentions) == true, "\(error?.message ?? "")")
            #expect(store.head == 0)
        }
    }

    @Test("admin entries and the reserved streams are the store's own")
    func adminReserved() async throws {
        try await withStore { store, _ in
            let admin = await #expect(throws: StoreError.self) {
                try await store.append(to: "a-1", [EventData(type: "X.v1", facts: [], leafType: .admin)])
            }
            #expect(admin?.message.contains("admin entries") == true)
            for stream in [Store.rollbackStream, Store.erasureStream] {
                let reserved = await #expect(throws: StoreError.self) { try await store.append(to: stream, [event()]) }
                #expect(reserved?.message.contains("reserved") == true)
            }
            #expect(store.head == 0)
        }
    }

    @Test("a stream named twice in one append is refused")
    func streamTwice() async throws {
        try await withStore { store, _ in
            let error = await #expect(throws: StoreError.self) {
                try await store.append([StreamAppend(stream: "a-1", events: [event()]),
                                        StreamAppend(stream: "a-1", events: [event()])])
            }
            #expect(error?.code == .invalidArgument)
            #expect(store.head == 0)
        }
    }

    @Test("a part over the size limit is refused, nothing is written, and the store stays usable")
    func eventTooLarge() async throws {
        var options = StoreOptions()
        options.maxPartBytes = 1_000
        try await withStore(options: options) { store, _ in
            let big = String(repeating: "x", count: 1_001)
            let error = await #expect(throws: StoreError.self) {
                try await store.append(to: "d-1", [event(), event("Big.v1", big)])
            }
            #expect(error?.code == .eventTooLarge)
            #expect(error?.message.contains("1001 bytes") == true)
            let personal = await #expect(throws: StoreError.self) {
                try await store.append(to: "d-1", [event(personal: big)])
            }
            #expect(personal?.message.contains("personal") == true)
            #expect(store.head == 0)
            let ok = try await store.append(to: "d-1", [event("Fits.v1", String(repeating: "y", count: 1_000))])
            #expect(ok.positions == [0])
        }
    }

    @Test("relaxed appends are readable at once and made durable by sync()")
    func relaxedThenSync() async throws {
        try await withStore { store, _ in
            let r = try await store.append(to: "r-1", [event()], durability: .relaxed)
            #expect(r.positions == [0])
            try await store.sync()
            #expect(try store.event(at: 0)?.record.stream == "r-1")
            #expect(store.isDurable, "the environment must stay durable after a relaxed commit")
        }
    }
}
