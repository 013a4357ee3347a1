import EventStore
import Foundation
import Testing

/// Random appends and reads checked against an in-memory model of the log.
@Suite("Model-based")
struct ModelBasedTests {
    struct Model {
        var events: [(stream: String, type: String, facts: [UInt8], personal: [UInt8]?, id: UUID)] = []
        var versions: [String: UInt64] = [:]

        func version(_ stream: String) -> UInt64 { versions[stream] ?? 0 }
    }

    struct Generator: RandomNumberGenerator, Sendable {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            var z = state
            z = (z ^ (z >> 33)) &* 0xff51afd7ed558ccd
            return z ^ (z >> 33)
        }
    }

    @Test("random appends, expectations and reads agree with the model", arguments: [1, 2, 3] as [UInt64])
    func randomOperations(seed: UInt64) async throws {
        var rng = Generator(state: seed)
        var model = Model()
        let streams = (0..<12).map { ["dossier", "roster", "leave"][$0 % 3] + "-\($0)" }
        let types = ["A.v1", "B.v1", "C.v1"]
        try await withStore { store, _ in
            for step in 0..<400 {
                let shareCount = Int.random(in: 1...3, using: &rng)
                let chosen = Array(streams.shuffled(using: &rng).prefix(shareCount))
                var shares = [StreamAppend]()
                var expectedOK = true
                for stream in chosen {
                    let actual = model.version(stream)
                    let expectation: ExpectedVersion
                    switch Int.random(in: 0..<6, using: &rng) {
                    case 0: expectation = .any
                    case 1: expectation = .noStream
                    case 2: expectation = .streamExists
                    case 3: expectation = .exact(actual &+ (Bool.random(using: &rng) ? 0 : 1))
                    default: expectation = .exact(actual)
                    }
                    expectedOK = expectedOK && expectation.isSatisfied(by: actual)
                    let n = Int.random(in: 0...3, using: &rng)
                    shares.append(StreamAppend(stream: stream, expected: expectation, events: (0..<n).map { i in
                        let personal: [UInt8]? = Bool.random(using: &rng) ? Array("person \(step)-\(i)".utf8) : nil
                        return EventData(id: UUID.v7(), type: types.randomElement(using: &rng)!,
                                         facts: Array("{\"step\":\(step),\"i\":\(i)}".utf8), personal: personal)
                    }))
                }
                if shares.allSatisfy({ $0.events.isEmpty }) && !expectedOK { continue }
                do {
                    let result = try await store.append(shares)
                    #expect(expectedOK, "step \(step): the store accepted an append the model refuses")
                    var position = UInt64(model.events.count)
                    for share in shares {
                        for e in share.events {
                            model.events.append((share.stream, e.type, e.facts, e.personal, e.id!))
                            position += 1
                        }
                        model.versions[share.stream] = model.version(share.stream) + UInt64(share.events.count)
                    }
                    #expect(result.positions.last.map { $0 + 1 } ?? position == position)
                } catch let error as StoreError {
                    #expect(!expectedOK, "step \(step): refused \(error)")
                    #expect(error.code == .wrongExpectedVersion)
                }
                #expect(store.head == UInt64(model.events.count))

                if step % 50 == 49 { try check(store, model, streams: streams, rng: &rng) }
            }
            try check(store, model, streams: streams, rng: &rng)
        }
    }

    func check(_ store: Store, _ model: Model, streams: [String], rng: inout Generator) throws {
        let all = try store.read(limit: 1_000_000)
        #expect(all.count == model.events.count)
        for (e, m) in zip(all, model.events) {
            #expect(e.record.stream == m.stream && e.record.eventType == m.type && e.record.eventID == m.id)
            #expect(e.facts == m.facts && e.personal == m.personal)
        }
        for stream in streams {
            let expected = model.events.enumerated().filter { $0.element.stream == stream }
            let read = try store.readStream(stream, limit: 10_000)
            #expect(read.map(\.position) == expected.map { UInt64($0.offset) })
            #expect(read.map(\.record.streamVersion) == Array(1...UInt64(max(expected.count, 1))).prefix(expected.count).map { $0 })
            #expect(try store.streamInfo(stream)?.version ?? 0 == model.version(stream))
            if !expected.isEmpty {
                let v = UInt64.random(in: 1...UInt64(expected.count), using: &rng)
                let back = try store.readStream(stream, from: v, direction: .backward, limit: 3)
                #expect(back.map(\.record.streamVersion) == Array((max(1, Int(v) - 2)...Int(v)).reversed()).map(UInt64.init))
            }
        }
        for category in ["dossier", "roster", "leave"] {
            let expected = model.events.enumerated().filter { EventRecord.category(of: $0.element.stream) == category }
            #expect(try store.readCategory(category, limit: 100_000).map(\.position) == expected.map { UInt64($0.offset) })
        }
        for type in ["A.v1", "B.v1", "C.v1"] {
            let expected = model.events.enumerated().filter { $0.element.type == type }
            #expect(try store.readType(type, direction: .backward, limit: 100_000).map(\.position)
                == expected.map { UInt64($0.offset) }.reversed())
        }
    }
}
