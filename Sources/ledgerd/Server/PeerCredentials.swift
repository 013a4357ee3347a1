import CPeerCredentials
import Glibc
import NIOCore
import Synchronization

/// The process at the other end of a Unix-domain socket connection, as the kernel reports it (SO_PEERCRED).
struct PeerCredentials: Sendable, Hashable {
    let pid: Int32
    let uid: UInt32
    let gid: UInt32
    /// The uid's account name (or `uid:N`), read with the reentrant getpwuid_r.
    let account: String

    /// Credentials of open connections, read once per connection and dropped when it closes.
    private static let cache = Mutex<[ObjectIdentifier: PeerCredentials]>([:])

    /// The credentials of a connection (read once, then remembered until it closes), or `nil` when its channel is not
    /// a socket.
    static func of(_ channel: any Channel) async throws -> PeerCredentials? {
        try await future(of: channel).get()
    }

    /// The same, for a caller on the channel's event loop (where it is answered at once).
    static func future(of channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
        let id = ObjectIdentifier(channel)
        if let known = cache.withLock({ $0[id] }) { return channel.eventLoop.makeSucceededFuture(known) }
        guard let provider = channel as? any SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(nil) }
        return provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: ledger_sol_socket()),
            name: NIOBSDSocket.Option(rawValue: ledger_so_peercred())
        ).map { (raw: ledger_ucred) -> PeerCredentials? in
            let read = PeerCredentials(pid: raw.pid, uid: raw.uid, gid: raw.gid, account: accountName(raw.uid))
            let first = cache.withLock { cache in
                defer { cache[id] = read }
                return cache[id] == nil
            }
            if first { channel.closeFuture.whenComplete { _ in _ = cache.withLock { $0.removeValue(forKey: id) } } }
            return read
        }
    }

    /// The account name of a uid, or `uid:N`.
    static func accountName(_ uid: UInt32) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4_096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else {
            return "uid:\(uid)"
        }
        return String(cString: name)
    }
}
