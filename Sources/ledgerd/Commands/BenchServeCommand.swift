import ArgumentParser
import EventStore
import Foundation
import Ledger
import NIOCore
import NIOHTTP1
import NIOPosix
import Workload

/// `ledgerd bench serve`: N SwiftNIO client connections to a daemon on a socket, each appending one durable event
/// per request through the raw append route, beside `bench append --writers N --batch 1` in the same run.
struct BenchServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Measure durable appends through the daemon's socket against direct appends, in one run."
    )

    @Option(help: "Concurrent client connections (keep-alive, one request in flight each).")
    var clients = 256
    @Option(help: "Events to append in all (each run).")
    var events = 20_000
    @Flag(help: "Send domain commands (dossier.submit through /commands) instead of raw appends.")
    var commands = false
    @Option(help: "Measure queue queries (GET /queues) against the daemon serving this store instead of appending.")
    var queries: String?
    @Option(help: "Queue queries to send in all (with --queries).")
    var requests = 20_000
    @Option(help: "Rounds of direct then served appends; the figures are the medians of the rounds.")
    var rounds = 3
    @Flag(help: "Print the result as one JSON object on the last line.")
    var json = false

    func validate() throws {
        guard (1...100).contains(rounds) else { throw ValidationError("--rounds must be 1 to 100 (got \(rounds))") }
        guard clients >= 1, events >= 1 else { throw ValidationError("--clients and --events must be at least 1") }
    }

    func run() async throws {
        if let queries { return try await runQueries(store: queries) }
        let root = NSTemporaryDirectory() + "ledger-bench-serve-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }

        // The baseline: the same number of single-event durable appends, straight into a store.
        let direct = try Store.create(at: root + "/direct", origin: "bench.example/direct")
        defer { direct.close() }

        // The daemon, as its own process.
        let store = root + "/served"
        _ = try InitCommand.initialise(store: store, origin: "bench.example/served", keyPath: store + ".key",
                                       configPath: store + ".toml")
        let submit = commands ? try await Self.publishReference(into: store) : nil
        let socket = root + "/ledgerd.sock"
        let daemon = try await Self.startDaemon(store: store, socket: socket, clients: clients)
        defer { if daemon.isRunning { daemon.terminate(); daemon.waitUntilExit() } }

        // Direct and served in turn, each round on the stores the rounds before filled, so both sides meet the
        // machine in the same state; the figures are the medians.
        var directRates = [Double](), servedRates = [Double](), ratios = [Double](), latencies = [Double]()
        // CPU microseconds per event: the bench process while it appends directly; the daemon and the client (this
        // process) while it serves.
        var directCPU = [Double](), daemonCPU = [Double](), clientCPU = [Double]()
        var served = 0
        for round in 1...rounds {
            progress("round \(round) of \(rounds), direct: \(events) appends, \(clients) writers, batch 1, durable…")
            let chunks = SyntheticWorkload(events: events, seed: 7 + UInt64(round)).chunks(of: 1)
            let (commitsBefore, _, commitSecondsBefore, _) = direct.writerStatistics
            let directStart = ProcessCPU.own
            let directSeconds = try await BenchAppendCommand.append(chunks, to: direct, writers: clients,
                                                                    durability: .durable)
            directCPU.append((ProcessCPU.own - directStart) * 1e6 / Double(events))
            let (clientStart, daemonStart) = (ProcessCPU.own, ProcessCPU.of(pid: daemon.processIdentifier))
            progress("round \(round) of \(rounds), served: \(events) \(commands ? "commands" : "appends") over "
                + "\(clients) connections…")
            let perClient = (events + clients - 1) / clients
            let run = try await Self.measure(socket: socket, clients: clients, perClient: perClient, expect: 201) { c, r in
                if let submit { return Self.submitRequest(client: c, n: r, submit) }
                return ("/streams/bench-\(c)/events",
                        #"{"events":[{"type":"Bench.v1","facts":{"round":\#(round),"client":\#(c),"n":\#(r)}}]}"#)
            }
            clientCPU.append((ProcessCPU.own - clientStart) * 1e6 / Double(run.count))
            if let daemonStart, let daemonEnd = ProcessCPU.of(pid: daemon.processIdentifier) {
                daemonCPU.append((daemonEnd - daemonStart) * 1e6 / Double(run.count))
            }
            directRates.append(Double(events) / directSeconds)
            servedRates.append(Double(run.count) / run.seconds)
            ratios.append(servedRates.last! / directRates.last!)
            latencies += run.sorted
            served += run.count
            if rounds > 1 {
                let (commits, _, commitSeconds, _) = direct.writerStatistics
                let directCommits = max(1, commits - commitsBefore)
                progress(String(format: "  round %d: served %.0f events/s, direct %.0f (%.1f events per commit, %.2f ms "
                    + "each), ratio %.3f; CPU µs per event: direct %.1f, served %.1f (daemon %.1f, client %.1f)",
                    round, servedRates.last!, directRates.last!,
                    Double(events) / Double(directCommits), (commitSeconds - commitSecondsBefore) * 1000 / Double(directCommits),
                    ratios.last!, directCPU.last!, (daemonCPU.last ?? .nan) + clientCPU.last!, daemonCPU.last ?? .nan,
                    clientCPU.last!))
            }
        }
        struct Result: Encodable {
            var clients: Int
            var events: Int
            var rounds: Int
            var events_per_sec: Int
            var direct_events_per_sec: Int
            var ratio: Double
            var ratios: [Double]
            var p50_ms: Double
            var p99_ms: Double
            var batch_events_mean: Double?
            var commit_ms_mean: Double?
            var direct_cpu_us_per_event: Double
            var daemon_cpu_us_per_event: Double?
            var client_cpu_us_per_event: Double
        }
        let batch = Self.gauge("ledgerd_batch_events_mean", socket: socket)
        let commit = Self.gauge("ledgerd_commit_seconds_mean", socket: socket)
        let all = Latencies(sorted: latencies.sorted(), seconds: 0)
        let round3 = { (x: Double) -> Double in (x * 1000).rounded() / 1000 }
        let tenth = { (x: Double) -> Double in (x * 10).rounded() / 10 }
        let servedRate = Self.median(servedRates), directRate = Self.median(directRates)
        let ratio = round3(Self.median(ratios))
        let result = Result(clients: clients, events: served, rounds: rounds, events_per_sec: Int(servedRate),
                            direct_events_per_sec: Int(directRate), ratio: ratio,
                            ratios: ratios.map(round3), p50_ms: all.milliseconds(at: 0.5),
                            p99_ms: all.milliseconds(at: 0.99), batch_events_mean: batch.map { ($0 * 10).rounded() / 10 },
                            commit_ms_mean: commit.map { ($0 * 1e5).rounded() / 100 },
                            direct_cpu_us_per_event: tenth(Self.median(directCPU)),
                            daemon_cpu_us_per_event: daemonCPU.isEmpty ? nil : tenth(Self.median(daemonCPU)),
                            client_cpu_us_per_event: tenth(Self.median(clientCPU)))
        let what = commands ? "dossier.submit commands" : "appends"
        let medians = rounds > 1 ? " in \(rounds) rounds (medians)" : ""
        let perCommit = batch.map { String(format: "%.1f", $0) } ?? "?"
        print("served \(result.events) durable \(what) over \(clients) connections\(medians): \(result.events_per_sec) "
            + "events/s (direct \(result.direct_events_per_sec), ratio \(result.ratio)); p50 \(result.p50_ms) ms, "
            + "p99 \(result.p99_ms) ms; \(perCommit) events per commit, \(result.commit_ms_mean.map { "\($0)" } ?? "?") ms each; "
            + "CPU µs per event: direct \(result.direct_cpu_us_per_event), daemon "
            + "\(result.daemon_cpu_us_per_event.map { "\($0)" } ?? "?"), client \(result.client_cpu_us_per_event)")
        if json { print(encodeJSONLine(result)) }
    }

    /// The middle value (the mean of the middle two for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// A gauge's value from the daemon's `/metrics`, or `nil` when it cannot be read.
    static func gauge(_ name: String, socket: String) -> Double? {
        guard let response = try? UnixHTTPClient(socketPath: socket).request("GET", "/metrics"), response.status == 200
        else { return nil }
        for line in String(decoding: response.body, as: UTF8.self).split(separator: "\n")
        where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }

    /// Every request's latency of a run, sorted, and how long the run took.
    struct Latencies {
        let sorted: [Double]
        let seconds: Double

        var count: Int { sorted.count }

        /// The latency at quantile `q`, in milliseconds rounded to 0.01.
        func milliseconds(at q: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return (sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] * 1e5).rounded() / 100
        }
    }

    /// `clients` connections at once, each sending `perClient` requests (`request(client, n)`), all expecting
    /// `expect`.
    static func measure(socket: String, clients: Int, perClient: Int, expect: Int,
                        _ request: @escaping @Sendable (Int, Int) -> (path: String, body: String?)) async throws
        -> Latencies
    {
        let clock = ContinuousClock()
        let start = clock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for c in 0..<clients {
                group.addTask { try await runBenchConnection(socket: socket, requests: perClient, expect: expect) { request(c, $0) } }
            }
            var all = [Double]()
            for try await l in group { all += l }
            return all
        }
        return Latencies(sorted: latencies.sorted(), seconds: (clock.now - start).seconds)
    }

    /// Starts `ledgerd serve` as its own process and waits for its socket.
    static func startDaemon(store: String, socket: String, clients: Int) async throws -> Process {
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        daemon.arguments = ["serve", "--store", store, "--socket", socket, "--max-connections", "\(clients + 16)"]
        daemon.standardOutput = FileHandle.nullDevice
        try daemon.run()
        let deadline = Date().addingTimeInterval(30)
        while !((try? UnixHTTPClient(socketPath: socket).probe()) ?? false) {
            guard Date() < deadline, daemon.isRunning else { throw ValidationError("the daemon did not start") }
            try await Task.sleep(for: .milliseconds(50))
        }
        return daemon
    }

    /// Publishes the sample profile's reference data into a store (through the handlers) and returns a procedure
    /// received online and its agency, for `dossier.submit`.
    static func publishReference(into path: String) async throws -> (procedure: String, agency: String) {
        let sample = String(decoding: FixtureGenerator(profile: .sample, days: 1, seed: 2020).ndjson(), as: UTF8.self)
        let reference = sample.split(separator: "\n").filter { line in
            ["agency.define", "unit.define", "staff.assign", "procedure.publish", "calendar.publish", "policy.declare"]
                .contains { line.contains("\"type\":\"\($0)\"") }
        }
        let store = try Store.open(at: path)
        defer { store.close() }
        _ = try await CommandReplay.run(store: store, ndjson: Data(reference.joined(separator: "\n").utf8),
                                        principal: "import", quiet: true)
        let model = try LedgerService(store: store, durability: .durable).referenceData()
        guard let procedure = model.procedures.values.compactMap(\.last)
            .filter({ $0.onlineLevel >= 3 && $0.channels.contains(.online) }).map(\.code).sorted().first,
              let agency = model.agencies.keys.sorted().first
        else { throw ValidationError("the sample has no procedure received online") }
        return (procedure, agency)
    }

    /// A `dossier.submit` of a new dossier, as the portal sends it.
    static func submitRequest(client: Int, n: Int, _ submit: (procedure: String, agency: String)) -> (String, String?) {
        ("/commands/dossier.submit", """
            {"commandId":"\(UUID())","actor":{"staff":"portal","role":"applicant"},"body":{"dossier":"\(UUID())",\
            "procedure":"\(submit.procedure)","agency":"\(submit.agency)","channel":"online",\
            "applicantName":"Nguyễn Văn \(client)-\(n)","applicantId":"0790900\(client % 10)\(n % 10)"}}
            """)
    }

    /// Queue queries against a daemon serving an existing store (its projections caught up first): latency
    /// percentiles of `GET /queues` for each agency's processing tab in turn.
    func runQueries(store: String) async throws {
        var options = StoreOptions()
        options.readOnly = true
        let log = try Store.open(at: store, options: options)
        let events = log.head
        let agencies = try log.streams(prefix: "agency-", limit: 10_000).map { String($0.name.dropFirst(7)) }
        log.close()
        guard !agencies.isEmpty else { throw ValidationError("\(store) has no agencies to query") }
        let root = NSTemporaryDirectory() + "ledger-bench-queries-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let socket = root + "/ledgerd.sock"
        let daemon = try await Self.startDaemon(store: store, socket: socket, clients: clients)
        defer { if daemon.isRunning { daemon.terminate(); daemon.waitUntilExit() } }
        progress("waiting for the projections to reflect \(events) events…")
        let client = UnixHTTPClient(socketPath: socket)
        while (try? client.request("GET", "/ready"))?.status != 200 {
            guard daemon.isRunning else { throw ValidationError("the daemon stopped") }
            try await Task.sleep(for: .milliseconds(200))
        }
        progress("\(requests) queue queries over \(clients) connections…")
        let perClient = (requests + clients - 1) / clients
        let run = try await Self.measure(socket: socket, clients: clients, perClient: perClient, expect: 200) { c, r in
            let agency = agencies[(c * 7 + r) % agencies.count]
            return ("/queues?agency=\(agency)&tab=processing&limit=50&asOf=2020-05-06T10:00:00%2B07:00", nil)
        }
        struct Result: Encodable {
            var events: UInt64
            var clients: Int
            var requests: Int
            var requests_per_sec: Int
            var p50_ms: Double
            var p99_ms: Double
        }
        let result = Result(events: events, clients: clients, requests: run.count,
                            requests_per_sec: Int(Double(run.count) / run.seconds),
                            p50_ms: run.milliseconds(at: 0.5), p99_ms: run.milliseconds(at: 0.99))
        print("\(result.requests) queue queries over \(clients) connections at \(events) events: "
            + "\(result.requests_per_sec)/s; p50 \(result.p50_ms) ms, p99 \(result.p99_ms) ms")
        if json { print(encodeJSONLine(result)) }
    }
}
