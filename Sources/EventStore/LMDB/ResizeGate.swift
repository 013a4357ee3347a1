#if canImport(Glibc)
import Glibc
#endif

/// Lets the writer grow the memory map while readers use it.
///
/// `mdb_env_set_mapsize` may only be called when this process has no transaction open, so every read
/// transaction holds the gate shared for its (short) life and the writer holds it exclusively to resize.
/// Writer-preferring, so a stream of readers cannot starve a resize; read transactions never nest.
///
/// `@unchecked Sendable`: the rwlock is the synchronisation; it is allocated once and destroyed in `deinit`.
final class ResizeGate: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// Runs `body` while no resize can happen.
    func shared<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    /// Runs `body` while no read transaction is open.
    func exclusive<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}
