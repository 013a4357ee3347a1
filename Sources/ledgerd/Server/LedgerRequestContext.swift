import Hummingbird
import NIOCore

/// A request's context: Hummingbird's core storage, the connection's channel (for the peer's credentials), and the
/// principal once the role middleware has resolved it.
struct LedgerRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// The Unix account that sent the request, and its role (set by ``RoleMiddleware``).
    var principal = ""
    var role: Role?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Bodies above this are refused with 413 (commands and raw appends; 1 MiB parts plus JSON).
    var maxUploadSize: Int { 4 << 20 }
}
