public import EventStore
import Crypto
import Foundation
import Synchronization

/// Runs projections over a store into a state store: catch-up from each checkpoint in batches (each batch one state
/// transaction with the checkpoint), following the log as it grows, rebuilding a new version beside the old one,
/// and digesting the state.
///
/// Database names are `<projection>.v<version>.<database>` plus one `checkpoints` database; the checkpoint of a
/// version is keyed `<projection>.v<version>`, and `<projection>` names the version that serves.
public final class ProjectionRunner: Sendable {
    /// The log.
    public let store: Store
    /// The derived state.
    public let state: StateStore
    /// The projections, each at its current version.
    public let projections: [any Projection]
    /// Events per state transaction.
    public let batchSize: Int
    private let checkpoints: StateDatabase
    /// One catch-up at a time: two would both fold the batch after the same checkpoint.
    private let folding = Mutex<Void>(())

    /// Opens the state store at `path` with the databases of `projections` (current and, for a rebuild, previous
    /// versions, as `previousVersions` names them).
    public init(store: Store, statePath: String, projections: [any Projection], previousVersions: [String: UInt32] = [:],
                batchSize: Int = 2_048, mapSize: Int = 64 << 30) throws {
        var names = ["checkpoints"]
        for p in projections {
            for version in Set([p.version] + (previousVersions[p.name].map { [$0] } ?? [])) {
                names += p.databases.map { Self.prefix(p.name, version) + $0 }
            }
        }
        self.store = store
        self.state = try StateStore(path: statePath, databases: names, mapSize: mapSize)
        self.projections = projections
        self.batchSize = batchSize
        self.checkpoints = state["checkpoints"]
    }

    static func prefix(_ name: String, _ version: UInt32) -> String { "\(name).v\(version)." }

    /// The databases of a projection at a version.
    public func databases(of projection: any Projection, version: UInt32? = nil) -> ProjectionDatabases {
        let v = version ?? projection.version
        return ProjectionDatabases(handles: Dictionary(uniqueKeysWithValues: projection.databases.map {
            ($0, state[Self.prefix(projection.name, v) + $0])
        }))
    }

    /// Where a projection version stands (the next position it folds; 0 = nothing yet).
    public func checkpoint(of projection: any Projection, version: UInt32? = nil) throws -> UInt64 {
        let key = "\(projection.name).v\(version ?? projection.version)"
        return try state.read { txn in
            try ProjectionCheckpoint.load(key, in: checkpoints, txn)?.position ?? 0
        }
    }

    /// The version that serves queries (the current one once it has caught up; before that, the previous one).
    public func servingVersion(of projection: any Projection) throws -> UInt32? {
        try state.read { txn in try ProjectionCheckpoint.load(projection.name, in: checkpoints, txn)?.version }
    }

    /// Folds every event up to the head into every projection; returns the position reached. One scan of the log
    /// serves all projections: each batch is read once and folded into every projection whose checkpoint is behind
    /// it, in one state transaction with all their checkpoints. A projection whose current version is new starts
    /// from zero in its own databases; when it reaches the head it becomes the serving version (blue/green), and the
    /// old version's databases are emptied.
    @discardableResult
    public func catchUp(until end: UInt64? = nil, progress: (UInt64, UInt64) -> Void = { _, _ in }) throws -> UInt64 {
        try folding.withLock { _ in try foldAll(until: end, progress: progress) }
    }

    private func foldAll(until end: UInt64?, progress: (UInt64, UInt64) -> Void) throws -> UInt64 {
        // Never past the log's head: a checkpoint beyond it would skip the events that arrive there later.
        let head = min(end ?? store.head, store.head)
        var positions = try projections.map { try checkpoint(of: $0) }
        // A checkpoint past the log's head means the log was replaced (a restore of an older backup): the state
        // reflects events the log no longer holds, so that projection starts again from zero.
        for (i, projection) in projections.enumerated() where positions[i] > store.head {
            try clear(projection)
            positions[i] = 0
        }
        let dbs = projections.map { databases(of: $0) }
        var next = positions.min() ?? head
        while next < head {
            let stop = min(head, next + UInt64(batchSize))
            var events = [OwnedEvent]()
            try store.scanRecords(from: next, to: stop) { record, facts, personal in
                events.append(OwnedEvent(record: Array(record.bytes), position: record.position,
                                         facts: facts.map(Array.init), personal: personal.map(Array.init)))
                return true
            }
            try state.write { txn in
                for e in events {
                    try e.record.withUnsafeBytes { bytes in
                        let view = try RecordView(bytes, position: e.position)
                        try Self.withParts(e) { facts, personal in
                            let event = ProjectedEvent(record: view, facts: facts, personal: personal)
                            for (i, projection) in projections.enumerated() where positions[i] <= e.position {
                                try projection.fold(event, txn, dbs[i])
                            }
                        }
                    }
                }
                for (i, projection) in projections.enumerated() where positions[i] < stop {
                    try ProjectionCheckpoint(name: "\(projection.name).v\(projection.version)", version: projection.version,
                                             position: stop).save(in: checkpoints, txn)
                }
            }
            for i in positions.indices where positions[i] < stop { positions[i] = stop }
            next = stop
            progress(next, head)
        }
        for projection in projections { try promote(projection) }
        return head
    }

