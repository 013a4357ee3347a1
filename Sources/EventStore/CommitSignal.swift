import Synchronization

/// Tells waiters when the log's head moves past a position: the writer's commit hook.
///
/// The writer publishes each new head after a commit; a subscription or projection that caught up waits here
/// instead of polling. A waiting task that is cancelled is resumed at once.
final class CommitSignal: Sendable {
    private struct Waiter {
        let id: UInt64
        let after: UInt64
        let continuation: CheckedContinuation<UInt64?, Never>
    }

    private struct State {
        var head: UInt64 = 0
        var closed = false
        var nextID: UInt64 = 0
        var waiters: [Waiter] = []
    }

    private let state = Mutex(State())

    /// The last published head.
    var head: UInt64 { state.withLock { $0.head } }

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
    /// the store closed or the task was cancelled.
    func wait(untilBeyond position: UInt64) async -> UInt64? {
        let id = state.withLock { s in
            defer { s.nextID += 1 }
            return s.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now: UInt64?? = state.withLock { s in
                    if s.closed || Task.isCancelled { return .some(nil) }
                    if s.head > position { return .some(s.head) }
                    s.waiters.append(Waiter(id: id, after: position, continuation: continuation))
                    return .none
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> Waiter? in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: index)
            }
            waiter?.continuation.resume(returning: nil)
        }
    }
}
