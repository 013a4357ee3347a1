internal import CLMDB
import Foundation
import Synchronization

/// An append-only event log in an LMDB environment: records, payload parts, indexes and a group-commit writer.
///
/// One global log per store; every event gets a gapless global position (the future Merkle leaf index), a version
/// in its stream, and is found by stream, category, type and id. Domain-blind: it knows streams and bytes.
///
/// ```swift
/// let store = try Store.create(at: "/var/lib/ledger/store", origin: "ledger.example/dossiers")
/// let result = try await store.append(to: "dossier-1", expected: .noStream,
///                                     [EventData(type: "DossierSubmitted.v1", facts: bytes)])
/// let events = try store.readStream("dossier-1")
/// await store.close()
/// ```
///
/// Threading: appends may come from any task; they are committed by one writer thread. Reads run on the calling
/// thread in short read transactions and never block the writer. One process may open a store for writing (an
/// `flock` guards it); others may open it with ``StoreOptions/readOnly``.
public final class Store: Sendable {
    /// The directory holding the environment.
    public let path: String
    /// The log's origin, fixed at creation.
    public let origin: String
    /// The options the store was opened with.
    public let options: StoreOptions

    let env: LMDBEnvironment
    let dbs: StoreDatabases
    /// The stream, event-id, category and type indexes (their own unsynced environment); `nil` only in a store
    /// opened read-only that has none yet.
    let index: StoreIndex?
    let codec: PayloadCodec
    let gate = ResizeGate()
    let writer: Writer?
    private let lock: StoreLock
    private let closed = Atomic<Bool>(false)
    /// Nanoseconds callers spent preparing appends (validation, salts, commitments, compression, records).
    let encodeNanoseconds = Atomic<Int>(0)
    let training = DictionaryTraining()
    /// Waiters for the head to pass a position (subscriptions, projections).
    let commits = CommitSignal()
    /// When this store last signed a checkpoint at the bounded cadence.
    let lastSigning = Mutex<ContinuousClock.Instant?>(nil)

    /// The record format written into new stores; a store of a newer format is refused.
    public static let storeFormat: UInt32 = 1

    // MARK: - Opening

    /// Creates a new store in `path` (made if missing; it must not hold a store yet).
    ///
    /// - Parameters:
    ///   - path: A directory; created with mode 0750 when missing.
    ///   - origin: The log origin (1–255 bytes), e.g. `ledger.agency.example/dossiers`; fixed from now on.
    /// - Throws: ``StoreError`` `.alreadyExists`, `.invalidArgument`, `.locked`, `.storage`.
    public static func create(at path: String, origin: String, options: StoreOptions = StoreOptions()) throws -> Store {
        try validateName(origin, "log origin", minimum: 1)
        if FileManager.default.fileExists(atPath: path + "/data.mdb") {
            throw StoreError(.alreadyExists, "a store already exists at \(path); open it instead of creating it")
        }
        return try Store(path: path, origin: origin, options: options)
    }

    /// Opens an existing store.
    ///
    /// - Throws: ``StoreError`` `.notFound`, `.unsupportedFormat`, `.locked`, `.alreadyOpen`, `.storage`.
    public static func open(at path: String, options: StoreOptions = StoreOptions()) throws -> Store {
        guard FileManager.default.fileExists(atPath: path + "/data.mdb") else {
            throw StoreError(.notFound, "no store at \(path); create one with an origin first (`ledgerd init`)")
        }
        return try Store(path: path, origin: nil, options: options)
    }

    /// Opens the store at `path`, creating it with `origin` when there is none.
    public static func openOrCreate(at path: String, origin: String, options: StoreOptions = StoreOptions()) throws
        -> Store
    {
        if FileManager.default.fileExists(atPath: path + "/data.mdb") { return try open(at: path, options: options) }
        return try create(at: path, origin: origin, options: options)
    }

