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
    var streams: [String: StreamState] = [:]
    var categories: [String: UInt64] = [:]
    var types: [String: UInt64] = [:]

    /// Bound on cached streams; past it the cache is emptied (LMDB lookups are a few µs).
    static let streamCacheLimit = 200_000

    /// Takes a committed batch's changes.
    mutating func absorb(_ batch: BatchState) {
        nextPosition = batch.nextPosition
        lastRecordedAt = max(lastRecordedAt, batch.recordedAt)
        nextStreamNumber = batch.nextStreamNumber
        nextCategoryNumber = batch.nextCategoryNumber
        nextTypeNumber = batch.nextTypeNumber
        if streams.count + batch.streams.count > Self.streamCacheLimit { streams.removeAll(keepingCapacity: true) }
        streams.merge(batch.streams) { $1 }
        categories.merge(batch.categories) { $1 }
        types.merge(batch.types) { $1 }
    }
}

/// Changes made by the transaction being built; dropped if it aborts, absorbed if it commits.
struct BatchState {
    let recordedAt: Int64
    var nextPosition: UInt64
    var nextStreamNumber: UInt64
    var nextCategoryNumber: UInt64
    var nextTypeNumber: UInt64
    var streams: [String: StreamState] = [:]
    var categories: [String: UInt64] = [:]
    var types: [String: UInt64] = [:]

    init(_ state: WriterState, recordedAt: Int64) {
        self.recordedAt = recordedAt
        nextPosition = state.nextPosition
        nextStreamNumber = state.nextStreamNumber
        nextCategoryNumber = state.nextCategoryNumber
        nextTypeNumber = state.nextTypeNumber
    }
}
