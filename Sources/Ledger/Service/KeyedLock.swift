import Synchronization

/// Runs async work one at a time per key, in this process: waiters queue in order, other keys go on.
///
/// Used to serialize the first submissions of one citizen (keyed by the ID number, held in memory only), so two
/// racing submissions cannot both find the citizen unknown and mint two subjects: the second looks the citizen up
/// after the first was appended. One process writes a store, so an in-process lock is enough.
final class KeyedLock: Sendable {
    private let waiters = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

    /// Runs `body` holding every one of `keys`, taken in sorted order (so two callers naming the same keys never
    /// wait on each other crosswise).
    func withLocks<T: Sendable>(_ keys: [String], _ body: () async throws -> T) async throws -> T {
        var remaining = Array(Set(keys)).sorted()
        guard !remaining.isEmpty else { return try await body() }
        let first = remaining.removeFirst()
        return try await withLock(first) { try await withLocks(remaining, body) }
    }

    /// Runs `body` once no other holder of `key` is running.
    func withLock<T: Sendable>(_ key: String, _ body: () async throws -> T) async throws -> T {
        await acquire(key)
        do {
            let result = try await body()
            release(key)
            return result
        } catch {
            release(key)
            throw error
        }
    }

    private func acquire(_ key: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let free = waiters.withLock { w -> Bool in
                guard w[key] != nil else {
                    w[key] = []
                    return true
                }
                w[key]!.append(continuation)
                return false
            }
            if free { continuation.resume() }
        }
    }

    private func release(_ key: String) {
        let next = waiters.withLock { w -> CheckedContinuation<Void, Never>? in
            guard var queue = w[key], !queue.isEmpty else {
                w[key] = nil
                return nil
            }
            let first = queue.removeFirst()
            w[key] = queue
            return first
        }
        next?.resume()
    }
}
