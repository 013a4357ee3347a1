internal import CLMDB

#if canImport(Glibc)
import Glibc
#endif

/// A return code from the LMDB C API that was not `MDB_SUCCESS`.
///
/// Internal: every public entry point turns it into a ``StoreError`` with a sentence that says what to do.
struct LMDBError: Error, Equatable, CustomStringConvertible {
    /// The raw LMDB or errno value.
    let code: Int32

    var description: String { String(cString: mdb_strerror(code)) }

    static let notFound = LMDBError(code: MDB_NOTFOUND)
    static let keyExists = LMDBError(code: MDB_KEYEXIST)
    static let mapFull = LMDBError(code: MDB_MAP_FULL)
    static let mapResized = LMDBError(code: MDB_MAP_RESIZED)
    static let readersFull = LMDBError(code: MDB_READERS_FULL)
    static let corrupted = LMDBError(code: MDB_CORRUPTED)
    static let invalid = LMDBError(code: MDB_INVALID)
    static let noSpace = LMDBError(code: ENOSPC)
    /// The environment was closed (EBADF): a programming race the store turns into ``StoreError/Code/closed``.
    static let closed = LMDBError(code: EBADF)
}

/// Turns an LMDB return code into a thrown ``LMDBError``; the one place that reads C return codes.
@inline(__always)
func check(_ rc: Int32) throws(LMDBError) {
    guard rc == MDB_SUCCESS else { throw LMDBError(code: rc) }
}
