// A second process for the EventStore tests.
//
//   ledger-test-helper append STORE_DIR [WRITERS]
//       Appends under load and reports every acknowledged append on standard output as
//       `ack <first position> <count> <id of the first event>`, written with write(2) straight to the pipe (no
//       buffering) and only after the append returned. The crash test SIGKILLs it at random moments.
//   ledger-test-helper project STORE_DIR STATE_DIR [domain]
//       Folds the store into the event-tally projection (or the read model's, with `domain`) in small batches, printing `at <position>` after each
//       batch (its checkpoint is committed with it); the projection test SIGKILLs it mid-way and runs it again.
//   ledger-test-helper follow STORE_DIR COUNT
//       Opens the store read-only beside its writer and reads it again and again (records and payloads) until it
//       has seen COUNT events with gapless positions and intact facts; prints `seen <n>` as it goes and
//       `ok <n> map=<bytes>` at the end (exit 0), or `error …` (exit 1).
import EventStore
import Foundation
import Projections

#if canImport(Glibc)
import Glibc
#endif

func report(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if n <= 0 { exit(3) }
        offset += n
    }
}

func usage() -> Never {
    FileHandle.standardError.write(Data("usage: ledger-test-helper append STORE_DIR [WRITERS] | follow STORE_DIR COUNT\n".utf8))
    exit(64)
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else { usage() }

switch arguments[1] {
case "append":
    let writers = arguments.count >= 4 ? Int(arguments[3]) ?? 8 : 8
    let store = try Store.openOrCreate(at: arguments[2], origin: "crash.ledger.local/test")
    report("ready head=\(store.head) durable=\(store.isDurable ? 1 : 0)")
    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<writers {
            group.addTask {
                var i = 0
                while true {
                    i += 1
                    let count = 1 + (i * 7 + writer) % 5
                    let events = (0..<count).map { k in
                        EventData(id: UUID.v7(), type: "Tick.v1",
                                  facts: Array("{\"writer\":\(writer),\"i\":\(i),\"k\":\(k)}".utf8),
                                  actor: "crash-\(writer)")
                    }
                    let result = try await store.append(to: "tick-\(writer)-\(i % 50)", events)
                    report("ack \(result.positions[0]) \(count) \(events[0].id!)")
                }
            }
        }
        try await group.waitForAll()
    }

case "project":
    guard arguments.count >= 4 else { usage() }
    var options = StoreOptions()
    options.readOnly = true
    let store = try Store.open(at: arguments[2], options: options)
    // `domain` folds the read model's projections instead of the event tally.
    let projections: [any Projection] = arguments.count > 4 && arguments[4] == "domain"
        ? ReadModel.projections : [EventTally()]
    let runner = try ProjectionRunner(store: store, statePath: arguments[3], projections: projections, batchSize: 32,
                                      mapSize: 1 << 30)
    report("start \(try runner.checkpoint(of: projections[0]))")
    try runner.catchUp { position, _ in
        report("at \(position)")
        usleep(1_000)
    }
    report("done " + (try projections.map { try runner.digest(of: $0) }.joined(separator: ",")))

case "follow":
    guard arguments.count >= 4, let target = UInt64(arguments[3]) else { usage() }
    var options = StoreOptions()
    options.readOnly = true
    options.mapSize = 1 << 20
    let store = try Store.open(at: arguments[2], options: options)
    var seen: UInt64 = 0
    let deadline = Date().addingTimeInterval(120)
    while seen < target {
        guard Date() < deadline else {
            report("error timed out at \(seen) of \(target)")
            exit(1)
        }
        do {
            try store.scan(from: seen) { event in
                guard event.position == seen else {
                    report("error gap: expected position \(seen), read \(event.position)")
                    exit(1)
                }
                guard let facts = event.facts, String(decoding: facts, as: UTF8.self).hasPrefix("{\"n\":") else {
                    report("error facts of position \(seen) unreadable")
                    exit(1)
                }
                seen += 1
                return true
            }
        } catch {
            report("error \(error)")
            exit(1)
        }
        report("seen \(seen)")
        usleep(2_000)
    }
    report("ok \(seen) map=\(store.mapSize)")
    store.close()

default:
    usage()
}
