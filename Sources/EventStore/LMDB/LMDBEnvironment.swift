internal import CLMDB
import Foundation
import Synchronization

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
        /// With `writeMap`: bytes of the data file allocated ahead of its last used page before each write
        /// transaction (``write(reserving:_:)``); 0 = none.
        var reserve: Int = 0
    }

    private(set) var handle: OpaquePointer?
    let path: String
    let readOnly: Bool
    /// Bytes allocated ahead of the last used page before each write transaction (0 = none).
    private let reserve: Int
    /// How far the data file's blocks are known to be allocated (bytes from its start); `Int.max` once the
    /// filesystem said it cannot preallocate (the reserve is then off).
    private let allocated = Mutex<Int>(0)

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
        self.reserve = options.writeMap && !options.readOnly ? options.reserve : 0
        // The databases' first pages (``openDatabase(_:flags:)``) go into the sparse file too.
        if reserve > 0 {
            do throws(LMDBError) { try reserveAhead(extra: 0) } catch {
                close()
                throw error
            }
        }
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
    /// With a reserve (`MDB_WRITEMAP`), the data file's blocks are first allocated at least half the reserve plus
    /// `extra` bytes past the last used page, inside the transaction (under LMDB's write lock, so no other writer
    /// moves the last page meanwhile); a disk too full for that throws ``LMDBError/noSpace`` before anything is
    /// written (see ``reserveAhead(extra:)``).
    func write<T>(reserving extra: Int = 0, _ body: (borrowing LMDBTransaction) throws -> T) throws -> T {
        guard let handle else { throw LMDBError.closed }
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, 0, &txn))
        let result: T
        do {
            if reserve > 0 { try reserveAhead(extra: extra) }
            result = try body(LMDBTransaction(raw: txn!))
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        try check(mdb_txn_commit(txn))
        return result
    }

    /// Allocates the data file's blocks up to `reserve + extra` bytes past the last used page when less than
    /// `reserve / 2 + extra` is allocated past it.
    ///
    /// With `MDB_WRITEMAP` a write transaction changes the map in place, and the file is a sparse file of the map's
    /// size: on a full disk the kernel could not back a new page, and the process would die with `SIGBUS` instead of
    /// getting an error. Allocating ahead (`posix_fallocate`) turns a full disk into ``LMDBError/noSpace`` before the
    /// transaction begins. Limits: a transaction dirtying more new pages than what is allocated could still meet the
    /// signal (callers pass `extra` for large transactions); on copy-on-write filesystems (btrfs, ZFS) rewriting an
    /// allocated page needs new blocks, so there it does not protect; where the filesystem cannot preallocate, the
    /// reserve is off.
    private func reserveAhead(extra: Int) throws(LMDBError) {
        let used = usedBytes
        let mapSize = mapSize
        let extra = max(extra, 0)
        guard allocated.withLock({ min(used + reserve / 2 + extra, mapSize) > $0 }) else { return }
        let end = min(used + reserve + extra, mapSize)
        guard end > used else { return }
        var error = allocate(from: used, length: end - used)
        while error == EINTR { error = allocate(from: used, length: end - used) }
        switch error {
        case 0: allocated.withLock { $0 = max($0, end) }
        case ENOSPC, EDQUOT: throw LMDBError.noSpace
        case EOPNOTSUPP, EINVAL: allocated.withLock { $0 = .max }  // cannot preallocate: no reserve
        default: throw LMDBError(code: error)
        }
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

    /// The page size (the OS page size LMDB chose).
    var pageSize: Int {
        var stat = MDB_stat()
        mdb_env_stat(handle, &stat)
        return Int(stat.ms_psize)
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
