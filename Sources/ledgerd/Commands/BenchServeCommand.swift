import ArgumentParser
import EventStore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

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
    @Flag(help: "Print the result as one JSON object on the last line.")
    var json = false

    func run() async throws {
        let root = NSTemporaryDirectory() + "ledger-bench-serve-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }

        // The baseline: the same number of single-event durable appends, straight into a store.
        progress("direct: \(events) appends, \(clients) writers, batch 1, durable…")
        let direct = try Store.create(at: root + "/direct", origin: "bench.example/direct")
        let chunks = SyntheticWorkload(events: events, seed: 7).chunks(of: 1)
        let directSeconds = try await BenchAppendCommand.append(chunks, to: direct, writers: clients, durability: .durable)
        direct.close()

        // The daemon, as its own process.
        let store = root + "/served"
        _ = try InitCommand.initialise(store: store, origin: "bench.example/served", keyPath: store + ".key",
                                       configPath: store + ".toml")
        let socket = root + "/ledgerd.sock"
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        daemon.arguments = ["serve", "--store", store, "--socket", socket, "--max-connections", "\(clients + 16)"]
        daemon.standardOutput = FileHandle.nullDevice
        try daemon.run()
        defer { if daemon.isRunning { daemon.terminate(); daemon.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(30)
        while !((try? UnixHTTPClient(socketPath: socket).probe()) ?? false) {
            guard Date() < deadline, daemon.isRunning else { throw ValidationError("the daemon did not start") }
            try await Task.sleep(for: .milliseconds(50))
        }

        progress("served: \(events) appends over \(clients) connections…")
        let perClient = (events + clients - 1) / clients
        let clock = ContinuousClock()
        let start = clock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for c in 0..<clients {
                group.addTask { try await Self.client(socket: socket, index: c, requests: perClient) }
            }
            var all = [Double]()
            for try await l in group { all += l }
            return all
        }
        let seconds = (clock.now - start).seconds
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        struct Result: Encodable {
            var clients: Int
            var events: Int
            var events_per_sec: Int
            var direct_events_per_sec: Int
            var ratio: Double
            var p50_ms: Double
            var p99_ms: Double
        }
        let rate = Double(sorted.count) / seconds
        let directRate = Double(events) / directSeconds
        let result = Result(clients: clients, events: sorted.count, events_per_sec: Int(rate),
                            direct_events_per_sec: Int(directRate), ratio: (rate / directRate * 1000).rounded() / 1000,
                            p50_ms: (percentile(0.5) * 1e5).rounded() / 100, p99_ms: (percentile(0.99) * 1e5).rounded() / 100)
        print("served \(result.events) durable appends over \(clients) connections: \(result.events_per_sec) events/s "
            + "(direct \(result.direct_events_per_sec), ratio \(result.ratio)); p50 \(result.p50_ms) ms, p99 \(result.p99_ms) ms")
        if json { print(encodeJSONLine(result)) }
    }

    /// One keep-alive connection sending `requests` raw appends one after another; returns each latency in seconds.
    static func client(socket: String, index: Int, requests: Int) async throws -> [Double] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(unixDomainSocketPath: socket) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        var latencies = [Double]()
        latencies.reserveCapacity(requests)
        try await channel.executeThenClose { inbound, outbound in
            var responses = inbound.makeAsyncIterator()
            let clock = ContinuousClock()
            for r in 0..<requests {
                let body = ByteBuffer(string: #"{"events":[{"type":"Bench.v1","facts":{"client":\#(index),"n":\#(r)}}]}"#)
                var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/streams/bench-\(index)/events")
                head.headers.add(name: "host", value: "ledgerd")
                head.headers.add(name: "content-type", value: "application/json")
                head.headers.add(name: "content-length", value: "\(body.readableBytes)")
                let start = clock.now
                try await outbound.write(.head(head))
                try await outbound.write(.body(.byteBuffer(body)))
                try await outbound.write(.end(nil))
                var status = 0
                while let part = try await responses.next() {
                    if case .head(let h) = part { status = Int(h.status.code) }
                    if case .end = part { break }
                }
                guard status == 201 else { throw ValidationError("an append was answered \(status)") }
                latencies.append((clock.now - start).seconds)
            }
        }
        return latencies
    }
}
