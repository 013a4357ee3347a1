@testable import EventStore
import Foundation
import Testing

/// The index environment (`<store>/index/`): derived from the log, committed without fsync, caught up or rebuilt at
/// open. Every case compares what the reads by stream, category, type and id give with what the log holds, and
/// runs the store's own checks (every record's index entries, and no stray entry).
@Suite("The index beside the log", .serialized)
struct IndexTests {
    /// Appends `count` events over three streams of two categories and two types.
    static func appendSome(_ store: Store, _ count: Int, tag: String) async throws {
        for i in 0..<count {
            let stream = ["dossier-a", "dossier-b", "task-c"][i % 3]
            try await store.append(to: stream, [event(i % 2 == 0 ? "Even.v1" : "Odd.v1", "{\"\(tag)\":\(i)}")])
        }
    }

    /// Takes the event-id entry of the event at `position` out of the index of the (closed) store at `path`;
    /// returns the event's id.
    static func dropEventID(at position: UInt64, path: String) throws -> UUID {
        let env = try LMDBEnvironment(path: path + "/index", options: .init(
            mapSize: 1 << 30, maxDatabases: IndexDatabases.count + 2, maxReaders: 8))
        defer { env.close() }
        let dbs = try IndexDatabases(env)
        return try env.write { txn in
            let found = try txn.withCursor(dbs.eventIDs) { cursor -> UUID? in
                var entry = try cursor.get(.first)
                while let e = entry {
                    if e.value.nativeUInt64 == position { return UUID(bytes: e.key) }
                    entry = try cursor.get(.next)
                }
                return nil
            }
            let id = try #require(found, "no event-id entry for position \(position)")
            _ = try withUnsafeBytes(of: id.uuid) { try txn.delete(dbs.eventIDs, $0) }
            return id
        }
    }

    /// A new store of `events` events (``appendSome(_:_:tag:)``), closed; its directory and path.
    static func closedStore(events: Int) async throws -> (TemporaryDirectory, String) {
        let directory = TemporaryDirectory("index")
        let path = directory.sub("log")
        let store = try Store.create(at: path, origin: "test.ledger.local/index")
        try await appendSome(store, events, tag: "a")
        store.close()
        return (directory, path)
    }

