import ArgumentParser
import EventStore
import Foundation
import Ledger
import Projections
import Workload

/// `ledgerd demo`: the README's main job — a Directive-16 fortnight, computed end to end on an embedded store.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a Directive-16 fortnight through the command handlers and projections, and report on it.",
        discussion: """
            In a fresh directory and without a daemon: creates a store with its signing key, generates the sample \
            fixtures (6 agencies, ~70 officials, 10 working days from 1 April 2020), runs every command through the \
            handlers (some are refused on purpose), builds the projections and prints queues with overdue flags, \
            on-time rates, cap compliance per unit-day, leaders per agency-day, the heads' accountability findings, \
            officials' scores and a signed checkpoint. Everything printed is computed from the store.
            """
    )

    @Option(help: "The directory to work in (must not exist yet; default: a new temporary directory).")
    var dir: String?
    @Option(help: "Working days to simulate from 1 April 2020.")
    var days = 10
    @Option(help: "The fixtures' seed.")
    var seed: UInt64 = 2020

    func run() async throws {
        let base = dir ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("ledger-demo-\(getpid())")
        guard !FileManager.default.fileExists(atPath: base) else {
            throw ValidationError("\(base) exists; the demo starts in a fresh directory (pass another --dir)")
        }
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let storePath = (base as NSString).appendingPathComponent("store")
        let origin = "ledger.demo.example/directive-16"
        let signer = try InitCommand.initialise(store: storePath, origin: origin, keyPath: storePath + ".key",
                                                configPath: storePath + ".toml")
        print("Ledger demo — Directive 16/CT-TTg, a fortnight from 1 April 2020")
        print("store \(storePath) (origin \(origin))\n")

        let generator = FixtureGenerator(profile: .sample, days: days, seed: seed)
        let commands = generator.ndjson()
        let store = try Store.open(at: storePath)
        defer { store.close() }
        print("1. Running the fixture commands through the handlers")
        let tally = try await CommandReplay.run(store: store, ndjson: commands, principal: "import", quiet: false)
        guard tally.unexpected.isEmpty else {
            throw ValidationError("\(tally.unexpected.count) commands did not end as the fixtures expect")
        }

        print("\n2. Building the projections")
        let model = try ReadModel(store: store, statePath: (base as NSString).appendingPathComponent("state"))
        let started = ContinuousClock.now
        let head = try model.runner.catchUp { done, total in
            FileHandle.standardError.write(Data("\r  events: \(done)/\(total)".utf8))
        }
        FileHandle.standardError.write(Data("\n".utf8))
        print("  \(head) events folded into \(ReadModel.projections.count) projections in "
            + "\(Report.seconds(ContinuousClock.now - started)) s")

        let last = generator.workingDays.last!
        let cal = generator.calendar
        let asOf = cal.instant(last, minute: 17 * 60)
        let period = Period.days(generator.workingDays.first!, last)
        let report = Report(model: model, calendar: cal, asOf: asOf, period: period)
        let reference = try model.reference()
        let agencies = reference.agencies.values.sorted { $0.id < $1.id }
        let withDossiers = try agencies.filter { !(try model.dossiers(agency: $0.id)).isEmpty }
        print("\n3. Work queues at \(Report.local(asOf, cal))")
        for agency in withDossiers { try report.queues(agency) }
        print("\n4. Timeliness, \(period) (Decision 766)")
        try report.timeliness(withDossiers)
        print("\n5. On-site cap per unit-day and leaders per agency-day")
        try report.attendance(agencies)
        print("\n6. Heads' accountability, \(period)")
        for agency in withDossiers { try report.accountability(agency) }
        print("\n7. Officials' scores, \(period) (quantity, progress, quality; Decree 335 style)")
        for agency in withDossiers { try report.evaluations(agency) }

        let signed = try await store.signCheckpoint(with: signer, state: try SigningState(path: storePath + ".key.signed"))
        print("\n8. The signed checkpoint of the log (C2SP tlog-checkpoint; verifier key in \(storePath).vkey)")
        print(signed.note.formatted.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))

        print("""

            Next — serve the same store and ask it over its socket:
              ledgerd serve --store \(storePath) --socket \(base)/ledgerd.sock &
              curl --unix-socket \(base)/ledgerd.sock "http://ledgerd/queues?agency=HBC&tab=processing&asOf=\(Instant.format(asOf))"
              curl --unix-socket \(base)/ledgerd.sock "http://ledgerd/statistics/timeliness?agency=SNV&period=\(period)"
              curl --unix-socket \(base)/ledgerd.sock -N http://ledgerd/subscribe -H 'Last-Event-ID: \(head - 5)'
              ledgerd verify --store \(storePath)                      # re-derive the tree, check the checkpoint
              ledgerd audit export --store \(storePath) --out bundle   # an audit bundle for an auditor
            """)
    }
}