    /// Makes the current version the serving one once it has caught up with the serving one, and empties the old.
    private func promote(_ projection: any Projection) throws {
        let serving = try servingVersion(of: projection)
        guard serving != projection.version else { return }
        let current = try checkpoint(of: projection)
        if let serving, try checkpoint(of: projection, version: serving) > current { return }
        try state.write { txn in
            try ProjectionCheckpoint(name: projection.name, version: projection.version, position: current)
                .save(in: checkpoints, txn)
            if let serving, serving != projection.version {
                for name in projection.databases {
                    let old = Self.prefix(projection.name, serving) + name
                    if let db = self.state.database(named: old) { try txn.clear(db) }
                }
                // The old version's checkpoint goes with its state, so going back to it rebuilds from zero.
                try txn.delete(checkpoints, key: Array("\(projection.name).v\(serving)".utf8))
            }
        }
    }

    /// Empties a projection's current version and its checkpoint in one transaction, so the next catch-up rebuilds
    /// it from zero (an operator's `rebuild`; queries see it fill up again).
    public func reset(_ projection: any Projection) throws {
        try folding.withLock { _ in try clear(projection) }
    }

    private func clear(_ projection: any Projection) throws {
        let dbs = databases(of: projection)
        try state.write { txn in
            for (_, db) in dbs.all { try txn.clear(db) }
            _ = try txn.delete(checkpoints, key: Array("\(projection.name).v\(projection.version)".utf8))
        }
    }

    /// Catches up, then follows the log: folds each commit as it lands, until the task is cancelled or the store
    /// closes.
    public func follow() async throws {
        while !Task.isCancelled {
            let reached = try catchUp()
            guard await store.waitForEvent(atPosition: reached) else { return }
        }
    }

    /// Where a projection stands: its next position and how far behind the log's head it is.
    public func status(of projection: any Projection) throws -> (position: UInt64, lag: UInt64) {
        let position = try checkpoint(of: projection)
        let head = store.head
        return (position, head > position ? head - position : 0)
    }

    /// Waits, at most `timeout`, until a projection reflects the log up to `position` (its checkpoint is past it):
    /// what a query that names a position calls before it reads. Returns whether it does.
    public func waitUntil(_ projection: any Projection, reflects position: UInt64, timeout: Duration) async throws
        -> Bool
    {
        let deadline = ContinuousClock.now + timeout
        while try checkpoint(of: projection) <= position {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(2))
        }
        return true
    }

    /// The SHA-256 of a projection version's state in a documented canonical encoding: for each database in
    /// name order, `u16 BE name length · name · u64 BE entry count`, then each entry in key order as
    /// `u32 BE key length · key · u32 BE value length · value`. Equal states give equal digests.
    public func digest(of projection: any Projection, version: UInt32? = nil) throws -> String {
        let dbs = databases(of: projection, version: version)
        return try state.read { txn in
            var hasher = SHA256()
            for (name, db) in dbs.all {
                hasher.update(data: withUnsafeBytes(of: UInt16(name.utf8.count).bigEndian, Array.init) + Array(name.utf8))
                hasher.update(data: withUnsafeBytes(of: UInt64(try txn.count(db)).bigEndian, Array.init))
                try txn.forEach(db) { key, value in
                    hasher.update(data: withUnsafeBytes(of: UInt32(key.count).bigEndian, Array.init))
                    hasher.update(bufferPointer: key)
                    hasher.update(data: withUnsafeBytes(of: UInt32(value.count).bigEndian, Array.init))
                    hasher.update(bufferPointer: value)
                    return true
                }
            }
            return hasher.finalize().map { String(format: "%02x", $0) }.joined()
        }
    }

    /// An event copied out of the read transaction, so the fold runs in the state store's transaction.
    private struct OwnedEvent {
        let record: [UInt8]
        let position: UInt64
        let facts: [UInt8]?
        let personal: [UInt8]?
    }

    private static func withParts(_ e: OwnedEvent,
                                  _ body: (UnsafeRawBufferPointer?, UnsafeRawBufferPointer?) throws -> Void) throws {
        func personal(_ facts: UnsafeRawBufferPointer?) throws {
            if let p = e.personal { try p.withUnsafeBytes { try body(facts, $0) } } else { try body(facts, nil) }
        }
        if let f = e.facts { try f.withUnsafeBytes { try personal($0) } } else { try personal(nil) }
    }
}