    /// What the indexes answer, computed from the log by position, and compared with the reads that use them;
    /// `except` names an event whose id entry was taken out (the store's checks are then not run).
    static func expectIndexesAgree(_ store: Store, except: UUID? = nil,
                                   sourceLocation: SourceLocation = #_sourceLocation) throws {
        let all = try store.read(limit: 100_000, payloads: .none)
        #expect(UInt64(all.count) == store.head, sourceLocation: sourceLocation)
        for stream in Set(all.map(\.record.stream)) {
            let expected = all.filter { $0.record.stream == stream }.map(\.position)
            #expect(try store.readStream(stream, payloads: .none).map(\.position) == expected,
                    sourceLocation: sourceLocation)
            #expect(try store.streamInfo(stream)?.version == UInt64(expected.count), sourceLocation: sourceLocation)
        }
        for category in ["dossier", "task"] {
            let expected = all.filter { $0.record.category == category }.map(\.position)
            #expect(try store.readCategory(category, payloads: .none).map(\.position) == expected,
                    sourceLocation: sourceLocation)
        }
        for type in ["Even.v1", "Odd.v1"] {
            let expected = all.filter { $0.record.eventType == type }.map(\.position)
            #expect(try store.readType(type, payloads: .none).map(\.position) == expected,
                    sourceLocation: sourceLocation)
        }
        for e in all where e.record.eventID != except {
            #expect(try store.position(of: e.record.eventID) == e.position, sourceLocation: sourceLocation)
        }
        if except == nil { #expect(try store.check().events == store.head, sourceLocation: sourceLocation) }
    }

    @Test("an index left behind by a crash between the two commits is caught up at open; appends go on with the right versions")
    func behindIsCaughtUp() async throws {
        let directory = TemporaryDirectory("index")
        defer { directory.remove() }
        let path = directory.sub("log")
        let store = try Store.create(at: path, origin: "test.ledger.local/index")
        try await Self.appendSome(store, 30, tag: "first")
        store.close()
        // The index as it was after 30 events, then 40 more events reach both.
        try copySparse(path + "/index", to: directory.sub("index-30"))
        let more = try Store.open(at: path)
        try await Self.appendSome(more, 40, tag: "second")
        more.close()
        // Put the old index back: the log holds 70 events, the index names 30 (what a kill between the log's commit
        // and the index's leaves, many times over). One of its entries is taken out, so a rebuild would show.
        try FileManager.default.removeItem(atPath: path + "/index")
        try copySparse(directory.sub("index-30"), to: path + "/index")
        let third = try Self.dropEventID(at: 3, path: path)

        let progress = ProgressLog()
        var options = StoreOptions()
        options.indexProgress = { indexed, head in progress.add(indexed, head) }
        let reopened = try Store.open(at: path, options: options)
        defer { reopened.close() }
        #expect(progress.entries.last.map { $0.0 == 70 && $0.1 == 70 } == true, "\(progress.entries)")
        #expect(progress.entries.first.map { $0.0 > 30 } == true, "catching up starts after the 30 indexed events")
        #expect(try reopened.position(of: third) == nil, "caught up from position 30, not rebuilt")
        try Self.expectIndexesAgree(reopened, except: third)
        // Versions continue from the log's, not the old index's.
        let next = try await reopened.append(to: "dossier-a", expected: .exact(24), [event("Even.v1")])
        #expect(next.positions == [70])
        let stale = await #expect(throws: StoreError.self) {
            try await reopened.append(to: "task-c", expected: .exact(10), [event("Odd.v1")])
        }
        #expect(stale?.actualVersion == 23)
    }

    @Test("a missing index is rebuilt from the log; an index from another log or an index ahead of the log is rebuilt")
    func missingOrForeignIsRebuilt() async throws {
        let (directory, path) = try await Self.closedStore(events: 25)
        defer { directory.remove() }

        try FileManager.default.removeItem(atPath: path + "/index")
        let rebuilt = try Store.open(at: path)
        try Self.expectIndexesAgree(rebuilt)
        rebuilt.close()

        /// Puts the index of another store of `count` events in place of this store's, and reopens.
        func reopenWithIndex(of name: String, events count: Int) async throws {
            let other = try Store.create(at: directory.sub(name), origin: "test.ledger.local/index")
            try await Self.appendSome(other, count, tag: name)
            other.close()
            try FileManager.default.removeItem(atPath: path + "/index")
            try copySparse(directory.sub(name) + "/index", to: path + "/index")
            let reopened = try Store.open(at: path)
            defer { reopened.close() }
            #expect(reopened.head == 25)
            try Self.expectIndexesAgree(reopened)
        }
        // Another store with as many events: its index says "25 indexed" too, but of other events.
        try await reopenWithIndex(of: "other", events: 25)
        // An index ahead of the log (a log restored from an older copy beside a newer index).
        try await reopenWithIndex(of: "longer", events: 40)
    }

    @Test("an index still marked unsynced by another boot is rebuilt (a system crash may have torn it); by this boot it is kept")
    func markerOfAnotherBoot() async throws {
        let (directory, path) = try await Self.closedStore(events: 20)
        defer { directory.remove() }
        #expect(!FileManager.default.fileExists(atPath: path + "/index/unsynced"), "a clean close clears the marker")

        // Marked by this boot (a killed process): the index is trusted and kept, including a damage catching up
        // cannot see (one event-id entry gone).
        let dropped = try Self.dropEventID(at: 7, path: path)
        try (try #require(StoreIndex.currentBootID()) + "\n").write(toFile: path + "/index/unsynced", atomically: true,
                                                                       encoding: .utf8)
        let kept = try Store.open(at: path)
        #expect(FileManager.default.fileExists(atPath: path + "/index/unsynced"), "the writer marks the index unsynced")
        let error = #expect(throws: StoreError.self) { try kept.check() }
        #expect(error?.message.contains("event-id index") == true, "\(error?.message ?? "")")
        kept.close()

        // Marked by another boot: a reader does not trust it, and the writer rebuilds it, so the damage is gone.
        try "00000000-0000-0000-0000-000000000000\n".write(toFile: path + "/index/unsynced", atomically: true,
                                                           encoding: .utf8)
        var readOnly = StoreOptions()
        readOnly.readOnly = true
        let reader = try Store.open(at: path, options: readOnly)
        #expect(try reader.read(payloads: .none).count == 20)
        #expect((#expect(throws: StoreError.self) { try reader.readStream("dossier-a") })?.code == .readOnly)
        reader.close()
        let rebuilt = try Store.open(at: path)
        defer { rebuilt.close() }
        #expect(try rebuilt.position(of: dropped) == 7)
        try Self.expectIndexesAgree(rebuilt)
    }

    @Test("a rebuilt index still lists a subject's personal parts, so an erasure deletes every one of them")
    func rebuiltIndexErases() async throws {
        let directory = TemporaryDirectory("index")
        defer { directory.remove() }
        let path = directory.sub("log")
        let subject = UUID()
        var metadata = Metadata()
        metadata["subject"] = subject.uuidString.lowercased()
        let store = try Store.create(at: path, origin: "test.ledger.local/index")
        for i in 0..<6 {
            try await store.append(to: "dossier-\(i % 2)", [event("Noted.v1", "{\"i\":\(i)}", personal: "Lý Thị Mai \(i)",
                                                                metadata: i % 3 == 0 ? Metadata() : metadata)])
        }
        store.close()
        try FileManager.default.removeItem(atPath: path + "/index")
        let reopened = try Store.open(at: path)
        defer { reopened.close() }
        let before = try reopened.payloadStorage().parts
        try await reopened.eraseSubject(subject, reason: "yêu cầu xóa")
        #expect(try reopened.payloadStorage().parts == before - 4 + 1, "four parts deleted (the erasure entry adds one)")
        let events = try reopened.read(limit: 6)
        #expect(events.map { $0.personal != nil } == [true, false, false, true, false, false],
                "every part under the subject is gone, the others stay")
        #expect(try reopened.check().events == reopened.head)
    }

    @Test("a store opened read-only without an index reads by position and verifies; index reads say how to build it")
    func readOnlyWithoutIndex() async throws {
        let (directory, path) = try await Self.closedStore(events: 12)
        defer { directory.remove() }
        try FileManager.default.removeItem(atPath: path + "/index")

        var options = StoreOptions()
        options.readOnly = true
        let reader = try Store.open(at: path, options: options)
        #expect(try reader.read(payloads: .none).count == 12)
        #expect(try reader.verify(commitments: true).events == 12)
        let error = #expect(throws: StoreError.self) { try reader.readStream("dossier-a") }
        #expect(error?.code == .readOnly)
        #expect(error?.message.contains("open it once for writing") == true, "\(error?.message ?? "")")
        reader.close()
        #expect(!FileManager.default.fileExists(atPath: path + "/index"), "a read-only open writes nothing")
    }

    @Test("the index environment commits without fsync and the log with it; a backup carries both and opens whole")
    func durabilitySplitAndBackup() async throws {
        try await withStore { store, directory in
            try await Self.appendSome(store, 15, tag: "a")
            #expect(store.isDurable)
            let index = try #require(store.index)
            #expect(!index.env.isDurable)
            let head = try store.backup(to: directory.sub("backup"))
            #expect(head == 15)
            #expect(FileManager.default.fileExists(atPath: directory.sub("backup") + "/index/data.mdb"))
            var options = StoreOptions()
            options.readOnly = true
            let copy = try Store.open(at: directory.sub("backup"), options: options)
            defer { copy.close() }
            try Self.expectIndexesAgree(copy)
        }
    }

    @Test("a restore copies a backup's compact index, leaves a live store's sparse index and its lock files behind, and refuses a store still open")
    func copyForRestore() async throws {
        let directory = TemporaryDirectory("restore-copy")
        defer { directory.remove() }
        let path = directory.sub("log")
        let store = try Store.create(at: path, origin: "test.ledger.local/index")
        try await Self.appendSome(store, 20, tag: "r")
        _ = try store.backup(to: directory.sub("backup"))
        let open = #expect(throws: StoreError.self) { try Store.copyForRestore(from: path, to: directory.sub("a")) }
        #expect(open?.code == .alreadyOpen || open?.code == .locked, "\(open?.description ?? "copied")")
        store.close()

        try Store.copyForRestore(from: directory.sub("backup"), to: directory.sub("from-backup"))
        #expect(FileManager.default.fileExists(atPath: directory.sub("from-backup") + "/index/data.mdb"))
        try Store.copyForRestore(from: path, to: directory.sub("from-store"))
        let copied = try FileManager.default.contentsOfDirectory(atPath: directory.sub("from-store"))
        #expect(!copied.contains("index") && !copied.contains("lock.mdb") && !copied.contains("writer.lock"),
                "\(copied)")
        for name in ["from-backup", "from-store"] {
            let reopened = try Store.open(at: directory.sub(name))
            defer { reopened.close() }
            #expect(reopened.head == 20)
            try Self.expectIndexesAgree(reopened)
        }
        let twice = #expect(throws: StoreError.self) {
            try Store.copyForRestore(from: path, to: directory.sub("from-store"))
        }
        #expect(twice?.message.contains("already exists") == true)
    }
}

/// (indexed, head) pairs reported while catching up.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = [(UInt64, UInt64)]()

    func add(_ indexed: UInt64, _ head: UInt64) { lock.withLock { stored.append((indexed, head)) } }

    var entries: [(UInt64, UInt64)] { lock.withLock { stored } }
}
