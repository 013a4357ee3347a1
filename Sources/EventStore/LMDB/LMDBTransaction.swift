internal import CLMDB

/// A transaction scoped to a closure of ``LMDBEnvironment``: non-copyable, so it cannot escape it.
///
/// Byte buffers it returns point into the memory map and are valid only until the closure returns.
struct LMDBTransaction: ~Copyable {
    let raw: OpaquePointer

    /// Reads the value stored under `key`, or `nil`. The corresponding C function is `mdb_get`.
    func get(_ dbi: MDB_dbi, _ key: UnsafeRawBufferPointer) throws(LMDBError) -> UnsafeRawBufferPointer? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(raw, dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc)
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    /// Reads the value under a native-endian `UInt64` key (for `MDB_INTEGERKEY` databases).
    func get(_ dbi: MDB_dbi, integer key: UInt64) throws(LMDBError) -> UnsafeRawBufferPointer? {
        var key = key
        return try withUnsafeBytes(of: &key) { (k) throws(LMDBError) in try get(dbi, k) }
    }

    /// Stores `value` under `key`. The corresponding C function is `mdb_put`.
    func put(_ dbi: MDB_dbi, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, flags: Int32 = 0)
        throws(LMDBError)
    {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(raw, dbi, &k, &v, UInt32(bitPattern: flags)))
    }

    /// Stores `value` under a native-endian `UInt64` key.
    func put(_ dbi: MDB_dbi, integer key: UInt64, _ value: UnsafeRawBufferPointer, flags: Int32 = 0)
        throws(LMDBError)
    {
        var key = key
        try withUnsafeBytes(of: &key) { (k) throws(LMDBError) in try put(dbi, k, value, flags: flags) }
    }

    /// Deletes `key` (and every duplicate of it). Returns false when it was absent. The C function is `mdb_del`.
    @discardableResult
    func delete(_ dbi: MDB_dbi, _ key: UnsafeRawBufferPointer) throws(LMDBError) -> Bool {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let rc = mdb_del(raw, dbi, &k, nil)
        if rc == MDB_NOTFOUND { return false }
        try check(rc)
        return true
    }

    /// Empties a database, keeping its handle. The corresponding C function is `mdb_drop`.
    func clear(_ dbi: MDB_dbi) throws(LMDBError) {
        try check(mdb_drop(raw, dbi, 0))
    }

    /// Number of entries. The corresponding C function is `mdb_stat`.
    func count(_ dbi: MDB_dbi) throws(LMDBError) -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(raw, dbi, &stat))
        return stat.ms_entries
    }

    /// Runs `body` with a cursor on `dbi`, closed when the closure returns.
    func withCursor<T>(_ dbi: MDB_dbi, _ body: (borrowing LMDBCursor) throws -> T) throws -> T {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(raw, dbi, &cursor))
        defer { mdb_cursor_close(cursor) }
        return try body(LMDBCursor(raw: cursor!))
    }
}

/// A cursor scoped to ``LMDBTransaction/withCursor(_:_:)``.
struct LMDBCursor: ~Copyable {
    let raw: OpaquePointer

    /// The positioning operations used by the store.
    enum Op {
        case first, last, next, prev, current
        case setRange, setKey
        case firstDup, lastDup, nextDup, prevDup, nextNoDup, prevNoDup, getBothRange

        var raw: MDB_cursor_op {
            switch self {
            case .first: MDB_FIRST
            case .last: MDB_LAST
            case .next: MDB_NEXT
            case .prev: MDB_PREV
            case .current: MDB_GET_CURRENT
            case .setRange: MDB_SET_RANGE
            case .setKey: MDB_SET_KEY
            case .firstDup: MDB_FIRST_DUP
            case .lastDup: MDB_LAST_DUP
            case .nextDup: MDB_NEXT_DUP
            case .prevDup: MDB_PREV_DUP
            case .nextNoDup: MDB_NEXT_NODUP
            case .prevNoDup: MDB_PREV_NODUP
            case .getBothRange: MDB_GET_BOTH_RANGE
            }
        }
    }

    /// One positioned entry; the buffers point into the map.
    struct Entry {
        let key: UnsafeRawBufferPointer
        let value: UnsafeRawBufferPointer
    }

    /// Moves the cursor and returns the entry there, or `nil` past either end (`MDB_NOTFOUND`).
    ///
    /// For ops that take a key (`setKey`, `getBothRange`) LMDB may leave `Entry.key` pointing at the caller's
    /// `key` buffer: read only `value` from those unless the key buffer outlives the use.
    /// The corresponding C function is `mdb_cursor_get`.
    func get(
        _ op: Op, key: UnsafeRawBufferPointer? = nil, value: UnsafeRawBufferPointer? = nil
    ) throws(LMDBError) -> Entry? {
        var k = MDB_val(mv_size: key?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: key?.baseAddress))
        var v = MDB_val(mv_size: value?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: value?.baseAddress))
        let rc = mdb_cursor_get(raw, &k, &v, op.raw)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc)
        return Entry(
            key: UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
            value: UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
        )
    }

    /// Positions at a native-endian `UInt64` key or the first one after it.
    func seek(integer key: UInt64) throws(LMDBError) -> Entry? {
        var key = key
        return try withUnsafeBytes(of: &key) { (k) throws(LMDBError) in try get(.setRange, key: k) }
    }

    /// Positions exactly at a native-endian `UInt64` key.
    func find(integer key: UInt64) throws(LMDBError) -> Entry? {
        var key = key
        return try withUnsafeBytes(of: &key) { (k) throws(LMDBError) in try get(.setKey, key: k) }
    }

    /// Number of duplicates at the current key. The corresponding C function is `mdb_cursor_count`.
    func duplicateCount() throws(LMDBError) -> Int {
        var n = 0
        try check(mdb_cursor_count(raw, &n))
        return n
    }
}

extension UnsafeRawBufferPointer {
    /// Reads a native-endian `UInt64` key or value.
    @inline(__always)
    var nativeUInt64: UInt64 { loadUnaligned(as: UInt64.self) }

    /// Reads a big-endian `UInt64` at `offset`.
    @inline(__always)
    func bigEndianUInt64(at offset: Int = 0) -> UInt64 {
        UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Reads a native-endian `UInt32`.
    @inline(__always)
    var nativeUInt32: UInt32 { loadUnaligned(as: UInt32.self) }
}
