import ArgumentParser
import EventStore
import Foundation
import Ledger
import Workload

/// `ledgerd bench decode`: what the read side pays to decode one event. Every dossier event of a fixture run is
/// decoded from its stored facts (facts v1) into a `DossierEvent`, as the projections do, and, for comparison, the
/// same facts rendered as JSON are decoded by Foundation's `JSONDecoder`.
struct BenchDecodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Measure decoding a dossier event's facts (facts v1) against Foundation's JSONDecoder on the same JSON."
    )

    @Option(help: "Working days of the sample profile to generate and replay.")
    var days = 10
    @Option(help: "The fixture seed.")
    var seed: UInt64 = 2020
    @Option(help: "Measurements of each decoder; the figures are the medians.")
    var runs = 3
    @Flag(help: "Print the result as one JSON object on the last line.")
    var json = false

    func validate() throws {
        guard days > 0, runs > 0 else { throw ValidationError("--days and --runs must be positive") }
    }

    func run() async throws {
        let root = NSTemporaryDirectory() + "ledger-bench-decode-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try Store.create(at: root + "/log", origin: "bench.example/decode")
        defer { store.close() }
        progress("replaying \(days) days of the sample profile…")
        _ = try await CommandReplay.run(store: store, ndjson: FixtureGenerator(profile: .sample, days: days, seed: seed).ndjson(),
                                        principal: "import", quiet: true)
        let samples = try store.readCategory("dossier", limit: .max, payloads: .facts)
            .map { (type: $0.record.eventType, facts: $0.facts ?? []) }
            .filter { (try? DossierEvent(type: $0.type, facts: $0.facts, personal: nil)) != nil }
        guard !samples.isEmpty else { throw ValidationError("the run recorded no dossier events") }
        let texts = try samples.map { s throws -> Data in Data(try Facts.json(s.facts).utf8) }
        let bytes = samples.reduce(0) { $0 + $1.facts.count }
        progress("decoding \(samples.count) dossier events (\(bytes / samples.count) bytes of facts each on average)…")

        var ours = [Double](), foundation = [Double]()
        let decoder = JSONDecoder()
        for _ in 1...runs {
            ours.append(try Self.nanosecondsPerEvent(samples.count) {
                var kinds = 0
                for s in samples { if case .received = try DossierEvent(type: s.type, facts: s.facts, personal: nil) { kinds += 1 } }
                return kinds
            })
            foundation.append(try Self.nanosecondsPerEvent(samples.count) {
                var fields = 0
                for text in texts { if case .object(let o) = try decoder.decode(JSONValue.self, from: text) { fields += o.count } }
                return fields
            })
        }
        struct Result: Encodable {
            var events: Int
            var facts_bytes_mean: Int
            var facts_ns_per_event: Double
            var foundation_json_ns_per_event: Double
            var speedup: Double
        }
        let factsNs = BenchServeCommand.median(ours), jsonNs = BenchServeCommand.median(foundation)
        let result = Result(events: samples.count, facts_bytes_mean: bytes / samples.count,
                            facts_ns_per_event: factsNs.rounded(), foundation_json_ns_per_event: jsonNs.rounded(),
                            speedup: (jsonNs / factsNs * 10).rounded() / 10)
        print("decoded \(samples.count) dossier events: facts v1 \(Int(factsNs)) ns per event, Foundation's JSONDecoder "
            + "on the same facts as JSON \(Int(jsonNs)) ns (\(result.speedup)×)")
        if json { print(encodeJSONLine(result)) }
    }

    /// Runs `body` (one pass over `count` events) until at least half a second has passed; returns the time per event.
    /// The value `body` returns is kept, so the work cannot be optimised away.
    static func nanosecondsPerEvent(_ count: Int, _ body: () throws -> Int) throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        var passes = 0
        var kept = 0
        repeat {
            kept &+= try body()
            passes += 1
        } while clock.now - start < .milliseconds(500)
        let elapsed = clock.now - start
        if kept == Int.min { print("") }
        let (seconds, attoseconds) = elapsed.components
        return (Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(passes * count)
    }
}
