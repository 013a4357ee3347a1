import Synchronization

/// Runs async work one at a time per key, in this process: waiters queue in order, other keys go on.
///
/// Used to serialize the first submissions of one citizen (keyed by the ID number, held in memory only), so two
/// racing submissions cannot both find the citizen unknown and mint two subjects: the second looks the citizen up
/// after the first was appended. One process writes a store, so an in-process lock is enough.
final class KeyedLock: Sendable {
    /// A queued caller: its ticket (to find it again when its task is cancelled) and where to resume it.
    private struct Waiter {
        let ticket: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    /// The keys held, each with the callers waiting for it in order; and the next ticket.
    private let state = Mutex<(held: [String: [Waiter]], nextTicket: UInt64)>(([:], 0))

    /// Runs `body` holding every one of `keys`, taken in sorted order (so two callers naming the same keys never
    /// wait on each other crosswise).
    func withLocks<T: Sendable>(_ keys: [String], _ body: () async throws -> T) async throws -> T {
        var remaining = Array(Set(keys)).sorted()
        guard !remaining.isEmpty else { return try await body() }
        let first = remaining.removeFirst()
        return try await withLock(first) { try await withLocks(remaining, body) }
    }

    /// Runs `body` once no other holder of `key` is running. A caller whose task is cancelled while it waits leaves
    /// the queue and throws `CancellationError` (the key goes to the next in line).
    func withLock<T: Sendable>(_ key: String, _ body: () async throws -> T) async throws -> T {
        try await acquire(key)
        do {
            let result = try await body()
            release(key)
            return result
        } catch {
            release(key)
            throw error
        }
    }

    private func acquire(_ key: String) async throws {
        let ticket = state.withLock { s -> UInt64 in
            s.nextTicket += 1
            return s.nextTicket
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Decided under the lock, so a cancellation either finds the waiter queued or is seen here.
                let now: Result<Void, any Error>? = state.withLock { s in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    guard s.held[key] != nil else {
                        s.held[key] = []
                        return .success(())
                    }
                    s.held[key]!.append(Waiter(ticket: ticket, continuation: continuation))
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> Waiter? in
                guard let i = s.held[key]?.firstIndex(where: { $0.ticket == ticket }) else { return nil }
                return s.held[key]!.remove(at: i)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    private func release(_ key: String) {
        let next = state.withLock { s -> Waiter? in
            guard var queue = s.held[key], !queue.isEmpty else {
                s.held[key] = nil
                return nil
            }
            let first = queue.removeFirst()
            s.held[key] = queue
            return first
        }
        next?.continuation.resume()
    }
}
