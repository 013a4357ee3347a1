import ArgumentParser
import EventStore
import Foundation

/// `ledgerd bench read`: a full scan of a store kept by `bench append --keep`, parsing every record and
/// decompressing every payload part (no JSON decoding), on one or more threads.
struct BenchReadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Scan a store: parse every record and decompress every payload part."
    )

    @Option(help: "The store to scan (made by `ledgerd bench append --keep DIR`).")
    var store: String

    @Option(help: "Threads scanning disjoint position ranges.")
    var threads = 1

    @Option(help: "Scans to run; the figure reported is the median.")
    var runs = 3

    @Flag(help: "Print the result as one JSON object on the last line.")
    var json = false

    mutating func validate() throws {
        guard threads > 0, runs > 0 else { throw ValidationError("--threads and --runs must be positive") }
    }

    func run() async throws {
        var options = StoreOptions()
        options.readOnly = true
        let log = try Store.open(at: store, options: options)
        defer { log.close() }
        let head = log.head
        guard head > 0 else { throw ValidationError("the store at \(store) holds no events") }
        var rates = [Double]()
        var checksum = 0
        for run in 1...runs {
            let clock = ContinuousClock()
            let start = clock.now
            let totals = try await withThrowingTaskGroup(of: (events: Int, bytes: Int).self) { group in
                for t in 0..<threads {
                    let from = head * UInt64(t) / UInt64(threads)
                    let to = head * UInt64(t + 1) / UInt64(threads)
                    group.addTask {
                        var events = 0
                        var bytes = 0
                        try log.scanRecords(from: from, to: to, payloads: .all) { _, facts, personal in
                            events += 1
                            bytes += (facts?.count ?? 0) + (personal?.count ?? 0)
                            return true
                        }
                        return (events, bytes)
                    }
                }
                return try await group.reduce(into: (events: 0, bytes: 0)) { $0.events += $1.events; $0.bytes += $1.bytes }
            }
            let seconds = (clock.now - start).seconds
            guard totals.events == Int(head) else {
                throw ValidationError("scanned \(totals.events) events of \(head)")
            }
            checksum = totals.bytes
            rates.append(Double(totals.events) / seconds)
            progress("run \(run): \(totals.events) events in \(String(format: "%.3f", seconds)) s")
        }
        let median = rates.sorted()[rates.count / 2]
        let result = BenchReadResult(events: Int(head), threads: threads, runs: runs, eventsPerSec: median,
                                     payloadBytes: checksum)
        print(String(format: "read: %d events, %d thread(s): %.0f events/s (median of %d)", result.events, threads,
                     median, runs))
        if json { print(encodeJSONLine(result)) }
    }
}

/// The figures of one `bench read` run.
struct BenchReadResult: Encodable {
    var events: Int
    var threads: Int
    var runs: Int
    var eventsPerSec: Double
    var payloadBytes: Int

    enum CodingKeys: String, CodingKey {
        case events, threads, runs
        case eventsPerSec = "events_per_sec"
        case payloadBytes = "payload_bytes"
    }
}
