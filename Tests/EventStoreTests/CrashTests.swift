import EventStore
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// kill -9 of a process appending under load, again and again.
///
/// What this proves: LMDB commits are atomic (a batch is either whole or absent after the kill) and the store
/// acknowledges only after its commit returned (every position the helper reported is present). It does not
/// prove power-cut durability — a SIGKILL leaves the kernel's page cache intact — which is why the test also
/// checks the environment was committing with fsync (no NOSYNC / NOMETASYNC / MAPASYNC): with those flags the same
/// acknowledgements would also survive a power cut.
@Suite("Crash safety", .serialized)
struct CrashTests {
    struct Ack: Hashable {
        var position: UInt64
        var count: UInt64
        var firstID: UUID
    }

    @Test("SIGKILL at random moments, 24 times: every acknowledged event survives and positions stay gapless")
    func killNineUnderLoad() async throws {
        let directory = TemporaryDirectory("crash")
        defer { directory.remove() }
        let path = directory.sub("log")
        #expect(FileManager.default.isExecutableFile(atPath: helperExecutable.path), "build the ledger-test-helper executable")
        var acks = [Ack]()
        var rounds = 0
        for round in 0..<24 {
            let process = Process()
            process.executableURL = helperExecutable
            process.arguments = ["append", path, "8"]
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            try out.fileHandleForWriting.close()
            try err.fileHandleForWriting.close()
            // The kill lands at a random moment after the helper said it is appending (not after its start: on a
            // loaded machine opening the store can take longer than the window).
            let (started, start) = AsyncStream.makeStream(of: Void.self)
            async let output = readToEnd(out.fileHandleForReading) {
                start.yield()
                start.finish()
            }
            async let errors = readToEnd(err.fileHandleForReading)
            var waiting = started.makeAsyncIterator()
            _ = await waiting.next()
            try await Task.sleep(for: .milliseconds(Int.random(in: 50...450)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let stderr = String(decoding: await errors, as: UTF8.self)
            #expect(process.terminationReason == .uncaughtSignal, "round \(round): \(stderr)")
            let lines = String(decoding: await output, as: UTF8.self).split(separator: "\n")
            let ready = try #require(lines.first, "round \(round): the helper printed nothing")
            #expect(ready.hasSuffix("durable=1"), "the store must commit with fsync: \(ready)")
            var roundAcks = 0
            for line in lines.dropFirst() {
                let parts = line.split(separator: " ")
                guard parts.count == 4, parts[0] == "ack" else { continue }  // a line cut by the kill
                guard let position = UInt64(parts[1]), let count = UInt64(parts[2]),
                      let id = UUID(uuidString: String(parts[3])) else { continue }
                acks.append(Ack(position: position, count: count, firstID: id))
                roundAcks += 1
            }
            if roundAcks > 0 { rounds += 1 }
        }
        #expect(rounds >= 20, "at least 20 kills must have hit a process that was acknowledging appends")

        let store = try Store.open(at: path)
        defer { store.close() }
        let all = try store.read(limit: 10_000_000, payloads: .facts)
        #expect(all.map(\.position) == Array(0..<store.head), "positions must be gapless")
        for ack in acks {
            let first = try #require(try store.event(at: ack.position), "acknowledged position \(ack.position) lost")
            #expect(first.record.eventID == ack.firstID, "position \(ack.position) holds another event")
            let batch = try store.read(from: ack.position, limit: Int(ack.count))
            #expect(batch.count == Int(ack.count))
            #expect(Set(batch.map(\.record.stream)).count == 1)
        }
        var byStream = [String: [RecordedEvent]]()
        for e in all { byStream[e.record.stream, default: []].append(e) }
        for (_, events) in byStream {
            #expect(events.map(\.record.streamVersion) == Array(1...UInt64(events.count)))
            #expect(events.map(\.record.previousPosition) == [nil] + events.dropLast().map(\.position))
        }
        #expect(acks.count > 100)

        // Records and tree were written in the same transactions: the stored tree is the tree of the records.
        var builder = MerkleVerification.RootBuilder()
        try store.scanRecords(payloads: .none) { view, _, _ in
            builder.append(leafHash: TreeHash.leaf(view.bytes))
            return true
        }
        #expect(builder.size == store.head)
        #expect(try store.rootHash() == builder.root)
        #expect(try store.check().events == store.head)
    }
}
