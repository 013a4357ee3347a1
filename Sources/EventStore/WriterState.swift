import Foundation

/// What the writer knows of one stream.
struct StreamState {
    /// The stream's number, or `nil` while it has no events.
    var number: UInt64?
    /// Its last version (0 = no stream).
    var version: UInt64
    /// Position of its last event.
    var lastPosition: UInt64?
}

/// The writer thread's state between batches: counters and caches of name → number lookups.
struct WriterState {
    var nextPosition: UInt64
    var lastRecordedAt: Int64
    var nextStreamNumber: UInt64
    var nextCategoryNumber: UInt64
    var nextTypeNumber: UInt64
    /// Streams met so far. Written through by the batch being built (one hash lookup per stream rather than a batch
    /// table merged at commit), so it is emptied when a batch does not commit (``discardStreams()``): everything in
    /// it can be read again from the index.
    var streams: [StreamKey: StreamState] = [:]
    var categories: [String: UInt64] = [:]
    var types: [String: UInt64] = [:]
    /// The highest event id stored (bytewise), or `nil` in an empty store.
    var highestEventID: EventIDKey?
    /// The Merkle tree's compact range, or `nil` when the store keeps no tree.
    var frontier: Frontier?

    /// Bound on cached streams; past it the cache is emptied (LMDB lookups are a few µs).
    static let streamCacheLimit = 200_000

    /// Takes a committed batch's changes.
    mutating func absorb(_ batch: BatchState) {
        nextPosition = batch.nextPosition
        lastRecordedAt = max(lastRecordedAt, batch.recordedAt)
        nextStreamNumber = batch.nextStreamNumber
        nextCategoryNumber = batch.nextCategoryNumber
        nextTypeNumber = batch.nextTypeNumber
        highestEventID = batch.highestEventID
        frontier = batch.frontier
        categories.merge(batch.categories) { $1 }
        types.merge(batch.types) { $1 }
    }

    /// Forgets the streams a batch that did not commit may have changed.
    mutating func discardStreams() { streams.removeAll(keepingCapacity: true) }

    /// Empties the stream cache before a batch when it holds more than ``streamCacheLimit`` streams.
    mutating func boundStreams() {
        if streams.count > Self.streamCacheLimit { streams.removeAll(keepingCapacity: true) }
    }
}

/// Changes made by the transaction being built; dropped if it aborts, absorbed if it commits.
struct BatchState {
    let recordedAt: Int64
    var nextPosition: UInt64
    var nextStreamNumber: UInt64
    var nextCategoryNumber: UInt64
    var nextTypeNumber: UInt64
    var categories: [String: UInt64] = [:]
    var types: [String: UInt64] = [:]
    var highestEventID: EventIDKey?
    var frontier: Frontier?
    /// The id of the last event indexed in this batch.
    var lastEventID: UUID?

    init(_ state: WriterState, recordedAt: Int64) {
        highestEventID = state.highestEventID
        frontier = state.frontier
        self.recordedAt = recordedAt
        nextPosition = state.nextPosition
        nextStreamNumber = state.nextStreamNumber
        nextCategoryNumber = state.nextCategoryNumber
        nextTypeNumber = state.nextTypeNumber
    }
}

/// A stream name with its hash computed once, on the appending task: the writer's cache lookups then hash an
/// integer instead of the name (SipHash over the name was a tenth of the writer thread's time).
struct StreamKey: Hashable, Sendable {
    let name: String
    private let hash: Int

    init(_ name: String) {
        self.name = name
        hash = name.hashValue
    }

    static func == (a: StreamKey, b: StreamKey) -> Bool { a.hash == b.hash && a.name == b.name }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }
}

/// An event id as its 16 bytes, ordered bytewise like the event-id index.
struct EventIDKey: Comparable {
    let high: UInt64
    let low: UInt64

    init(_ id: UUID) {
        let bytes = id.uuid
        high = withUnsafeBytes(of: bytes) { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) }
        low = withUnsafeBytes(of: bytes) { UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
    }

    init(bytes: UnsafeRawBufferPointer) {
        high = UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
        low = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    static func < (a: EventIDKey, b: EventIDKey) -> Bool { (a.high, a.low) < (b.high, b.low) }
}
