import EventStore
import Foundation
import Testing

@Suite("Reading")
struct ReadTests {
    /// 3 000 events (more than two read pages) over 3 categories, 30 streams and 4 types.
    static func populate(_ store: Store) async throws {
        for batch in 0..<30 {
            var appends = [StreamAppend]()
            for s in 0..<10 {
                let stream = ["dossier", "roster", "approval"][s % 3] + "-\(s + (batch % 3) * 10)"
                appends.append(StreamAppend(stream: stream, events: (0..<10).map { i in
                    event(["A.v1", "B.v1", "C.v1", "D.v1"][(batch + s + i) % 4], "{\"b\":\(batch),\"s\":\(s),\"i\":\(i)}")
                }))
            }
            try await store.append(appends)
        }
    }

    @Test("the log reads forward and backward from any position, across read pages")
    func allForwardBackward() async throws {
        try await withStore { store, _ in
            try await Self.populate(store)
            #expect(store.head == 3_000)
            let forward = try store.read(limit: 5_000)
            #expect(forward.map(\.position) == Array(0..<3_000))
            let middle = try store.read(from: 1_500, limit: 10)
            #expect(middle.map(\.position) == Array(1_500..<1_510))
            let backward = try store.read(direction: .backward, limit: 2_500)
            #expect(backward.map(\.position) == Array((500..<3_000).reversed()))
            let fromMiddleBack = try store.read(from: 5, direction: .backward, limit: 100)
            #expect(fromMiddleBack.map(\.position) == [5, 4, 3, 2, 1, 0])
            #expect(try store.read(from: 3_000, limit: 10).isEmpty)
            #expect(try store.read(from: 9_999, direction: .backward, limit: 1).map(\.position) == [2_999])
        }
    }

