import ArgumentParser
import EventStore
import Foundation
import Ledger
import Projections
import Workload

/// `ledgerd bench projections`: rebuilds every domain projection from zero over a store of generated domain events.
struct BenchProjectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections",
        abstract: "Rebuild every domain projection from zero; report events per second.",
        discussion: """
            Without --store, generates fixtures (--profile, --days, --seed) and imports them through the command \
            handlers into a temporary store first (kept with --keep DIR, to rebuild again with --store DIR). The \
            rebuild folds into a fresh state store; the figure is events folded per second of the rebuild alone.
            """
    )

    @Option(help: "A store of domain events (e.g. kept by an earlier run with --keep).")
    var store: String?
    @Option(help: "The fixture profile to generate without --store: sample or province.")
    var profile = "province"
    @Option(help: "Working days to generate without --store.")
    var days = 1
    @Option(help: "The fixtures' seed.")
    var seed: UInt64 = 2020
    @Option(help: "Keep the generated store in this directory (must not exist).")
    var keep: String?
    @Option(help: "Rebuilds to run; the figure reported is the median.")
    var runs = 1
    @Option(help: "Rebuild only this projection (dossiers, work-items, attendance, audit).")
    var projection: String?
    @Flag(help: "Print the result as one JSON object on the last line.")
    var json = false

    func run() async throws {
        let scratch = NSTemporaryDirectory() + "ledger-bench-projections-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let storePath: String
        var importRate: Double?
        if let store {
            storePath = store
        } else {
            guard let profile = Profile.named(profile) else { throw ValidationError("unknown profile \(self.profile)") }
            storePath = keep ?? scratch + "/log"
            let log = try Store.create(at: storePath, origin: "bench.example/projections")
            progress("generating \(self.profile) fixtures for \(days) working day(s)")
            let data = FixtureGenerator(profile: profile, days: days, seed: seed).ndjson()
            let started = ContinuousClock.now
            let tally = try await CommandReplay.run(store: log, ndjson: data, principal: "import", quiet: false)
            importRate = Double(tally.lines) / (ContinuousClock.now - started).seconds
            log.close()
        }
        var options = StoreOptions()
        options.readOnly = true
        let log = try Store.open(at: storePath, options: options)
        defer { log.close() }
        var rates = [Double]()
        for run in 1...max(1, runs) {
            let chosen = ReadModel.projections.filter { projection == nil || $0.name == projection }
            guard !chosen.isEmpty else { throw ValidationError("no projection \(projection ?? "")") }
            let runner = try ProjectionRunner(store: log, statePath: scratch + "/state-\(run)", projections: chosen)
            let bar = ProgressBar(label: "rebuild \(run)")
            let started = ContinuousClock.now
            let head = try runner.catchUp { done, total in bar.update(done, of: total) }
            bar.finish()
            rates.append(Double(head) / (ContinuousClock.now - started).seconds)
        }
        rates.sort()
        let median = rates[rates.count / 2]
        struct Result: Encodable {
            var events: UInt64
            var events_per_sec: Int
            var runs: [Int]
            var import_commands_per_sec: Int?
        }
        let result = Result(events: log.head, events_per_sec: Int(median), runs: rates.map { Int($0) },
                            import_commands_per_sec: importRate.map { Int($0) })
        print("rebuilt \(projection ?? "\(ReadModel.projections.count) projections") over \(log.head) events: \(Int(median)) events/s"
            + (importRate.map { "; imported at \(Int($0)) commands/s" } ?? ""))
        if json { print(encodeJSONLine(result)) }
    }
}
