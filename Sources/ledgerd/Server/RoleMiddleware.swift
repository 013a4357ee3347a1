import Foundation
import Glibc
import HTTPTypes
import Hummingbird

/// Resolves the caller's principal and role from the connection's peer credentials (SO_PEERCRED), refuses an
/// unmapped uid with 403, and turns every error a handler throws into the API's error body.
struct RoleMiddleware: RouterMiddleware {
    typealias Context = LedgerRequestContext
    let daemon: Daemon

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            guard let peer = try await PeerCredentials.of(context.channel) else {
                throw APIError(.forbidden, "forbidden", "the peer's credentials are unavailable")
            }
            guard let role = daemon.role(of: peer.uid) else {
                throw APIError(.forbidden, "forbidden", "uid \(peer.uid) has no role in ledgerd's config; an admin maps "
                    + "it under [roles]")
            }
            var context = context
            context.role = role
            context.principal = peer.account
            return try await next(request, context)
        } catch {
            return APIError.from(error).response
        }
    }

}

/// Refuses a route to a role that may not call it.
struct Authorize: Sendable {
    static func check(_ route: Route, _ context: LedgerRequestContext) throws {
        guard let role = context.role, route.roles.contains(role) else {
            throw APIError(.forbidden, "forbidden", "the role \(context.role?.rawValue ?? "none") may not call "
                + "\(route.method.rawValue) \(route.path); it is for " + route.roles.map(\.rawValue).sorted().joined(separator: ", "))
        }
    }
}