    @Test("a stream reads forward and backward from a version")
    func streamReads() async throws {
        try await withStore { store, _ in
            try await Self.populate(store)
            let all = try store.readStream("dossier-0")
            #expect(all.count == 100)
            #expect(all.map(\.record.streamVersion) == Array(1...100))
            #expect(all.allSatisfy { $0.record.stream == "dossier-0" })
            #expect(try store.readStream("dossier-0", from: 50, limit: 3).map(\.record.streamVersion) == [50, 51, 52])
            #expect(try store.readStream("dossier-0", from: 3, direction: .backward).map(\.record.streamVersion)
                == [3, 2, 1])
            #expect(try store.readStream("dossier-0", direction: .backward, limit: 2).map(\.record.streamVersion)
                == [100, 99])
            #expect(try store.readStream("dossier-0", from: 500, direction: .backward, limit: 1)
                .map(\.record.streamVersion) == [100])
            #expect(try store.readStream("nope-1").isEmpty)
            #expect(try store.readStream("dossier-0", from: 101).isEmpty)
        }
    }

    @Test("categories and types read by position in both directions")
    func categoryAndType() async throws {
        try await withStore { store, _ in
            try await Self.populate(store)
            let everything = try store.read(limit: 5_000)
            let rosters = try store.readCategory("roster", limit: 5_000)
            #expect(rosters.map(\.position) == everything.filter { $0.record.category == "roster" }.map(\.position))
            #expect(!rosters.isEmpty)
            let typeB = try store.readType("B.v1", limit: 5_000)
            #expect(typeB.map(\.position) == everything.filter { $0.record.eventType == "B.v1" }.map(\.position))
            let after = try store.readType("B.v1", from: 1_000, limit: 3)
            #expect(after.map(\.position) == Array(typeB.map(\.position).filter { $0 >= 1_000 }.prefix(3)))
            let before = try store.readCategory("roster", from: 1_000, direction: .backward, limit: 2)
            #expect(before.map(\.position) == Array(rosters.map(\.position).filter { $0 <= 1_000 }.reversed().prefix(2)))
            #expect(try store.readCategory("nothing").isEmpty)
        }
    }

    @Test("stream info, streams by prefix with paging, events by id and position")
    func infoAndLookup() async throws {
        try await withStore { store, _ in
            try await Self.populate(store)
            let info = try #require(try store.streamInfo("roster-1"))
            let events = try store.readStream("roster-1")
            #expect(info.version == 100)
            #expect(info.count == 100)
            #expect(info.firstPosition == events.first?.position)
            #expect(info.lastPosition == events.last?.position)
            #expect(info.createdAt == events.first?.record.recordedAt)
            #expect(try store.streamInfo("roster-999") == nil)

            let firstPage = try store.streams(prefix: "dossier-", limit: 4)
            #expect(firstPage.map(\.name) == ["dossier-0", "dossier-10", "dossier-13", "dossier-16"])
            let secondPage = try store.streams(prefix: "dossier-", after: firstPage.last!.name, limit: 100)
            #expect(secondPage.first?.name == "dossier-19")
            #expect(secondPage.last?.name == "dossier-9")
            #expect((firstPage + secondPage).count == 12)
            #expect(try store.streams(limit: 1_000).count == 30)

            let probe = events[7]
            #expect(try store.event(id: probe.record.eventID) == probe)
            #expect(try store.event(at: probe.position) == probe)
            #expect(try store.position(of: probe.record.eventID) == probe.position)
            #expect(try store.event(id: UUID()) == nil)
            #expect(try store.event(at: 1_000_000) == nil)
        }
    }

    @Test("payload selection decodes only what is asked for")
    func payloadSelection() async throws {
        try await withStore { store, _ in
            try await store.append(to: "d-1", [event("A.v1", "{\"x\":1}", personal: "Trần Thị Lan")])
            let all = try #require(try store.event(at: 0, payloads: .all))
            #expect(all.factsText == "{\"x\":1}")
            #expect(all.personal.map { String(decoding: $0, as: UTF8.self) } == "Trần Thị Lan")
            let facts = try #require(try store.event(at: 0, payloads: .facts))
            #expect(facts.facts != nil && facts.personal == nil)
            let none = try #require(try store.event(at: 0, payloads: .none))
            #expect(none.facts == nil && none.personal == nil)
        }
    }

    @Test("scan visits every event in order and stops when asked")
    func scan() async throws {
        try await withStore { store, _ in
            try await Self.populate(store)
            var seen = [UInt64]()
            try store.scan(from: 100, pageSize: 64) { event in
                seen.append(event.position)
                return true
            }
            #expect(seen == Array(100..<3_000))
            var count = 0
            try store.scan { _ in
                count += 1
                return count < 10
            }
            #expect(count == 10)
        }
    }

    @Test("scanRecords gives zero-copy views equal to the decoded events, with their payload parts")
    func scanRecordsMatchesRead() async throws {
        try await withStore { store, _ in
            try await Self.populate(store)
            try await store.append(to: "dossier-x", [event("P.v1", "{}", personal: "Phạm Thị Mai")])
            let events = try store.read(limit: 10_000)
            var index = 0
            try store.scanRecords(from: 0, pageSize: 100) { view, facts, personal in
                let expected = events[index]
                let record = try view.record()
                #expect(record == expected.record)
                #expect(view.position == expected.position && view.stream == expected.record.stream)
                #expect(view.streamVersion == expected.record.streamVersion)
                #expect(view.previousPosition == expected.record.previousPosition)
                #expect(view.eventType == expected.record.eventType && view.eventID == expected.record.eventID)
                #expect(Array(view.factsCommitment) == expected.record.factsCommitment)
                #expect(facts.map(Array.init) == expected.facts)
                #expect(personal.map(Array.init) == expected.personal)
                index += 1
                return true
            }
            #expect(index == events.count)
            var partial = [UInt64]()
            try store.scanRecords(from: 10, to: 20, payloads: .none) { view, facts, _ in
                #expect(facts == nil)
                partial.append(view.position)
                return partial.count < 5
            }
            #expect(partial == [10, 11, 12, 13, 14])
        }
    }

    @Test("scanRecords decodes the parts chosen for each record, and only those; categories are read from the name")
    func scanRecordsChoosingPayloads() async throws {
        try await withStore { store, _ in
            try await store.append(to: "dossier-a", [event("P.v1", "{\"n\":1}", personal: "Phạm Thị Mai")])
            try await store.append(to: "task-b", [event("T.v1", "{\"n\":2}", personal: "Lê Văn Hai")])
            try await store.append(to: "import", [event("I.v1", "{\"n\":3}", personal: "Đỗ Thị Ba")])
            var seen = [String: (facts: String?, personal: String?, category: String)]()
            try store.scanRecords(choosingPayloads: { view in
                switch view.stream { case "dossier-a": .all; case "task-b": .facts; default: .none }
            }) { view, facts, personal in
                seen[view.stream] = (facts.map { String(decoding: $0, as: UTF8.self) },
                                     personal.map { String(decoding: $0, as: UTF8.self) },
                                     String(decoding: view.categoryBytes, as: UTF8.self))
                return true
            }
            #expect(seen["dossier-a"].map { $0.facts == "{\"n\":1}" && $0.personal == "Phạm Thị Mai" } == true)
            #expect(seen["task-b"].map { $0.facts == "{\"n\":2}" && $0.personal == nil } == true)
            #expect(seen["import"].map { $0.facts == nil && $0.personal == nil } == true)
            #expect(seen.mapValues(\.category) == ["dossier-a": "dossier", "task-b": "task", "import": "import"])
        }
    }
}
