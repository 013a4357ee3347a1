@testable import EventStore
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Map growth, readers beside the writer, disk full, backup, checks", .serialized)
struct StoreServicesTests {
    static func batch(_ start: Int, _ count: Int) -> [StreamAppend] {
        var byStream = [String: [EventData]]()
        for n in start..<(start + count) {
            byStream["d-\(n % 97)", default: []].append(
                event("Grown.v1", "{\"n\":\(n),\"unit\":\"Sở Nội vụ\",\"note\":\"Đã kiểm tra thành phần hồ sơ\"}"))
        }
        return byStream.keys.sorted().map { StreamAppend(stream: $0, events: byStream[$0]!) }
    }

    @Test("a 1 MiB map grows to hold 100 000 events while a second process reads it read-only")
    func mapGrowthWithReaderProcess() async throws {
        let directory = TemporaryDirectory("grow")
        defer { directory.remove() }
        var options = StoreOptions()
        options.mapSize = 1 << 20
        let store = try Store.create(at: directory.sub("log"), origin: "o", options: options)
        defer { store.close() }
        try await store.append(Self.batch(0, 10))

        let follower = Process()
        follower.executableURL = helperExecutable
        follower.arguments = ["follow", directory.sub("log"), "100000"]
        let out = Pipe()
        follower.standardOutput = out
        follower.standardError = out
        try follower.run()
        try out.fileHandleForWriting.close()
        async let output = readToEnd(out.fileHandleForReading)

        var n = 10
        while n < 100_000 {
            let count = min(1_000, 100_000 - n)
            try await store.append(Self.batch(n, count), durability: n % 3_000 == 10 ? .durable : .relaxed)
            n += count
        }
        try await store.sync()
        #expect(store.head == 100_000)
        #expect(store.mapSize > 1 << 20, "the map must have grown")
        follower.waitUntilExit()
        let lines = String(decoding: await output, as: UTF8.self).split(separator: "\n")
        #expect(follower.terminationStatus == 0, "\(lines.suffix(3))")
        #expect(lines.last?.hasPrefix("ok 100000") == true, "\(lines.suffix(3))")
        #expect(lines.filter { $0.hasPrefix("seen") }.count > 1, "the follower should have read while the log grew")
        let report = try store.check()
        #expect(report.events == 100_000)
    }

    @Test("a full disk fails the batch with a clear error, writes nothing, and the store works once space is freed")
    func diskFull() async throws {
        let directory = TemporaryDirectory("enospc")
        defer { directory.remove() }
        let mountPoint = directory.sub("small")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard mount("tmpfs", mountPoint, "tmpfs", 0, "size=4m") == 0 else {
            print("skipped: cannot mount a 4 MiB tmpfs here (\(String(cString: strerror(errno)))); the disk-full test "
                + "needs root and CAP_SYS_ADMIN")
            return
        }
        defer { umount2(mountPoint, Int32(MNT_DETACH)) }
        let filler = mountPoint + "/filler"
        #expect(FileManager.default.createFile(atPath: filler, contents: Data(count: 1 << 20)))
        var options = StoreOptions()
        options.mapSize = 64 << 20
        options.dictionaryTrainingThreshold = 0
        let store = try Store.create(at: mountPoint + "/log", origin: "o", options: options)
        defer { store.close() }
        var n = 0
        var failure: StoreError?
        while failure == nil && n < 200_000 {
            do {
                try await store.append(Self.batch(n, 500))
                n += 500
            } catch let error as StoreError {
                failure = error
            }
        }
        let error = try #require(failure, "the 4 MiB disk never filled")
        #expect(error.code == .diskFull, "\(error)")
        #expect(error.message.contains("free space"))
        #expect(store.head == UInt64(n), "the failed batch must leave nothing behind")
        #expect(try store.check().events == UInt64(n))

        try FileManager.default.removeItem(atPath: filler)
        let after = try await store.append(Self.batch(n, 10))
        #expect(after.positions.first == UInt64(n))
        #expect(try store.check().events == UInt64(n + 10))
    }

    @Test("an online backup taken while appends continue opens as a store and passes its checks")
    func backupWhileWriting() async throws {
        try await withStore { store, directory in
            try await store.append(Self.batch(0, 2_000))
            async let writes: Void = {
                var n = 2_000
                while n < 12_000 {
                    try await store.append(Self.batch(n, 200))
                    n += 200
                }
            }()
            try await Task.sleep(for: .milliseconds(20))
            let copied = try store.backup(to: directory.sub("backup"))
            try await writes
            #expect(copied >= 2_000 && copied <= 12_000)

            let backup = try Store.open(at: directory.sub("backup"))
            defer { backup.close() }
            #expect(backup.origin == store.origin)
            #expect(backup.head == copied)
            #expect(try backup.check().events == copied)
            let original = try store.read(limit: Int(copied))
            #expect(try backup.read(limit: Int(copied)) == original)
            // The restored store carries on from where the copy ends.
            let next = try await backup.append(Self.batch(Int(copied), 5))
            #expect(next.positions.first == copied)

            let again = #expect(throws: StoreError.self) { try store.backup(to: directory.sub("backup")) }
            #expect(again?.code == .alreadyExists)
        }
    }

    @Test("the store's checks report a changed payload part or a broken index precisely")
    func checksFindDamage() async throws {
        try await withStore { store, _ in
            try await store.append(Self.batch(0, 300))
            #expect(try store.check().partsVerified == 300)
            // Another part's bytes put under position 5: a well-formed part that does not match the commitment.
            let key5 = StoreDatabases.payloadKey(5, personal: false)
            let original = try store.env.read { txn in Array(try txn.get(store.dbs.payloads, integer: key5)!) }
            try store.env.write { txn in
                let other = Array(try txn.get(store.dbs.payloads, integer: StoreDatabases.payloadKey(9, personal: false))!)
                try other.withUnsafeBytes { try txn.put(store.dbs.payloads, integer: key5, $0) }
            }
            let error = #expect(throws: StoreError.self) { try store.check() }
            #expect(error?.code == .corrupt)
            #expect(error?.position == 5)
            #expect(error?.message.contains("facts part") == true, "\(error?.message ?? "")")

            // Repaired, then the event-id index loses position 7's entry.
            try store.env.write { txn in
                try original.withUnsafeBytes { try txn.put(store.dbs.payloads, integer: key5, $0) }
            }
            let id = try #require(try store.event(at: 7)).record.eventID
            try #require(store.index).env.write { itxn in
                _ = try withUnsafeBytes(of: id.uuid) { try itxn.delete(store.idbs.eventIDs, $0) }
            }
            let index = #expect(throws: StoreError.self) { try store.check() }
            #expect(index?.position == 7)
            #expect(index?.message.contains("event-id index") == true)
        }
    }
}
