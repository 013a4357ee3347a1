internal import CLMDB

/// The named databases of the log environment (layout in ARCHITECTURE.md, "On disk"); the indexes derived from
/// the records live in their own environment (``IndexDatabases``).
struct StoreDatabases: Sendable {
    /// `"format"`, `"origin"`, `"created_at"` → values.
    let meta: MDB_dbi
    /// position (u64, native) → record bytes. Written with `MDB_APPEND`.
    let records: MDB_dbi
    /// position·2 + part (0 facts, 1 personal) (u64, native) → stored part. Written with `MDB_APPEND`.
    let payloads: MDB_dbi
    /// dictionary id (u64, native) → zstd dictionary bytes.
    let dictionaries: MDB_dbi
    /// post-order position (u64, native) → 32-byte hash of a perfect Merkle node. Written with `MDB_APPEND`.
    let nodes: MDB_dbi
    /// tree size (u64, native) → signed checkpoint note (with cosignatures as they arrive).
    let checkpoints: MDB_dbi

    /// data-subject id (16 bytes) → u32 BE key number ‖ 32-byte AES key of the subject's personal parts; deleted
    /// on erasure.
    let subjectKeys: MDB_dbi
    /// key number (u64, native) → the 32-byte key; deleted on erasure.
    let keyNumbers: MDB_dbi

    static let count: UInt32 = 8

    init(_ env: LMDBEnvironment) throws(LMDBError) {
        let integer = MDB_INTEGERKEY
        meta = try env.openDatabase("meta")
        records = try env.openDatabase("records", flags: integer)
        payloads = try env.openDatabase("payloads", flags: integer)
        dictionaries = try env.openDatabase("dictionaries", flags: integer)
        nodes = try env.openDatabase("nodes", flags: integer)
        checkpoints = try env.openDatabase("checkpoints", flags: integer)
        subjectKeys = try env.openDatabase("subject_keys")
        keyNumbers = try env.openDatabase("key_numbers", flags: integer)
    }

    /// Key of a payload part.
    @inline(__always)
    static func payloadKey(_ position: UInt64, personal: Bool) -> UInt64 {
        position << 1 | (personal ? 1 : 0)
    }
}
