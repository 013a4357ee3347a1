import Synchronization

/// Tells waiters when the log's head moves past a position: the writer's commit hook.
///
/// The writer publishes each new head after a commit; a subscription or projection that caught up waits here
/// instead of polling.
final class CommitSignal: Sendable {
    private struct State {
        var head: UInt64 = 0
        var closed = false
        var waiters: [(after: UInt64, continuation: CheckedContinuation<UInt64?, Never>)] = []
    }

    private let state = Mutex(State())

    /// Records a new head and wakes everyone waiting for a position below it.
    func publish(_ head: UInt64) {
        let ready = state.withLock { s -> [CheckedContinuation<UInt64?, Never>] in
            s.head = max(s.head, head)
            var ready = [CheckedContinuation<UInt64?, Never>]()
            s.waiters.removeAll { waiter in
                guard waiter.after < s.head else { return false }
                ready.append(waiter.continuation)
                return true
            }
            return ready
        }
        for c in ready { c.resume(returning: head) }
    }

    /// Wakes every waiter with `nil`; later waits return `nil` at once.
    func close() {
        let all = state.withLock { s -> [CheckedContinuation<UInt64?, Never>] in
            s.closed = true
            defer { s.waiters.removeAll() }
            return s.waiters.map(\.continuation)
        }
        for c in all { c.resume(returning: nil) }
    }

    /// Waits until the head is beyond `position` (an event at `position` exists); returns the head, or `nil` when
    /// the store closed.
    func wait(untilBeyond position: UInt64) async -> UInt64? {
        await withCheckedContinuation { continuation in
            let now: UInt64?? = state.withLock { s in
                if s.closed { return .some(nil) }
                if s.head > position { return .some(s.head) }
                s.waiters.append((position, continuation))
                return .none
            }
            if let now { continuation.resume(returning: now) }
        }
    }
}
