import CPeerCredentials
import NIOCore

/// The process at the other end of a Unix-domain socket connection, as the kernel reports it (SO_PEERCRED).
struct PeerCredentials: Sendable, Hashable {
    let pid: Int32
    let uid: UInt32
    let gid: UInt32

    /// The credentials of a connection, or `nil` when its channel is not a socket.
    static func of(_ channel: any Channel) async throws -> PeerCredentials? {
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        let raw: ledger_ucred = try await provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: ledger_sol_socket()),
            name: NIOBSDSocket.Option(rawValue: ledger_so_peercred())
        ).get()
        return PeerCredentials(pid: raw.pid, uid: raw.uid, gid: raw.gid)
    }
}
