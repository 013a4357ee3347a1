import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The guards around an open store: one writing process (an `flock` on `writer.lock` beside the environment) and
/// one open environment per path in this process (LMDB forbids opening an environment twice in one process: its
/// POSIX locks would be released by the second close).
final class StoreLock: Sendable {
    private static let openInProcess = Mutex<Set<String>>([])

    let key: String
    private let fd: Int32

    /// Takes the guards for the store directory `path`; `exclusive` also takes the writer lock.
    init(directory path: String, exclusive: Bool) throws(StoreError) {
        let key = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let inserted = Self.openInProcess.withLock { $0.insert(key).inserted }
        guard inserted else {
            throw StoreError(.alreadyOpen, "the store at \(path) is already open in this process; share that Store "
                + "instead of opening it twice (LMDB forbids two environments on one path in a process)")
        }
        guard exclusive else {
            self.key = key
            self.fd = -1
            return
        }
        let lockPath = path + "/writer.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            Self.openInProcess.withLock { _ = $0.remove(key) }
            throw StoreError(.storage, "cannot open the lock file \(lockPath): \(String(cString: strerror(errno)))")
        }
        // A child process this one is spawning holds a copy of a just-closed lock descriptor until its exec closes
        // it (O_CLOEXEC): a lock found taken is tried again for a moment before it counts as another writer's.
        var locked = flock(fd, LOCK_EX | LOCK_NB) == 0
        for _ in 0..<10 where !locked {
            usleep(20_000)
            locked = flock(fd, LOCK_EX | LOCK_NB) == 0
        }
        guard locked else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            let holder = n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            close(fd)
            Self.openInProcess.withLock { _ = $0.remove(key) }
            throw StoreError(.locked, "the store at \(path) is open for writing by another process (pid \(holder)); "
                + "stop it, or open this one read-only")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        self.key = key
        self.fd = fd
    }

    /// Releases both guards.
    func release() {
        if fd >= 0 { close(fd) }  // closing the descriptor drops the flock
        _ = Self.openInProcess.withLock { $0.remove(key) }
    }
}

/// fsyncs a directory, so a newly created entry in it survives a power cut.
func fsyncDirectory(_ path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    fsync(fd)
    close(fd)
}
