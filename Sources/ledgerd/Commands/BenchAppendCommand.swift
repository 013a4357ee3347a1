import ArgumentParser
import EventStore
import Foundation
import Synchronization

/// `ledgerd bench append`: synthetic dossier events over ~5 000 open streams, W concurrent appenders, each append
/// an atomic multi-stream batch of B events with expectation `any`.
struct BenchAppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append synthetic dossier events and report throughput and storage."
    )

    @Option(help: "Number of events to append.")
    var events = 200_000

    @Option(help: "Concurrent appenders.")
    var writers = 1

    @Option(help: "Events per append (one atomic multi-stream append).")
    var batch = 1_000

    @Option(help: "durable (fsync per commit) or relaxed.")
    var durability: DurabilityOption = .durable

    @Flag(help: "Print the result as one JSON object on the last line.")
    var json = false

    @Option(help: "Keep the store in this directory (it must not exist) instead of a temporary one.")
    var keep: String?

    @Flag(help: "Keep no Merkle tree (to measure the tree's cost against a run with it).")
    var noTree = false

    @Option(help: "Seed of the synthetic events.")
    var seed: UInt64 = 42

    mutating func validate() throws {
        guard events > 0, writers > 0, batch > 0 else {
            throw ValidationError("--events, --writers and --batch must be positive")
        }
    }

    func run() async throws {
        let directory: String
        if let keep {
            guard !FileManager.default.fileExists(atPath: keep) else {
                throw ValidationError("--keep \(keep) already exists; name a new directory")
            }
            directory = keep
        } else {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-bench-\(UUID())").path
        }
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: directory) } }

        progress("generating \(events) synthetic events (seed \(seed))…")
        let workload = SyntheticWorkload(events: events, seed: seed)
        let chunks = workload.chunks(of: batch)
        var options = StoreOptions()
        options.merkleTree = !noTree
        let store = try Store.create(at: directory, origin: "bench.ledger.local/append", options: options)
        let mode: Durability = durability == .durable ? .durable : .relaxed

        progress("appending with \(writers) writer(s), batch \(batch), \(durability.rawValue)…")
        let seconds = try await Self.append(chunks, to: store, writers: writers, durability: mode)
        let storage = try store.payloadStorage()
        let writer = store.writerStatistics
        let result = BenchAppendResult(
            events: events, writers: writers, batch: batch, durability: durability.rawValue, seconds: seconds,
            eventsPerSec: Double(events) / seconds, bytesOnDisk: store.bytesInUse,
            payloadRawBytes: workload.rawPayloadBytes, payloadStoredBytes: storage.storedBytes - storage.saltBytes,
            saltBytes: storage.saltBytes, dictionaryID: Int(store.currentDictionaryID), tree: !noTree,
            commits: writer.commits, writerApplySeconds: writer.applySeconds,
            writerCommitSeconds: writer.commitSeconds - writer.applySeconds, encodingSeconds: store.encodingSeconds)
        store.close()
        result.print(json: json)
    }
}

extension BenchAppendCommand {
    /// Appends `chunks` with `writers` concurrent writers (each takes the next chunk); returns the seconds taken,
    /// including the final sync of a relaxed run.
    static func append(_ chunks: [[StreamAppend]], to store: Store, writers: Int, durability mode: Durability)
        async throws -> Double
    {
        let next = SharedCounter()
        let clock = ContinuousClock()
        let start = clock.now
        let ticker = ProgressTicker(total: chunks.count)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<writers {
                group.addTask {
                    while true {
                        let index = next.next()
                        guard index < chunks.count else { return }
                        try await store.append(chunks[index], durability: mode)
                        ticker.step()
                    }
                }
            }
            try await group.waitForAll()
        }
        if mode == .relaxed { try await store.sync() }
        return (clock.now - start).seconds
    }
}

/// `--durability`.
enum DurabilityOption: String, ExpressibleByArgument, CaseIterable {
    case durable, relaxed
}

/// The figures of one `bench append` run.
struct BenchAppendResult: Encodable {
    var events: Int
    var writers: Int
    var batch: Int
    var durability: String
    var seconds: Double
    var eventsPerSec: Double
    var bytesOnDisk: Int
    var payloadRawBytes: Int
    var payloadStoredBytes: Int
    var saltBytes: Int
    var dictionaryID: Int
    var tree: Bool
    /// Write transactions committed.
    var commits: Int
    /// Seconds the writer thread spent applying appends inside its transactions.
    var writerApplySeconds: Double
    /// Seconds spent in LMDB's commits (page writes and fsync).
    var writerCommitSeconds: Double
    /// Seconds the appenders spent encoding (summed over appenders).
    var encodingSeconds: Double

    enum CodingKeys: String, CodingKey {
        case events, writers, batch, durability, seconds
        case eventsPerSec = "events_per_sec"
        case bytesOnDisk = "bytes_on_disk"
        case payloadRawBytes = "payload_raw_bytes"
        case payloadStoredBytes = "payload_stored_bytes"
        case saltBytes = "salt_bytes"
        case dictionaryID = "dictionary_id"
        case tree, commits
        case writerApplySeconds = "writer_apply_seconds"
        case writerCommitSeconds = "writer_commit_seconds"
        case encodingSeconds = "encoding_seconds"
    }

    func print(json: Bool) {
        let ratio = Double(payloadStoredBytes) / Double(max(payloadRawBytes, 1))
        Swift.print(String(format: "append: %d events, %d writer(s), batch %d, %@%@: %.2f s, %.0f events/s; "
            + "%d bytes on disk; payloads stored %.3f of raw (salts apart)",
            events, writers, batch, durability, tree ? "" : ", no tree", seconds, eventsPerSec, bytesOnDisk, ratio))
        Swift.print(String(format: "  writer: %d commits; %.2f s applying, %.2f s in LMDB commits (page writes, fsync); "
            + "appenders spent %.2f s encoding", commits, writerApplySeconds, writerCommitSeconds, encodingSeconds))
        if json { Swift.print(encodeJSONLine(self)) }
    }
}
