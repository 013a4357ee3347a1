/// How a ``Store`` is opened. The defaults suit a production store; tests shrink the map or the thresholds.
public struct StoreOptions: Sendable {
    /// Size of the memory map in bytes. It is sparse: only used pages take disk space. Default 64 GiB.
    public var mapSize: Int = 64 << 30
    /// Reader slots: concurrent read transactions across every process using the store. Default 512.
    public var maxReaders: UInt32 = 512
    /// Open without the writer lock; appends fail with ``StoreError/Code/readOnly``. Several read-only processes
    /// may open a store while one writer runs.
    public var readOnly = false
    /// Largest payload part accepted, in bytes (facts and personal parts are checked separately). Default 1 MiB.
    public var maxPartBytes = 1 << 20
    /// zstd level for payload parts. Default 3.
    public var compressionLevel: Int32 = 3
    /// Payload parts after which a dictionary is trained in the background (and again at 10× and 100× as many,
    /// on up to 20 000 of the newest parts); 0 turns automatic training off (``Store/trainDictionary(sampleCount:)``
    /// still works). Default 2 000.
    public var dictionaryTrainingThreshold = 2_000
    /// Size of a trained dictionary in bytes. Default 64 KiB.
    public var dictionaryCapacity = 64 * 1024
    /// Most events the writer puts in one transaction (one fsync). Default 16 384.
    public var maxBatchEvents = 16_384

    /// Keep the RFC 9162 Merkle tree over the log (perfect nodes written in each commit). Only read when a store is
    /// created; a store made without it (benchmarks' `--no-tree`) can never be verified or checkpointed.
    public var merkleTree = true

    /// Called with (indexed, head) while the index is caught up with the log at open: after a crash, for a backup,
    /// or for a store from before the index had its own environment (a full rebuild reads the whole log).
    public var indexProgress: (@Sendable (UInt64, UInt64) -> Void)? = nil

    /// The defaults.
    public init() {}
}
