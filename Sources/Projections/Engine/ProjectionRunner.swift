public import EventStore
import Crypto
import Dispatch
import Foundation
import Synchronization

/// Where each lane of a catch-up stands, and the first error a lane met.
private final class LaneProgress: Sendable {
    private let state: Mutex<(reached: [UInt64], failure: (any Error)?, cancelled: Bool)>

    init(start: [UInt64]) { state = Mutex((start, nil, false)) }

    /// Whether the catch-up was cancelled (seen by lane 0 on the caller's thread).
    var cancelled: Bool { state.withLock { $0.cancelled } }

    /// Records a cancellation when `yes`; returns whether the catch-up is cancelled.
    func cancel(if yes: Bool) -> Bool { state.withLock { $0.cancelled = $0.cancelled || yes; return $0.cancelled } }

    /// Records a lane's position; returns the slowest lane's.
    @discardableResult
    func reached(_ lane: Int, _ position: UInt64) -> UInt64 {
        state.withLock { $0.reached[lane] = position; return $0.reached.min() ?? position }
    }

    var slowest: UInt64 { state.withLock { $0.reached.min() ?? 0 } }

    func failed(_ error: any Error) { state.withLock { if $0.failure == nil { $0.failure = error } } }

    var failure: (any Error)? { state.withLock { $0.failure } }
}

/// Runs projections over a store into state stores: catch-up from each checkpoint in batches (each batch one state
/// transaction with the checkpoint), following the log as it grows, rebuilding a new version beside the old one,
/// and digesting the state.
///
/// Each projection keeps its state in an LMDB environment of its own (`<statePath>/<name>`), so projections fold in
/// parallel: they are spread over lanes (one thread each, balanced by ``Projection/foldWeight``), and each lane reads
/// the log once for all its projections. Within an environment, database names are
/// `<projection>.v<version>.<database>` plus one `checkpoints` database; the checkpoint of a version is keyed
/// `<projection>.v<version>`, and `<projection>` names the version that serves.
public final class ProjectionRunner: Sendable {
    /// The log.
    public let store: Store
    /// The projections, each at its current version.
    public let projections: [any Projection]
    /// Events per state transaction.
    public let batchSize: Int
    /// The state environment of each projection, in the order of ``projections``.
    private let states: [StateStore]
    /// Indexes into ``projections``: the projections each lane folds.
    let lanes: [[Int]]
    /// One catch-up at a time: two would both fold the batch after the same checkpoint.
    private let folding = Mutex<Void>(())
    /// Each projection's recent commits and failure, in the order of ``projections``.
    private let health: Mutex<[ProjectionHealth]>

