internal import CLMDB
import Foundation

/// Owns one `MDB_env*` and the database handles opened in it.
///
/// `@unchecked Sendable` because `OpaquePointer` cannot be `Sendable`. It is safe because:
/// - LMDB allows the environment handle to be used from any thread;
/// - the environment is opened with `MDB_NOTLS`, so a read transaction is not tied to a thread's reader slot;
/// - transactions only exist inside the synchronous closures of ``read(_:)`` and ``write(_:)``, so a transaction
///   never crosses an `await` or a thread (LMDB binds a write transaction to its thread);
/// - database handles are opened once, before the environment is shared (`mdb_dbi_open` must not race);
/// - `mdb_env_close` runs only in ``close()``/`deinit`, after the owner stopped every user.
final class LMDBEnvironment: @unchecked Sendable {
    struct Options {
        var mapSize: Int
        var maxDatabases: UInt32
        var maxReaders: UInt32
        var readOnly: Bool = false
        /// `MDB_NOSYNC`: for environments that can be rebuilt (derived state); never for the log.
        var noSync: Bool = false
        /// `MDB_WRITEMAP`: write transactions change the map in place (no copies of dirty pages, no `pwrite` at
        /// commit); a stray write through a bad pointer could reach the file, so only for rebuildable environments.
        var writeMap: Bool = false
    }

    private(set) var handle: OpaquePointer?
    let path: String
    let readOnly: Bool

    /// Opens (creating the files if needed) the environment in the existing directory `path`.
    init(path: String, options: Options) throws(LMDBError) {
        var env: OpaquePointer?
        try check(mdb_env_create(&env))
        var flags = UInt32(MDB_NOTLS) | UInt32(MDB_NORDAHEAD)
        if options.readOnly { flags |= UInt32(MDB_RDONLY) }
        if options.noSync { flags |= UInt32(MDB_NOSYNC) }
        if options.writeMap { flags |= UInt32(MDB_WRITEMAP) }
        do throws(LMDBError) {
            try check(mdb_env_set_mapsize(env, options.mapSize))
            try check(mdb_env_set_maxdbs(env, options.maxDatabases))
            try check(mdb_env_set_maxreaders(env, options.maxReaders))
            try check(mdb_env_open(env, path, flags, 0o640))
        } catch {
            mdb_env_close(env)
            throw error
        }
        self.handle = env
        self.path = path
        self.readOnly = options.readOnly
        var dead: Int32 = 0
        _ = mdb_reader_check(env, &dead)  // clear reader slots left by killed processes
    }

    deinit { close() }

    /// Closes the environment. Callers guarantee no transaction is open. The corresponding C function is
    /// `mdb_env_close`.
    func close() {
        if let handle {
            mdb_env_close(handle)
            self.handle = nil
        }
    }

