internal import CLMDB
import Foundation

/// A domain-blind store for derived state: an LMDB environment of its own with named databases and
/// transactions, so the read side keeps state (and its checkpoints, in the same transaction) without touching C.
///
/// It is opened `MDB_NOSYNC` and `MDB_WRITEMAP` by default: everything in it can be rebuilt from the log, and a lost
/// tail after a power cut is caught up again from the checkpoint stored with it. Appends to the log never wait on
/// it. With `MDB_WRITEMAP` a commit changes the map in place instead of writing copies of its pages (the file is a
/// sparse file of the map's size). On a full disk the kernel could not back a new page, and the process would die
/// with `SIGBUS` rather than get an error; so before each write transaction the store makes sure the file's blocks
/// are allocated at least `reserve / 2` past its last used page (`reserve`, 64 MiB by default, is allocated when less
/// is left), and a disk too full for that is a ``StoreError/Code/diskFull`` error, with nothing written. Limits: a
/// single transaction dirtying more new pages than that could still meet the signal (the read side's batches stay far
/// below it); on copy-on-write filesystems (btrfs, ZFS) rewriting an allocated page needs new blocks, so there the
/// reserve does not protect; and where the filesystem cannot preallocate, the reserve is off.
///
/// ```swift
/// let state = try StateStore(path: dir + "/state", databases: ["queues", "checkpoints"])
/// try state.write { txn in
///     try txn.put(state["queues"], key: key, value: value)
///     try txn.put(state["checkpoints"], key: Array("queues".utf8), value: positionBytes)
/// }
/// ```
public final class StateStore: Sendable {
    /// The directory holding the environment.
    public let path: String
    private let env: LMDBEnvironment
    private let handles: [String: StateDatabase]
    private let lock: StoreLock

    /// Opens (creating if needed) a state store with the named databases.
    ///
    /// - Parameters:
    ///   - path: A directory, created when missing.
    ///   - databases: Every database name the caller will use (opened once, at start).
    ///   - mapSize: The map's size (sparse); default 64 GiB.
    ///   - durable: fsync each commit and write pages with `pwrite` (default `false`: state is rebuildable).
    ///   - reserve: Bytes of the file allocated ahead of its last used page before each write transaction (with
    ///     `MDB_WRITEMAP`, when not `durable`).
    /// - Throws: ``StoreError``.
    public init(path: String, databases: [String], mapSize: Int = 64 << 30, durable: Bool = false,
                reserve: Int = 64 << 20) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o750])
        lock = try StoreLock(directory: path, exclusive: true)
        do {
            env = try LMDBEnvironment(path: path, options: .init(
                mapSize: mapSize, maxDatabases: UInt32(databases.count + 1), maxReaders: 512, noSync: !durable,
                writeMap: !durable, reserve: reserve))
            var handles = [String: StateDatabase]()
            for name in databases { handles[name] = StateDatabase(name: name, dbi: try env.openDatabase(name)) }
            self.handles = handles
        } catch {
            lock.release()
            throw StoreError(error, while: "opening the state store at \(path)")
        }
        self.path = path
    }

    deinit {
        env.close()
        lock.release()
    }

    /// A database opened at start, or `nil` when the name was not declared.
    public func database(named name: String) -> StateDatabase? { handles[name] }

    /// A database opened at start; traps on a name that was not declared (a programmer error).
    public subscript(name: String) -> StateDatabase {
        guard let handle = handles[name] else { preconditionFailure("state database \(name) was not declared") }
        return handle
    }

    /// Runs `body` in a read transaction. The transaction and the bytes it returns are valid only in the closure.
    public func read<T>(_ body: (borrowing StateTransaction) throws -> T) throws -> T {
        do {
            return try env.read { try body(StateTransaction(txn: $0)) }
        } catch let error as LMDBError {
            throw StoreError(error, while: "reading the state store")
        }
    }

    /// Runs `body` in a write transaction and commits it (all or nothing). Writers are serialised; `body` runs on
    /// the calling thread and must not block on other writers.
    public func write<T>(_ body: (borrowing StateTransaction) throws -> T) throws -> T {
        do {
            return try env.write { try body(StateTransaction(txn: $0)) }
        } catch let error as LMDBError {
            throw StoreError(error, while: "writing the state store")
        }
    }

    /// fsyncs everything committed so far.
    public func sync() throws {
        do { try env.sync() } catch { throw StoreError(error, while: "syncing the state store") }
    }

    /// Bytes in use (used pages × page size).
    public var bytesInUse: Int { env.usedBytes }
}

/// A named database of a ``StateStore``.
public struct StateDatabase: Sendable, Hashable {
    /// Its name.
    public let name: String
    let dbi: UInt32
}

/// A transaction of a ``StateStore``, valid only inside the closure that received it.
public struct StateTransaction: ~Copyable {
    private let raw: OpaquePointer

    init(txn: borrowing LMDBTransaction) { raw = txn.raw }

    private var txn: LMDBTransaction { LMDBTransaction(raw: raw) }

    /// The value under `key`, copied out, or `nil`.
    public func get(_ db: StateDatabase, key: [UInt8]) throws -> [UInt8]? {
        try key.withUnsafeBytes { try txn.get(db.dbi, $0).map { Array($0) } }
    }

    /// Stores `value` under `key`, replacing any value.
    public func put(_ db: StateDatabase, key: [UInt8], value: [UInt8]) throws {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { try txn.put(db.dbi, k, $0) } }
    }

    /// Removes `key`; returns whether it was there.
    @discardableResult
    public func delete(_ db: StateDatabase, key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { try txn.delete(db.dbi, $0) }
    }

    /// Removes every entry of `db`.
    public func clear(_ db: StateDatabase) throws { try txn.clear(db.dbi) }

    /// Number of entries in `db`.
    public func count(_ db: StateDatabase) throws -> Int { try txn.count(db.dbi) }

    /// Calls `body` with each entry whose key is ≥ `start` (all when empty), in bytewise key order, until it
    /// returns `false`. The buffers are valid only during the call.
    public func forEach(
        _ db: StateDatabase, from start: [UInt8] = [],
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        try txn.withCursor(db.dbi) { cursor in
            var entry = start.isEmpty
                ? try cursor.get(.first) : try start.withUnsafeBytes { try cursor.get(.setRange, key: $0) }
            while let e = entry, try body(e.key, e.value) { entry = try cursor.get(.next) }
        }
    }
}