    private init(path: String, origin newOrigin: String?, options: StoreOptions) throws {
        if newOrigin != nil {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o750])
        }
        let lock = try StoreLock(directory: path, exclusive: !options.readOnly)
        do {
            let env = try LMDBEnvironment(path: path, options: .init(
                mapSize: options.mapSize, maxDatabases: StoreDatabases.count + IndexDatabases.count + 2,
                maxReaders: options.maxReaders, readOnly: options.readOnly))
            let dbs = try StoreDatabases(env)
            let origin = try Self.checkMeta(env, dbs, path: path, newOrigin: newOrigin, newTree: options.merkleTree)
            if newOrigin != nil {
                fsyncDirectory(path)
                fsyncDirectory((path as NSString).deletingLastPathComponent)
            }
            let codec = PayloadCodec(level: options.compressionLevel)
            let state = try Self.loadState(env, dbs, codec: codec)
            let index = options.readOnly
                ? try StoreIndex.openReadOnly(storePath: path, options: options)
                : try StoreIndex.openForWriting(storePath: path, options: options)
            if !options.readOnly {
                // Stores written before the index had its own environment kept it in the log's: drop it there (the
                // index is rebuilt from the log below).
                for name in IndexDatabases.names { _ = try env.dropDatabaseIfPresent(name) }
            }
            self.path = path
            self.index = index
            self.origin = origin
            self.options = options
            self.env = env
            self.dbs = dbs
            self.codec = codec
            self.lock = lock
            if options.readOnly {
                self.writer = nil
            } else {
                let commits = self.commits
                let writer = Writer(env: env, dbs: dbs, index: index!, codec: codec, gate: gate, origin: origin,
                                    maxBatchEvents: options.maxBatchEvents, state: state,
                                    onCommit: { commits.publish($0) })
                self.writer = writer
                try writer.catchUpIndex(progress: options.indexProgress)
                try markErasedSubjects()
                commits.publish(state.nextPosition)
                writer.start()
            }
        } catch let error as LMDBError {
            lock.release()
            throw StoreError(error, while: "opening the store at \(path)")
        } catch {
            lock.release()
            throw error
        }
    }

    /// Writes the meta entries of a new store, or checks those of an existing one; returns the origin.
    private static func checkMeta(_ env: LMDBEnvironment, _ dbs: StoreDatabases, path: String, newOrigin: String?,
                                  newTree: Bool) throws -> String
    {
        let existing = try Self.readMeta(env, dbs)
        if let existing {
            guard existing.format <= storeFormat else {
                throw StoreError(.unsupportedFormat, "the store at \(path) has format \(existing.format); this "
                    + "program reads format \(storeFormat) and older: upgrade ledgerd")
            }
            return existing.origin
        }
        guard let newOrigin else {
            throw StoreError(.notFound, "\(path) holds an LMDB environment but no store metadata")
        }
        guard !env.readOnly else { throw StoreError(.readOnly, "cannot create a store read-only") }
        try env.write { txn in
            try putMeta(txn, dbs, "format", withUnsafeBytes(of: storeFormat.bigEndian) { Array($0) })
            try putMeta(txn, dbs, "origin", Array(newOrigin.utf8))
            try putMeta(txn, dbs, "created_at", withUnsafeBytes(of: Writer.nowMicros().bigEndian) { Array($0) })
            try putMeta(txn, dbs, "tree", [newTree ? 1 : 0])
        }
        return newOrigin
    }

    private static func putMeta(_ txn: borrowing LMDBTransaction, _ dbs: StoreDatabases, _ key: String,
                                _ value: [UInt8]) throws {
        let k = Array(key.utf8)
        try k.withUnsafeBytes { k in try value.withUnsafeBytes { try txn.put(dbs.meta, k, $0) } }
    }

    private static func readMeta(_ env: LMDBEnvironment, _ dbs: StoreDatabases) throws
        -> (format: UInt32, origin: String)?
    {
        try env.read { txn in
            let format = try Array("format".utf8).withUnsafeBytes { try txn.get(dbs.meta, $0).map { Array($0) } }
            let origin = try Array("origin".utf8).withUnsafeBytes { try txn.get(dbs.meta, $0).map { Array($0) } }
            guard let format, format.count == 4, let origin else { return nil }
            let value = format.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) }
            return (value, String(decoding: origin, as: UTF8.self))
        }
    }

    /// Reads the log's counters the writer starts from (the index's come from ``Writer/loadIndexState()``) and
    /// installs every stored dictionary.
    private static func loadState(_ env: LMDBEnvironment, _ dbs: StoreDatabases, codec: PayloadCodec) throws
        -> WriterState
    {
        try env.read { txn in
            var state = WriterState(nextPosition: 0, lastRecordedAt: 0, nextStreamNumber: 1, nextCategoryNumber: 1,
                                    nextTypeNumber: 1)
            try txn.withCursor(dbs.records) { cursor in
                if let last = try cursor.get(.last) {
                    state.nextPosition = last.key.nativeUInt64 + 1
                    let record = try EventRecord(buffer: last.value, expectedPosition: last.key.nativeUInt64)
                    state.lastRecordedAt = record.recordedAt
                }
            }
            var latest: ZstdDictionary?
            try txn.withCursor(dbs.dictionaries) { cursor in
                var entry = try cursor.get(.first)
                while let e = entry {
                    let id = UInt8(truncatingIfNeeded: e.key.nativeUInt64)
                    let dictionary = try ZstdDictionary(id: id, bytes: Array(e.value), level: codec.level)
                    codec.install(dictionary, makeCurrent: false)
                    latest = dictionary
                    entry = try cursor.get(.next)
                }
            }
            if let latest { codec.install(latest, makeCurrent: true) }
            let tree = try Array("tree".utf8).withUnsafeBytes { try txn.get(dbs.meta, $0).map { Array($0) } }
            if tree == [1] {
                let stored = try Array("frontier".utf8).withUnsafeBytes { try txn.get(dbs.meta, $0).map { Array($0) } }
                var frontier = Frontier()
                if let stored {
                    do {
                        frontier = try stored.withUnsafeBytes { (b) throws(ByteReader.Malformed) in try Frontier(encoded: b) }
                    } catch {
                        throw StoreError(corrupt: "Merkle frontier", position: nil, detail: "\(error)")
                    }
                }
                guard frontier.size == state.nextPosition else {
                    throw StoreError(.corrupt, "the Merkle frontier covers \(frontier.size) leaves but the log holds "
                        + "\(state.nextPosition) events; run `ledgerd verify` and restore from a backup")
                }
                state.frontier = frontier
            }
            return state
        }
    }

    // MARK: - Closing

    /// Finishes queued appends, stops the writer, syncs and closes the environment. Further calls throw
    /// ``StoreError/Code/closed``. Safe to call twice.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        writer?.stop()
        training.wait()
        commits.close()
        if !env.readOnly {
            try? env.sync()
            index?.syncAndClearMarker(storePath: path)
        }
        gate.exclusive {
            env.close()
            index?.env.close()
        }
        lock.release()
    }

    deinit { close() }

    func checkOpen() throws(StoreError) {
        if closed.load(ordering: .acquiring) {
            throw StoreError(.closed, "the store at \(path) was closed; open it again")
        }
    }

    // MARK: - Appending

    /// Appends events to one stream, atomically.
    ///
    /// - Parameters:
    ///   - stream: The stream's name (1–255 bytes of UTF-8).
    ///   - expected: What the stream's version must be; a mismatch throws ``StoreError/Code/wrongExpectedVersion``
    ///     with the actual version, and nothing is written.
    ///   - events: The events, in order.
    ///   - durability: ``Durability/durable`` (default) acknowledges after fsync.
    /// - Returns: Their positions and the stream's new version.
    /// - Throws: ``StoreError``.
    @discardableResult
    public func append(to stream: String, expected: ExpectedVersion = .any, _ events: [EventData],
                       durability: Durability = .durable) async throws -> AppendResult {
        try await append([StreamAppend(stream: stream, expected: expected, events: events)], durability: durability)
    }

    /// Appends to several streams atomically; each stream has its own expectation, and a stream may be named with
    /// no events to guard an invariant that read it. Either every share is written or none.
    ///
    /// A retry with the same event ids and content returns the original positions (``AppendResult/wasRetry``),
    /// even when its expectations are now stale.
    ///
    /// - Throws: ``StoreError``: `.wrongExpectedVersion` (naming the stream and its actual version),
    ///   `.idempotencyConflict`, `.invalidArgument`, `.eventTooLarge`, `.diskFull`, `.readOnly`, `.closed`.
    @discardableResult
    public func append(_ appends: [StreamAppend], durability: Durability = .durable) async throws -> AppendResult {
        switch try readyToQueue(appends, durability: durability) {
        case .streamed(let writer): return try await appendStreamed(appends, durability: durability, writer: writer)
        case .prepared(let prepared, let writer): return try await commit(prepared, writer: writer, counted: true)
        }
    }

    /// Appends like ``append(_:durability:)`` without a task: for a caller on an event loop, which must not wait.
    ///
    /// The append is validated and encoded on the calling thread, then queued; `completion` is called exactly once,
    /// on the writer thread (keep it short: hand the result to your own thread), or on the calling thread when the
    /// append is refused before it is queued. An append of 256 events or more is encoded and queued by a task, as
    /// the async form does.
    public func append(_ appends: [StreamAppend], durability: Durability = .durable,
                       completion: @escaping @Sendable (Result<AppendResult, StoreError>) -> Void) {
        do throws(StoreError) {
            switch try readyToQueue(appends, durability: durability) {
            case .streamed(let writer):
                Task {
                    do { completion(.success(try await appendStreamed(appends, durability: durability, writer: writer))) }
                    catch { completion(.failure(error as? StoreError ?? StoreError(.storage, "\(error)"))) }
                }
            case .prepared(let prepared, let writer):
                writer.enqueue(.append(prepared, completion), wasPreparing: true)
            }
        } catch {
            completion(.failure(error))
        }
    }

    /// An append ready for the writer: encoded whole (and counted in the writer's ``Writer/preparing``), or large
    /// enough to be queued first and encoded while the writer places it.
    private enum QueueReady {
        case streamed(Writer)
        case prepared(PreparedAppend, Writer)
    }

    /// Checks the store takes appends and encodes a small append on the calling thread.
    private func readyToQueue(_ appends: [StreamAppend], durability: Durability) throws(StoreError) -> QueueReady {
        try checkOpen()
        guard let writer else { throw StoreError(.readOnly, "the store at \(path) is open read-only; appends go "
            + "through the process that holds it for writing (ledgerd)") }
        if appends.reduce(0, { $0 + $1.events.count }) >= Self.streamedAppendEvents { return .streamed(writer) }
        let started = ContinuousClock.now
        writer.preparing.add(1, ordering: .relaxed)
        let prepared: PreparedAppend
        do throws(StoreError) {
            prepared = try prepare(appends, durability: durability)
        } catch {
            writer.preparing.subtract(1, ordering: .relaxed)
            writer.nudge()
            throw error
        }
        encodeNanoseconds.add((ContinuousClock.now - started).nanoseconds, ordering: .relaxed)
        return .prepared(prepared, writer)
    }

    /// Makes every relaxed append before it durable (fsync).
    public func sync() async throws {
        try checkOpen()
        guard let writer else { return }
        try await withCheckedThrowingContinuation { writer.enqueue(.sync($0)) }
    }

    // MARK: - State

    /// The next position to be assigned: the number of events in the log.
    public var head: UInt64 {
        if let writer { return writer.head.load(ordering: .acquiring) }
        return (try? readTransaction { txn in
            try txn.withCursor(dbs.records) { try $0.get(.last).map { $0.key.nativeUInt64 + 1 } ?? 0 }
        }) ?? 0
    }

    /// True when the log environment commits with fsync (none of `MDB_NOSYNC`, `MDB_NOMETASYNC`, `MDB_MAPASYNC`).
    public var isDurable: Bool { gate.shared { !closed.load(ordering: .acquiring) && env.isDurable } }

    /// Bytes in use by the pages of the log's and the index's environments (used pages × page size).
    public var bytesInUse: Int {
        gate.shared { closed.load(ordering: .acquiring) ? 0 : env.usedBytes + (index?.env.usedBytes ?? 0) }
    }

    /// The memory map's current size in bytes.
    public var mapSize: Int { gate.shared { closed.load(ordering: .acquiring) ? 0 : env.mapSize } }

    /// Appends waiting for the writer.
    public var writerQueueDepth: Int { writer?.queueDepth.load(ordering: .relaxed) ?? 0 }

    /// The writer's work since the store was opened: commits (each one transaction and one fsync when durable),
    /// events appended, seconds spent in write transactions (the fsync included) and, of those, seconds spent
    /// applying appends before LMDB's commit. Zeros when read-only.
    public var writerStatistics: (commits: Int, events: Int, commitSeconds: Double, applySeconds: Double) {
        guard let writer else { return (0, 0, 0, 0) }
        return (writer.commits.load(ordering: .relaxed), writer.appendedEvents.load(ordering: .relaxed),
                Double(writer.commitNanoseconds.load(ordering: .relaxed)) / 1e9,
                Double(writer.applyNanoseconds.load(ordering: .relaxed)) / 1e9)
    }

    /// Seconds callers have spent preparing appends before queueing them to the writer (summed over callers).
    public var encodingSeconds: Double { Double(encodeNanoseconds.load(ordering: .relaxed)) / 1e9 }

    /// Reader slots in use and available.
    public var readerSlots: (used: Int, max: Int) {
        gate.shared { closed.load(ordering: .acquiring) ? (0, 0) : env.readers }
    }

    /// Whether the store keeps the Merkle tree (set at creation).
    public var keepsMerkleTree: Bool {
        (try? readTransaction { txn in
            try Array("tree".utf8).withUnsafeBytes { try txn.get(dbs.meta, $0).map { Array($0) } } == [1]
        }) ?? false
    }

    /// Id of the dictionary new payload parts are compressed with (0 = none yet).
    public var currentDictionaryID: UInt8 { codec.currentDictionary?.id ?? 0 }
}
