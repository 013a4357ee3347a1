import Foundation
import Synchronization

/// The one thread that writes to the log.
///
/// LMDB has a single writer and binds a write transaction to its thread, and the fsync at commit is the cost to
/// amortise, so every append is queued here and the thread commits whatever has gathered while the previous
/// commit was syncing: one transaction, one fsync, then each caller is resumed with its own result (group commit).
/// Callers do the CPU work (validation, salts, commitments, compression) on their own tasks beforehand.
///
/// `@unchecked Sendable`: the queue is guarded by `condition`; everything else mutable (`state`, caches) is
/// touched only by the writer thread.
final class Writer: @unchecked Sendable {
    /// Called once, on the writer thread, with an append's outcome.
    typealias AppendCompletion = @Sendable (Result<AppendResult, StoreError>) -> Void

    enum Job {
        case append(PreparedAppend, AppendCompletion)
        case sync(CheckedContinuation<Void, any Error>)
        case installDictionary([UInt8], @Sendable (Result<UInt8, StoreError>) -> Void)
        /// Work that must see the writer's state between batches (checkpoint signing); called with `nil` when the
        /// writer has stopped.
        case exclusive(@Sendable (Writer?) -> Void)
    }

    private let condition = NSCondition()
    private var queue: [Job] = []
    private var stopping = false
    private var stopped = false
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    let env: LMDBEnvironment
    let dbs: StoreDatabases
    /// The index environment (derived, committed without fsync after the log's commit).
    let index: LMDBEnvironment
    let idbs: IndexDatabases
    /// Set when a batch reached the log but not the index: the index is caught up before the next batch.
    var indexBehind = false
    let codec: PayloadCodec
    let gate: ResizeGate
    let origin: String
    let maxBatchEvents: Int
    /// Writer-thread state: positions, clocks and name → number caches.
    var state: WriterState

    /// The next position to be assigned, published after each commit.
    let head: Atomic<UInt64>
    /// Jobs waiting (the writer queue depth).
    let queueDepth = Atomic<Int>(0)
    /// Commits, events appended and nanoseconds spent in write transactions (fsync included), since open.
    let commits = Atomic<Int>(0)
    let appendedEvents = Atomic<Int>(0)
    let commitNanoseconds = Atomic<Int>(0)
    /// Nanoseconds of those spent applying appends inside the transaction (the rest is LMDB's commit: page
    /// writes and fsync).
    let applyNanoseconds = Atomic<Int>(0)
    /// Called on the writer thread after each commit that appended, with the new head.
    let onCommit: @Sendable (UInt64) -> Void

    init(env: LMDBEnvironment, dbs: StoreDatabases, index: StoreIndex, codec: PayloadCodec, gate: ResizeGate,
         origin: String, maxBatchEvents: Int, state: WriterState, onCommit: @escaping @Sendable (UInt64) -> Void) {
        self.env = env
        self.dbs = dbs
        self.index = index.env
        self.idbs = index.dbs
        self.codec = codec
        self.gate = gate
        self.origin = origin
        self.maxBatchEvents = maxBatchEvents
        self.state = state
        self.head = Atomic(state.nextPosition)
        self.onCommit = onCommit
    }

    func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "ledger-writer"
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    /// Appends being validated and encoded by their callers, on their way to the queue: while some are, a batch
    /// smaller than ``gatherEvents`` waits up to ``gatherWait`` for them (one commit and one fsync for more events,
    /// as PostgreSQL's `commit_delay` with `commit_siblings`); a lone appender never waits.
    let preparing = Atomic<Int>(0)
    /// A batch this small waits for appends being prepared.
    static let gatherEvents = 64
    /// The longest such a wait.
    static let gatherWait: TimeInterval = 0.000_4

    /// Wakes the writer (an append it may be waiting for was refused before it was queued).
    func nudge() {
        condition.lock()
        condition.signal()
        condition.unlock()
    }

    /// Queues a job; fails it at once when the writer has stopped. `wasPreparing`: the caller counted itself in
    /// ``preparing``, which drops now.
    func enqueue(_ job: Job, wasPreparing: Bool = false) {
        condition.lock()
        if wasPreparing { preparing.subtract(1, ordering: .relaxed) }
        guard !stopping else {
            condition.unlock()
            Self.fail(job, StoreError(.closed, "the store was closed; open it again to write"))
            return
        }
        queue.append(job)
        queueDepth.add(1, ordering: .relaxed)
        condition.signal()
        condition.unlock()
    }

    /// Events in the queued appends (called holding the condition's lock).
    private var queuedEvents: Int {
        queue.reduce(0) { if case .append(let a, _) = $1 { $0 + a.eventCount } else { $0 } }
    }

