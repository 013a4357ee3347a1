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

    @Option(help: "An NDJSON file of commands.")
    var commands: String?

    @Option(help: "An NDJSON file of events exported with `ledgerd export events --exact` (ids, types, actor, metadata and parts kept; only positions and recorded_at are new).")
    var events: String?

    @Option(help: "A running daemon's socket (default: the config's); commands go through it when it answers.")
    var socket: String?

    @Option(help: "The origin, when the store does not exist yet.")
    var origin = "ledger.local/import"

    func run() async throws {
        guard (commands == nil) != (events == nil) else { throw ValidationError("give one of --commands and --events") }
        let path = commands ?? events!
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        // Commands that write go through a running daemon (it holds the store's lock).
        if commands != nil, let daemon = runningDaemon(location, socket: socket) {
            try Self.importThroughDaemon(data, daemon)
            return
        }
        let store = try Store.openOrCreate(at: location.store, origin: origin)
        defer { store.close() }
        if events != nil {
            try await Self.importEvents(data, into: store)
            return
        }
        let tally = try await CommandReplay.run(store: store, ndjson: data, principal: "import", quiet: false)
        if !tally.unexpected.isEmpty { throw ExitCode(1) }
    }

    /// Sends each command line to `POST /commands/{type}`; counts answers like the local import.
    static func importThroughDaemon(_ data: Data, _ daemon: UnixHTTPClient) throws {
        var accepted = 0, refused = [String: Int](), unexpected = [String]()
        for (index, line) in data.split(separator: 0x0A).enumerated() {
            let envelope: CommandEnvelope
            do { envelope = try CommandEnvelope(json: Data(line)) } catch {
                throw ValidationError("line \(index + 1): \(error.message)")
            }
            let response = try daemon.request("POST", "/commands/\(envelope.type)", body: Data(line))
            var outcome = "accepted"
            if (200..<300).contains(response.status) {
                accepted += 1
                if response.text.contains("\"recorded\":false") { outcome = "check" }
            } else {
                let code = response.text.components(separatedBy: "\"code\":\"").dropFirst().first?
                    .prefix { $0 != "\"" } ?? "http_\(response.status)"
                refused[String(code), default: 0] += 1
                outcome = "refused:\(code)"
            }
            if let expected = ImportTally.expectation(ofLine: Data(line)), !ImportTally.meets(expected, outcome) {
                unexpected.append("line \(index + 1) \(envelope.type): expected \(expected), got \(outcome)")
            }
        }
        let list = refused.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("through the daemon: \(accepted) accepted, \(refused.values.reduce(0, +)) refused"
            + (list.isEmpty ? "" : " (\(list))"))
        for u in unexpected.prefix(20) { print("  unexpected: \(u)") }
        if !unexpected.isEmpty { throw ExitCode(1) }
    }

    /// Appends exported events one by one, each expecting its stream at the previous version (so the order and the
    /// streams are kept) and idempotent by event id (so an interrupted import is re-run).
    static func importEvents(_ data: Data, into store: Store) async throws {
        var appended = 0, retried = 0
        for (index, line) in data.split(separator: 0x0A).enumerated() {
            func bad(_ what: String) -> ValidationError { ValidationError("line \(index + 1): \(what)") }
            guard case .object(let o)? = try? JSONValue(parsing: line) else {
                throw bad("not a JSON object")
            }
            guard case .string(let stream)? = o["stream"], case .string(let type)? = o["type"],
                  case .string(let idText)? = o["eventId"], let id = UUID(uuidString: idText),
                  case .number(let version)? = o["version"], version >= 1
            else { throw bad("needs stream, type, eventId and version") }
            guard case .string(let factsText)? = o["factsV1"], let facts = Data(base64Encoded: factsText) else {
                throw bad("has no factsV1: export with `ledgerd export events --exact`")
            }
            var personal: [UInt8]?
            if case .string(let p)? = o["personalV1"] {
                guard let bytes = Data(base64Encoded: p) else { throw bad("personalV1 is not base64") }
                personal = Array(bytes)
            }
            var metadata = Metadata()
            if case .object(let m)? = o["metadata"] {
                for (k, v) in m.sorted(by: { $0.key < $1.key }) { if case .string(let s) = v { metadata[k] = s } }
            }
            var actor = ""
            if case .string(let a)? = o["actor"] { actor = a }
            func uuid(_ key: String) -> UUID? { if case .string(let s)? = o[key] { UUID(uuidString: s) } else { nil } }
            let event = EventData(id: id, type: type, facts: Array(facts), personal: personal, actor: actor,
                                  metadata: metadata, correlationID: uuid("correlationId"), causationID: uuid("causationId"))
            let previous = UInt64(version) - 1
            let result = try await store.append([StreamAppend(stream: stream, expected: previous == 0 ? .noStream : .exact(previous),
                                                              events: [event])], durability: .relaxed)
            if result.wasRetry { retried += 1 } else { appended += 1 }
            if (index + 1) % 1_000 == 0 { FileHandle.standardError.write(Data("\r  events: \(index + 1)".utf8)) }
        }
        try await store.sync()
        FileHandle.standardError.write(Data("\n".utf8))
        print("imported \(appended) events (\(retried) already present)")
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
