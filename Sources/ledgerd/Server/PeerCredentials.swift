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
        let id = ObjectIdentifier(channel)
        if let known = cache.withLock({ $0[id] }) { return known }
        guard let read = try await read(channel) else { return nil }
        cache.withLock { $0[id] = read }
        channel.closeFuture.whenComplete { _ in _ = cache.withLock { $0.removeValue(forKey: id) } }
        return read
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

    private static func read(_ channel: any Channel) async throws -> PeerCredentials? {
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        let raw: ledger_ucred = try await provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: ledger_sol_socket()),
            name: NIOBSDSocket.Option(rawValue: ledger_so_peercred())
        ).get()
        return PeerCredentials(pid: raw.pid, uid: raw.uid, gid: raw.gid, account: accountName(raw.uid))
    }
}