    /// Opens the state stores under `statePath` with the databases of `projections` (current and, for a rebuild,
    /// previous versions, as `previousVersions` names them).
    ///
    /// - Parameters:
    ///   - lanes: Threads folding at once (default: the processor count, at most one per projection).
    public init(store: Store, statePath: String, projections: [any Projection], previousVersions: [String: UInt32] = [:],
                batchSize: Int = 8_192, mapSize: Int = 64 << 30, lanes: Int? = nil) throws {
        try FileManager.default.createDirectory(atPath: statePath, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o750])
        // The single-environment layout of earlier versions: derived state, so it is dropped and rebuilt.
        for legacy in ["data.mdb", "lock.mdb"] where FileManager.default.fileExists(atPath: statePath + "/" + legacy) {
            try FileManager.default.removeItem(atPath: statePath + "/" + legacy)
        }
        self.states = try projections.map { p in
            let path = statePath + "/" + p.name
            var versions: Set<UInt32> = [p.version]
            if let previous = previousVersions[p.name] { versions.insert(previous) }
            // The version that served when the state was last open stays open until the current one has caught up:
            // after an upgrade that bumped the version it serves meanwhile, and the switch clears it (applicants'
            // names included). Any other version found (one that was rebuilding and never served) is cleared now,
            // so no old state lingers unread and unerased.
            let (serving, found) = try Self.storedVersions(of: p.name, at: path, mapSize: mapSize)
            if let serving { versions.insert(serving) }
            let strays = found.subtracting(versions)
            var names = ["checkpoints"]
            for version in versions.union(strays).sorted() {
                names += p.databases.map { Self.prefix(p.name, version) + $0 }
            }
            let state = try StateStore(path: path, databases: names, mapSize: mapSize)
            if !strays.isEmpty {
                try state.write { txn in
                    for version in strays.sorted() {
                        for name in p.databases { try txn.clear(state[Self.prefix(p.name, version) + name]) }
                        _ = try txn.delete(state["checkpoints"], key: Array("\(p.name).v\(version)".utf8))
                    }
                }
            }
            return state
        }
        self.store = store
        self.projections = projections
        self.batchSize = max(1, batchSize)
        self.health = Mutex(Array(repeating: ProjectionHealth(), count: projections.count))
        self.lanes = Self.balance(projections, lanes: lanes ?? ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Spreads projections over at most `lanes` lanes, heaviest first onto the lightest lane.
    static func balance(_ projections: [any Projection], lanes: Int) -> [[Int]] {
        let count = max(1, min(lanes, projections.count))
        var out = Array(repeating: [Int](), count: count)
        var load = Array(repeating: 0, count: count)
        let order = projections.indices.sorted { projections[$0].foldWeight > projections[$1].foldWeight }
        for i in order {
            let lane = load.indices.min { load[$0] < load[$1] }!
            out[lane].append(i)
            load[lane] += max(1, projections[i].foldWeight)
        }
        return out.filter { !$0.isEmpty }.map { $0.sorted() }
    }

    static func prefix(_ name: String, _ version: UInt32) -> String { "\(name).v\(version)." }

    /// The version serving a projection's state at `path` when it was last open (`nil` for a new state), and every
    /// version holding a checkpoint there. (The environment is opened for its checkpoints alone, then closed, before
    /// it is opened with every database.)
    private static func storedVersions(of name: String, at path: String, mapSize: Int) throws
        -> (serving: UInt32?, found: Set<UInt32>)
    {
        guard FileManager.default.fileExists(atPath: path + "/data.mdb") else { return (nil, []) }
        let probe = try StateStore(path: path, databases: ["checkpoints"], mapSize: mapSize)
        return try probe.read { txn in
            let serving = try ProjectionCheckpoint.load(name, in: probe["checkpoints"], txn)?.version
            let prefix = Array("\(name).v".utf8)
            var found = Set<UInt32>()
            try txn.forEach(probe["checkpoints"], from: prefix) { key, _ in
                guard key.starts(with: prefix) else { return false }
                if let v = UInt32(String(decoding: key.dropFirst(prefix.count), as: UTF8.self)) { found.insert(v) }
                return true
            }
            return (serving, found)
        }
    }

    private func index(of projection: any Projection) -> Int {
        guard let i = projections.firstIndex(where: { $0.name == projection.name }) else {
            preconditionFailure("projection \(projection.name) is not run by this runner")
        }
        return i
    }

    /// The state store that holds a projection (every version of it).
    public func state(of projection: any Projection) -> StateStore { states[index(of: projection)] }

    private func checkpoints(_ i: Int) -> StateDatabase { states[i]["checkpoints"] }

    /// The databases of a projection at a version.
    public func databases(of projection: any Projection, version: UInt32? = nil) -> ProjectionDatabases {
        let state = self.state(of: projection)
        let v = version ?? projection.version
        return ProjectionDatabases(handles: Dictionary(uniqueKeysWithValues: projection.databases.map {
            ($0, state[Self.prefix(projection.name, v) + $0])
        }))
    }

    /// Where a projection version stands (the next position it folds; 0 = nothing yet).
    public func checkpoint(of projection: any Projection, version: UInt32? = nil) throws -> UInt64 {
        let i = index(of: projection)
        let key = "\(projection.name).v\(version ?? projection.version)"
        return try states[i].read { txn in
            try ProjectionCheckpoint.load(key, in: checkpoints(i), txn)?.position ?? 0
        }
    }

    /// The version that serves queries (the current one once it has caught up; before that, the previous one).
    public func servingVersion(of projection: any Projection) throws -> UInt32? {
        let i = index(of: projection)
        return try states[i].read { txn in
            try ProjectionCheckpoint.load(projection.name, in: checkpoints(i), txn)?.version
        }
    }

    /// Folds every event up to the head into every projection; returns the position reached. Lanes run in
    /// parallel; each reads every batch of the log once and folds it into each of its projections whose checkpoint
    /// is behind it, one state transaction per projection with its checkpoint. A projection whose current version
    /// is new starts from zero in its own databases; when it reaches the head it becomes the serving version
    /// (blue/green), and the old version's databases are emptied. `progress` gets the slowest lane's position.
    @discardableResult
    public func catchUp(until end: UInt64? = nil, progress: (UInt64, UInt64) -> Void = { _, _ in }) throws -> UInt64 {
        try folding.withLock { _ in try foldAll(until: end, progress: progress) }
    }

    private func foldAll(until end: UInt64?, progress: (UInt64, UInt64) -> Void) throws -> UInt64 {
        // Whatever the fold reached is promoted, even when a projection stopped or the caller was cancelled; the
        // fold's own error comes first, then a promotion's.
        let folded = Result { try fold(until: end, progress: progress) }
        var failure: ProjectionStopped?
        for (i, projection) in projections.enumerated() where health.withLock({ $0[i].stopped == nil }) {
            do {
                try promote(projection)
            } catch {
                // A switch that cannot be written (a full disk) stops that projection like a fold would.
                let reason = "\(projection.name) v\(projection.version) could not become the serving version: \(error)"
                health.withLock { $0[i].stopped = reason }
                failure = failure ?? ProjectionStopped(projection: projection.name, reason: reason)
            }
        }
        let reached = try folded.get()
        if let failure { throw failure }
        return reached
    }

    private func fold(until end: UInt64?, progress: (UInt64, UInt64) -> Void) throws -> UInt64 {
        // Never past the log's head: a checkpoint beyond it would skip the events that arrive there later.
        let head = min(end ?? store.head, store.head)
        var start = try projections.map { try checkpoint(of: $0) }
        // A checkpoint past the log's head means the log was replaced (a restore of an older backup): the state
        // reflects events the log no longer holds, so that projection starts again from zero.
        for (i, projection) in projections.enumerated() where start[i] > store.head {
            try clear(projection)
            start[i] = 0
        }
        // A stopped projection is skipped (it stays where it failed) until it is rebuilt.
        let stopped = health.withLock { h in h.map { $0.stopped != nil } }
        for i in start.indices where stopped[i] { start[i] = max(start[i], head) }
        // A short catch-up (following the log commit by commit) folds on this thread alone, all projections from one
        // read of the log: a thread per lane costs more than it saves there.
        if head - min(head, start.min() ?? head) <= UInt64(batchSize) {
            try foldLane(lanes.flatMap { $0 }, from: start, to: head, stopping: { Task.isCancelled }) { _ in }
            progress(head, head)
            return head
        }
        // Lane 0 folds on this thread and reports progress (the slowest lane's position); the others on threads
        // of their own.
        let shared = LaneProgress(start: lanes.map { lane in lane.map { start[$0] }.min() ?? head })
        let others = DispatchGroup()
        for lane in lanes.indices.dropFirst() {
            others.enter()
            let members = lanes[lane]
            Thread.detachNewThread { [self, start] in
                defer { others.leave() }
                do {
                    try foldLane(members, from: start, to: head, stopping: { shared.cancelled }) {
                        shared.reached(lane, $0)
                    }
                    shared.reached(lane, head)
                } catch {
                    shared.failed(error)
                }
            }
        }
        do {
            // The caller's task is visible on this thread only: its cancellation is passed on to the other lanes.
            try foldLane(lanes[0], from: start, to: head, stopping: { shared.cancel(if: Task.isCancelled) }) {
                progress(shared.reached(0, $0), head)
            }
            shared.reached(0, head)
        } catch {
            shared.failed(error)
        }
        while others.wait(timeout: .now() + .milliseconds(200)) == .timedOut { progress(shared.slowest, head) }
        if let failure = shared.failure { throw failure }
        if lanes.count > 1 { progress(head, head) }
        return head
    }

    /// Folds the log from the lowest checkpoint of `members` up to `head` into them; between batches, stops with a
    /// `CancellationError` when `stopping` says so (every committed batch stays, with its checkpoint).
    private func foldLane(_ members: [Int], from start: [UInt64], to head: UInt64, stopping: () -> Bool,
                          progress: (UInt64) -> Void) throws {
        var positions = members.map { start[$0] }
        let dbs = members.map { databases(of: projections[$0]) }
        let readers = members.map { projections[$0] }
        var next = positions.min() ?? head
        var failure: ProjectionStopped?
        while next < head {
            if stopping() { throw CancellationError() }
            let stop = min(head, next + UInt64(batchSize))
            // Only the parts some member reads are decoded.
            let batch = try EventBatch(store, from: next, to: stop) { record in
                var chosen = PayloadSelection.none
                for reader in readers where chosen < .all { chosen = max(chosen, reader.payloads(of: record)) }
                return chosen
            }
            try batch.withEvents { events in
                for (m, i) in members.enumerated() where positions[m] < stop {
                    let projection = projections[i]
                    do {
                        try states[i].write { txn in
                            let from = positions[m]
                            try projection.fold(batch: from <= events.first?.record.position ?? 0
                                                    ? events : events.filter { $0.record.position >= from },
                                                txn, dbs[m])
                            try ProjectionCheckpoint(name: "\(projection.name).v\(projection.version)",
                                                     version: projection.version, position: stop)
                                .save(in: checkpoints(i), txn)
                        }
                        health.withLock { $0[i].committed(stop) }
                        positions[m] = stop
                    } catch {
                        // The batch's transaction is aborted: the projection stays at its checkpoint, and stops.
                        let reason = "\(projection.name) v\(projection.version) stopped folding positions "
                            + "\(positions[m])..<\(stop): \(error)"
                        health.withLock { $0[i].stopped = reason }
                        positions[m] = head
                        failure = failure ?? ProjectionStopped(projection: projection.name, reason: reason)
                    }
                }
            }
            next = positions.min() ?? head
            progress(next)
        }
        // The lane went on with its other projections; the stop is reported once they are done.
        if let failure { throw failure }
    }

    /// Makes the current version the serving one once it has caught up with the serving one, and empties the old.
    private func promote(_ projection: any Projection) throws {
        let i = index(of: projection)
        let serving = try servingVersion(of: projection)
        guard serving != projection.version else { return }
        let current = try checkpoint(of: projection)
        if let serving, try checkpoint(of: projection, version: serving) > current { return }
        try states[i].write { txn in
            try ProjectionCheckpoint(name: projection.name, version: projection.version, position: current)
                .save(in: checkpoints(i), txn)
            if let serving, serving != projection.version {
                for name in projection.databases {
                    let old = Self.prefix(projection.name, serving) + name
                    if let db = self.states[i].database(named: old) { try txn.clear(db) }
                }
                // The old version's checkpoint goes with its state, so going back to it rebuilds from zero.
                try txn.delete(checkpoints(i), key: Array("\(projection.name).v\(serving)".utf8))
            }
        }
    }

    /// Empties a projection's current version and its checkpoint in one transaction, so the next catch-up rebuilds
    /// it from zero (an operator's `rebuild`; queries see it fill up again).
    public func reset(_ projection: any Projection) throws {
        try folding.withLock { _ in
            try clear(projection)
            let i = index(of: projection)
            health.withLock { $0[i] = ProjectionHealth() }
        }
    }

    private func clear(_ projection: any Projection) throws {
        let i = index(of: projection)
        let dbs = databases(of: projection)
        try states[i].write { txn in
            for (_, db) in dbs.all { try txn.clear(db) }
            _ = try txn.delete(checkpoints(i), key: Array("\(projection.name).v\(projection.version)".utf8))
        }
    }

    /// Catches up, then follows the log: folds each commit as it lands, until the task is cancelled or the store
    /// closes. A projection that stops (``ProjectionStopped``) is reported to `stopped` and left behind; the others
    /// go on following.
    public func follow(stopped: (ProjectionStopped) -> Void = { _ in }) async throws {
        var pause = Duration.milliseconds(500)
        while !Task.isCancelled {
            let reached: UInt64
            do {
                reached = try catchUp()
                pause = .milliseconds(500)
            } catch let failure as ProjectionStopped {
                stopped(failure)
                continue
            } catch is CancellationError {
                return
            } catch let error as StoreError where error.code == .closed {
                return
            } catch {
                // Not one projection's failure (reading the log, or a state store that cannot be written, e.g. a
                // full disk): reported (as projection `*`), then tried again, waiting longer each time up to 30 s.
                stopped(ProjectionStopped(projection: "*", reason: "catching up: \(error); trying again in \(pause)"))
                do { try await Task.sleep(for: pause) } catch { return }
                pause = min(pause * 2, .seconds(30))
                continue
            }
            guard await store.waitForEvent(atPosition: reached) else { return }
        }
    }

    /// Where a projection stands: its next position, its lag behind the log's head, its recent rate, and why it
    /// stopped if it did.
    public func status(of projection: any Projection) throws -> ProjectionStatus {
        let position = try checkpoint(of: projection)
        let head = store.head
        let i = index(of: projection)
        let (rate, stopped) = health.withLock { ($0[i].rate(), $0[i].stopped) }
        return ProjectionStatus(position: position, lag: head > position ? head - position : 0, rate: rate,
                                stopped: stopped)
    }

    /// Waits, at most `timeout`, until a projection reflects the log up to `position` (its checkpoint is past it):
    /// what a query that names a position calls before it reads. Returns whether it does.
    public func waitUntil(_ projection: any Projection, reflects position: UInt64, timeout: Duration) async throws
        -> Bool
    {
        let deadline = ContinuousClock.now + timeout
        // The version queries read: while a new version rebuilds, the old one (frozen) until the switch.
        while try checkpoint(of: projection, version: try servingVersion(of: projection)) <= position {
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
        return try state(of: projection).read { txn in try Self.digest(dbs, txn) }
    }

    /// The serving state's digest together with the position it reflects, read in one transaction (so the pair is
    /// consistent while the follower folds on): what ``Store/attest(_:actor:)`` records.
    public func attestation(of projection: any Projection) throws -> Store.Attestation {
        let i = index(of: projection)
        let version = try servingVersion(of: projection) ?? projection.version
        let dbs = databases(of: projection, version: version)
        return try states[i].read { txn in
            let position = try ProjectionCheckpoint.load("\(projection.name).v\(version)", in: checkpoints(i), txn)?
                .position ?? 0
            return Store.Attestation(projection: projection.name, version: version, position: position,
                                     digest: try Self.digest(dbs, txn))
        }
    }

    private static func digest(_ dbs: ProjectionDatabases, _ txn: borrowing StateTransaction) throws -> String {
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