    /// Opens (or creates, unless read-only) a named database; call before sharing the environment.
    func openDatabase(_ name: String, flags: Int32 = 0) throws(LMDBError) -> MDB_dbi {
        var dbi: MDB_dbi = 0
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn))
        let rc = mdb_dbi_open(txn, name, UInt32(bitPattern: flags | (readOnly ? 0 : MDB_CREATE)), &dbi)
        guard rc == MDB_SUCCESS else {
            mdb_txn_abort(txn)
            throw LMDBError(code: rc)
        }
        try check(mdb_txn_commit(txn))
        return dbi
    }

    /// Deletes the named database and its handle when the environment has one; returns whether it had. Call
    /// before sharing the environment, like ``openDatabase(_:flags:)``. The corresponding C function is `mdb_drop`.
    func dropDatabaseIfPresent(_ name: String) throws(LMDBError) -> Bool {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, 0, &txn))
        var dbi: MDB_dbi = 0
        let rc = mdb_dbi_open(txn, name, 0, &dbi)
        guard rc == MDB_SUCCESS else {
            mdb_txn_abort(txn)
            if rc == MDB_NOTFOUND { return false }
            throw LMDBError(code: rc)
        }
        let dropped = mdb_drop(txn, dbi, 1)
        guard dropped == MDB_SUCCESS else {
            mdb_txn_abort(txn)
            throw LMDBError(code: dropped)
        }
        try check(mdb_txn_commit(txn))
        return true
    }

    /// Runs `body` in a read-only transaction. The transaction is valid only during the closure: do not store it,
    /// and copy out any bytes you keep (they point into the memory map).
    func read<T>(_ body: (borrowing LMDBTransaction) throws -> T) throws -> T {
        guard let handle else { throw LMDBError.closed }
        var txn: OpaquePointer?
        // MDB_MAP_RESIZED (another process grew the map) is thrown: the caller adopts the new size with
        // ``adoptMapSize()`` once no read transaction of this process is open, then retries.
        try check(mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn))
        defer { mdb_txn_abort(txn) }
        return try body(LMDBTransaction(raw: txn!))
    }

    /// Runs `body` in a write transaction and commits it; aborts when `body` throws.
    ///
    /// Synchronous on purpose: `body` cannot `await`, so begin and commit happen on one thread, as LMDB requires.
    func write<T>(_ body: (borrowing LMDBTransaction) throws -> T) throws -> T {
        guard let handle else { throw LMDBError.closed }
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, 0, &txn))
        let result: T
        do {
            result = try body(LMDBTransaction(raw: txn!))
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        try check(mdb_txn_commit(txn))
        return result
    }

    /// Flushes the data buffers to disk. The corresponding C function is `mdb_env_sync`.
    func sync() throws(LMDBError) {
        try check(mdb_env_sync(handle, 1))
    }

    /// Sets or clears `MDB_NOSYNC` between transactions (used for relaxed commits).
    func setNoSync(_ on: Bool) throws(LMDBError) {
        try check(mdb_env_set_flags(handle, UInt32(MDB_NOSYNC), on ? 1 : 0))
    }

    /// The environment's open flags. The corresponding C function is `mdb_env_get_flags`.
    var flags: UInt32 {
        var flags: UInt32 = 0
        mdb_env_get_flags(handle, &flags)
        return flags
    }

    /// True when none of `MDB_NOSYNC`, `MDB_NOMETASYNC`, `MDB_MAPASYNC` is set: every commit is fsynced.
    var isDurable: Bool {
        flags & UInt32(MDB_NOSYNC | MDB_NOMETASYNC | MDB_MAPASYNC) == 0
    }

    /// The current map size in bytes.
    var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return info.me_mapsize
    }

    /// Bytes in use: (last used page + 1) × page size.
    var usedBytes: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        var stat = MDB_stat()
        mdb_env_stat(handle, &stat)
        return (info.me_last_pgno + 1) * Int(stat.ms_psize)
    }

    /// Reader slots: (in use, maximum).
    var readers: (used: Int, max: Int) {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return (Int(info.me_numreaders), Int(info.me_maxreaders))
    }

    /// Adopts the map size another process set (after `MDB_MAP_RESIZED`). Only call when no transaction of this
    /// process is open.
    func adoptMapSize() throws(LMDBError) {
        try check(mdb_env_set_mapsize(handle, 0))
    }

    /// Grows the map. Only call when no transaction of this process is open (the writer, between batches).
    func setMapSize(_ size: Int) throws(LMDBError) {
        try check(mdb_env_set_mapsize(handle, size))
    }

    /// Allocates the data file's blocks from `offset` for `length` bytes (`posix_fallocate`, within the file's size,
    /// which `MDB_WRITEMAP` sets to the map's); returns the errno, 0 on success.
    func allocate(from offset: Int, length: Int) -> Int32 {
        #if os(Linux)
        var fd: Int32 = -1
        guard mdb_env_get_fd(handle, &fd) == 0, fd >= 0 else { return EBADF }
        return posix_fallocate(fd, off_t(offset), off_t(length))
        #else
        return EOPNOTSUPP
        #endif
    }

    /// Writes a compacted copy of the environment into the empty directory `path`.
    func copyCompacting(to path: String) throws(LMDBError) {
        try check(mdb_env_copy2(handle, path, UInt32(MDB_CP_COMPACT)))
    }
}