    /// Finishes the queued jobs, then stops the thread and waits for it.
    func stop() {
        condition.lock()
        let wasRunning = !stopping && thread != nil
        stopping = true
        condition.signal()
        condition.unlock()
        if wasRunning { finished.wait() }
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping {
                if indexBehind {
                    // Nothing queued, but the index trails the log (a failed commit and catch-up): try again soon
                    // rather than waiting for the next append, so readers of the index are not left behind.
                    if !condition.wait(until: Date(timeIntervalSinceNow: 1)) { break }
                } else {
                    condition.wait()
                }
            }
            if queue.isEmpty && indexBehind && !stopping {
                condition.unlock()
                process([])
                continue
            }
            if queue.isEmpty {
                condition.unlock()
                return
            }
            // A small batch with appends still being prepared waits a moment for them (see ``preparing``).
            if !stopping, preparing.load(ordering: .relaxed) > 0 {
                let deadline = Date(timeIntervalSinceNow: Self.gatherWait)
                while !stopping, queuedEvents < Self.gatherEvents, preparing.load(ordering: .relaxed) > 0,
                      condition.wait(until: deadline) {}
            }

            var batch = [Job]()
            var events = 0
            var taken = 0
            for job in queue {
                if case .append(let a, _) = job {
                    // An append still being encoded gets a transaction of its own: should its encoding fail, no
                    // other append goes down with it.
                    if a.streamed && !batch.isEmpty { break }
                    if events > 0 && events + a.eventCount > maxBatchEvents { break }
                    events += a.eventCount
                    if a.streamed {
                        batch.append(job)
                        taken += 1
                        break
                    }
                }
                batch.append(job)
                taken += 1
            }
            queue.removeFirst(taken)
            queueDepth.subtract(taken, ordering: .relaxed)
            condition.unlock()
            process(batch)
        }
    }

    private func process(_ batch: [Job]) {
        var appends = [(PreparedAppend, AppendCompletion)]()
        for job in batch {
            if case .append(let a, let c) = job { appends.append((a, c)) }
        }
        // An index left behind by a failed commit is caught up before the batch's appends (and tried again a second
        // later when nothing else comes, see run()). Other jobs do not read the index.
        var behind: StoreError?
        if indexBehind {
            do { try catchUpIndex() } catch {
                behind = (error as? StoreError) ?? StoreError((error as? LMDBError) ?? LMDBError(code: -1),
                                                              while: "catching the index up with the log")
            }
        }
        if let behind {
            for (a, c) in appends { Self.settle(a, c, .failure(behind)) }
        } else if !appends.isEmpty {
            commitAppends(appends)
        }
        for job in batch {
            switch job {
            case .append: continue
            case .sync(let c):
                do {
                    try env.sync()
                    c.resume()
                } catch {
                    c.resume(throwing: StoreError(error, while: "syncing the log"))
                }
            case .installDictionary(let bytes, let done):
                done(installDictionary(bytes))
            case .exclusive(let work):
                work(self)
            }
        }
    }

    /// Resumes an append's caller, and tells an appender still encoding it that nobody needs the rest.
    private static func settle(_ append: PreparedAppend, _ completion: AppendCompletion,
                               _ outcome: Result<AppendResult, StoreError>) {
        append.feed.abandon()
        completion(outcome)
    }

    private static func fail(_ job: Job, _ error: StoreError) {
        switch job {
        case .append(let a, let c): settle(a, c, .failure(error))
        case .sync(let c): c.resume(throwing: error)
        case .installDictionary(_, let done): done(.failure(error))
        case .exclusive(let work): work(nil)
        }
    }

    // MARK: - Group commit

    private func commitAppends(_ appends: [(PreparedAppend, AppendCompletion)]) {
        let durable = appends.contains { $0.0.durability == .durable }
        while true {
            state.boundStreams()
            var batch = BatchState(state, recordedAt: max(Self.nowMicros(), state.lastRecordedAt))
            var outcomes = [Result<AppendResult, StoreError>]()
            outcomes.reserveCapacity(appends.count)
            var logCommitted = false
            do {
                if !durable { try env.setNoSync(true) }
                defer { if !durable { try? env.setNoSync(false) } }
                let started = ContinuousClock.now
                defer { commitNanoseconds.add((ContinuousClock.now - started).nanoseconds, ordering: .relaxed) }
                // The log commits (and syncs) first, then the index: an index never names a position the log lacks,
                // and a crash between the two leaves an index that is caught up at the next open.
                // A page or two of the index per event at most, allocated ahead (``StoreIndex/reservePagesPerEvent``).
                let events = appends.reduce(0) { $0 + $1.0.eventCount }
                try index.write(reserving: StoreIndex.reservation(events: events, in: index)) { itxn in
                    // The index must be exactly as far as the log before it takes this batch.
                    let through = try idbs.through(itxn)
                    guard through == state.nextPosition else {
                        indexBehind = true
                        throw StoreError(.storage, "the index reaches position \(through) but the log \(state.nextPosition); "
                            + "it is caught up before the next batch, retry")
                    }
                    try env.write { txn in
                        let applying = ContinuousClock.now
                        defer { applyNanoseconds.add((ContinuousClock.now - applying).nanoseconds, ordering: .relaxed) }
                        for (append, _) in appends {
                            outcomes.append(try apply(append, txn, itxn, &batch))
                        }
                        if let frontier = batch.frontier, frontier.size != state.frontier?.size {
                            try frontier.encoded.withUnsafeBytes { value in
                                try Array("frontier".utf8).withUnsafeBytes { try txn.put(dbs.meta, $0, value) }
                            }
                        }
                        if batch.nextPosition != state.nextPosition {
                            try idbs.setThrough(batch.nextPosition, itxn)
                            try idbs.setLastEventID(batch.lastEventID, itxn)
                        }
                    }
                    logCommitted = true
                }
            } catch where logCommitted {
                // The events are durable and readable by position; the index catches up before the next batch.
                indexBehind = true
            } catch let error as LMDBError where error == .mapFull {
                state.discardStreams()
                do {
                    try growMap()
                    continue
                } catch {
                    let failure = StoreError(error as? LMDBError ?? .mapFull, while: "growing the memory map")
                    for (a, c) in appends { Self.settle(a, c, .failure(failure)) }
                    return
                }
            } catch {
                state.discardStreams()
                let failure = (error as? LMDBError).map { diskFullOr($0, while: "committing appends") }
                    ?? (error as? StoreError) ?? StoreError(.storage, "committing appends: \(error)")
                for (a, c) in appends { Self.settle(a, c, .failure(failure)) }
                return
            }
            let appended = batch.nextPosition != state.nextPosition
            commits.add(1, ordering: .relaxed)
            appendedEvents.add(Int(batch.nextPosition - state.nextPosition), ordering: .relaxed)
            state.absorb(batch)
            head.store(state.nextPosition, ordering: .releasing)
            // The index commit failed after the log's: index the batch from the log now, so its callers read what
            // they wrote (if this fails too, the next batch tries first).
            if indexBehind { try? catchUpIndex() }
            for ((append, continuation), outcome) in zip(appends, outcomes) {
                Self.settle(append, continuation, outcome)
            }
            if appended { onCommit(state.nextPosition) }
            return
        }
    }

    /// Doubles the maps of the log and the index (at least +64 MiB; either may have filled) while no read
    /// transaction of this process is open.
    func growMap() throws {
        try gate.exclusive {
            for environment in [env, index] {
                let current = environment.mapSize
                try environment.setMapSize(max(current * 2, current + (64 << 20)))
            }
        }
    }

    private func installDictionary(_ bytes: [UInt8]) -> Result<UInt8, StoreError> {
        let id = codec.latestID &+ 1
        guard id != 0 else {
            return .failure(StoreError(.invalidArgument, "the store holds 255 dictionaries; no more can be added"))
        }
        let dictionary: ZstdDictionary
        do { dictionary = try ZstdDictionary(id: id, bytes: bytes, level: codec.level) } catch {
            return .failure(StoreError(.invalidArgument, "the trained dictionary is not usable: \(error)"))
        }
        do {
            do {
                try env.write { txn in
                    try bytes.withUnsafeBytes { try txn.put(dbs.dictionaries, integer: UInt64(id), $0) }
                }
            } catch let error as LMDBError where error == .mapFull {
                try growMap()
                try env.write { txn in
                    try bytes.withUnsafeBytes { try txn.put(dbs.dictionaries, integer: UInt64(id), $0) }
                }
            }
        } catch {
            let lmdb = error as? LMDBError ?? LMDBError(code: -1)
            return .failure(StoreError(lmdb, while: "storing a compression dictionary"))
        }
        codec.install(dictionary, makeCurrent: true)
        return .success(id)
    }

    /// LMDB reports a short write to a full disk as EIO: call it disk full when the store's file system has
    /// (almost) no room left.
    func diskFullOr(_ error: LMDBError, while doing: String) -> StoreError {
        if error.code == EIO || error.code == ENOSPC {
            var fs = statvfs()
            if statvfs(env.path, &fs) == 0, UInt64(fs.f_bavail) * UInt64(fs.f_frsize) < 64 << 20 {
                return StoreError(LMDBError.noSpace, while: doing)
            }
        }
        return StoreError(error, while: doing)
    }

    static func nowMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }
}

extension Duration {
    /// The duration in whole nanoseconds.
    var nanoseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
    }
}
