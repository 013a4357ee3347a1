// Appends under load to the store named by the first argument and reports every acknowledged append on standard
// output as `ack <first position> <count> <event id of the first event>`, written with write(2) straight to the
// pipe (no buffering), only after the append returned. The crash test SIGKILLs it at random moments.
import EventStore
import Foundation

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

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: ledger-crash-appender STORE_DIR [WRITERS]\n".utf8))
    exit(64)
}
let writers = arguments.count >= 3 ? Int(arguments[2]) ?? 8 : 8
let store = try Store.openOrCreate(at: arguments[1], origin: "crash.ledger.local/test")
report("ready head=\(store.head) durable=\(store.isDurable ? 1 : 0)")

try await withThrowingTaskGroup(of: Void.self) { group in
    for writer in 0..<writers {
        group.addTask {
            var i = 0
            while true {
                i += 1
                let count = 1 + (i * 7 + writer) % 5
                let events = (0..<count).map { k in
                    EventData(id: UUID.v7(), type: "Tick.v1", facts: Array("{\"writer\":\(writer),\"i\":\(i),\"k\":\(k)}".utf8),
                              actor: "crash-\(writer)")
                }
                let result = try await store.append(to: "tick-\(writer)-\(i % 50)", events)
                report("ack \(result.positions[0]) \(count) \(events[0].id!)")
            }
        }
    }
    try await group.waitForAll()
}
