import ArgumentParser
import EventStore
import Foundation
import Ledger

/// `ledgerd import --commands FILE`: NDJSON commands through the command handlers.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Run NDJSON commands through the command handlers (each line one command envelope).",
        discussion: """
            Each line is {"commandId", "type", "actor": {"staff", "role", "unit"?}, "occurredAt", "body"}; the \
            import principal's occurredAt is honoured. Refused commands are counted and reported, as a client would \
            be answered; a line that is not a command stops the import. A line may carry "expect" \
            ("accepted", "refused:<code>", "check"), which is verified: the exit code is 1 when any differs. \
            Appends are relaxed and synced at the end; commands are idempotent, so an interrupted import is re-run.
            """
    )

    @OptionGroup var location: StoreLocation

    @Option(help: "The NDJSON file of commands.")
    var commands: String

    @Option(help: "The origin, when the store does not exist yet.")
    var origin = "ledger.local/import"

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: commands) else {
            throw ValidationError("cannot read \(commands)")
        }
        let store = try Store.openOrCreate(at: location.store, origin: origin)
        defer { store.close() }
        let tally = try await CommandReplay.run(store: store, ndjson: data, principal: "import", quiet: false)
        if !tally.unexpected.isEmpty { throw ExitCode(1) }
    }
}

/// Replays NDJSON commands into a store with progress on stderr, then syncs; shared by `import` and `demo`.
enum CommandReplay {
    static func run(store: Store, ndjson: Data, principal: String, quiet: Bool) async throws -> ImportTally {
        let service = try LedgerService(store: store, durability: .relaxed)
        let started = ContinuousClock.now
        let tally = try await service.importCommands(ndjson: ndjson, principal: principal) { done, total in
            if !quiet { FileHandle.standardError.write(Data("\r  commands: \(done)/\(total)".utf8)) }
        }
        try await store.sync()
        let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - started).components.seconds)
        if !quiet {
            FileHandle.standardError.write(Data("\n".utf8))
            let refused = tally.refused.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print("\(tally.lines) commands in \(String(format: "%.1f", seconds)) s: \(tally.accepted) accepted, "
                + "\(tally.refusedTotal) refused\(refused.isEmpty ? "" : " (\(refused))"), "
                + "\(tally.nothingToRecord) checks with nothing to record")
            for line in tally.unexpected.prefix(20) { print("  unexpected: \(line)") }
            if tally.unexpected.count > 20 { print("  … and \(tally.unexpected.count - 20) more unexpected outcomes") }
        }
        return tally
    }
}
