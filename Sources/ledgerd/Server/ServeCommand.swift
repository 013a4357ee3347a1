import ArgumentParser
import EventStore
import Foundation
import Glibc
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import Projections
import ServiceLifecycle
import UnixSignals

/// `ledgerd serve`: the daemon — HTTP/1.1 over a Unix-domain socket.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the store over HTTP on a Unix-domain socket (curl --unix-socket works).",
        discussion: """
            Takes the store's lock before binding, so a second daemon on the same store fails and never takes the \
            socket. Roles come from the peer's uid (SO_PEERCRED) through the config's [roles]; uid 0 is admin unless \
            mapped otherwise. Projections are kept in <store>.state and follow the log. SIGTERM or SIGINT: stop \
            accepting, end event streams, finish requests, sync, remove the socket, exit 0.
            """
    )

    @OptionGroup var location: StoreLocation

    @Option(help: "The socket path (default: the config's [socket] path).")
    var socket: String?

    @Option(help: "Where projection state lives (default: <store>.state).")
    var state: String?

    @Option(help: "The most connections served at once.")
    var maxConnections = 1_024

    @Option(help: "Seconds a request may take to arrive whole (head, body and end) before its connection is closed.")
    var requestTimeout = 30

    @Option(help: "Seconds a connection may stay unwritable (its client not reading) before it is closed.")
    var stallTimeout = 10

    @Option(help: "Seconds without a complete request part (headers, a body chunk) before a connection is closed.")
    var idleTimeout = 60

    @Option(help: "Seconds between the scheduler's system checks (end of day, deadlines) and checkpoint signing.")
    var checkInterval = 60

    @Option(help: "Seconds between signed checkpoints (when the log grew).")
    var checkpointInterval = 300

    @Flag(help: "Print the routes (method and path) and exit.")
    var listRoutes = false

    func validate() throws {
        for (name, value) in [("--request-timeout", requestTimeout), ("--stall-timeout", stallTimeout),
                              ("--idle-timeout", idleTimeout)] where !(1...86_400).contains(value) {
            throw ValidationError("\(name) must be 1 to 86400 seconds (got \(value))")
        }
        guard (1...100_000).contains(maxConnections) else {
            throw ValidationError("--max-connections must be 1 to 100000 (got \(maxConnections))")
        }
    }

    func run() async throws {
        if listRoutes {
            for route in Routes.table { print("\(route.method.rawValue) \(route.path)") }
            return
        }
        let config = try location.loadConfig()
        let socketPath = socket ?? config?.socketPath ?? "/run/ledgerd/ledgerd.sock"
        let roles = try Self.roles(config)
        // The store's lock first: a second daemon fails here, before it could touch the socket.
        let store = try location.open()
        defer { store.close() }
        try Self.claimSocket(socketPath)
        let statePath = state ?? StoreLocation.trimmed(location.store) + ".state"
        let model = try ReadModel(store: store, statePath: statePath)
        // The signing key is optional for serving: without a readable key the daemon serves but does not sign.
        let signer = try? location.signer()
        let daemon = try Daemon(store: store, model: model, roles: roles, signer: signer,
                                signingState: signer == nil ? nil : try SigningState(path: try location.statePath()),
                                witnesses: try config?.witnessVerifiers() ?? [],
                                checkpointInterval: .seconds(checkpointInterval),
                                portal: config?.portalURL.map {
                                    PortalSyncWorker(url: $0, retrySeconds: config!.portalRetrySeconds,
                                                     timeoutSeconds: config!.portalTimeoutSeconds)
                                })

        DaemonMetrics.bootstrap()
        let router = Router(context: LedgerRequestContext.self)
        router.add(middleware: RoleMiddleware(daemon: daemon))
        for route in Routes.table {
            let hbPath = route.path.replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: "")
            router.on(RouterPath(hbPath), method: route.method) { request, context in
                let started = ContinuousClock.now
                let response: Response
                do {
                    try Authorize.check(route, context)
                    response = try await route.handler(request, context, daemon)
                } catch {
                    response = APIError.from(error).response
                }
                DaemonMetrics.record(route: route.path, method: route.method.rawValue, status: response.status.code,
                                     since: started)
                return response
            }
        }
        var logger = Logger(label: "ledgerd")
        logger.logLevel = .warning
        let group = getgrnam(config?.socketGroup ?? "").map { $0.pointee.gr_gid }
        let app = Application(
            router: router,
            server: HTTPServerBuilder { responder in
                LedgerHTTPChannel(
                    responder: responder,
                    decoderLimits: Self.decoderLimits,
                    deadlines: .init(idle: .seconds(Int64(idleTimeout)), request: .seconds(Int64(requestTimeout)),
                                     stall: .seconds(Int64(stallTimeout))),
                    daemon: daemon)
            },
            configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "ledgerd",
                                 availableConnectionsDelegate: MaximumAvailableConnections(maxConnections)),
            onServerRunning: { _ in
                // Group read-write, nobody else: the service group's members connect, others cannot.
                if let group { _ = chown(socketPath, UInt32.max, group) }
                _ = chmod(socketPath, 0o660)
                FileHandle.standardOutput.write(Data("ledgerd serving \(location.store) on \(socketPath)\n".utf8))
            },
            logger: logger
        )
        // Stopped in reverse order: the watcher first, the follower last.
        let portalSync: [any Service] = daemon.portal.map {
            [PortalSyncLoop(daemon: daemon, worker: $0, interval: .seconds(max(1, checkInterval)), logger: logger)]
        } ?? []
        // Trapped before the group starts: a SIGHUP's default action would end the daemon.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let services: [any Service] = [
            ProjectionFollower(runner: model.runner, logger: logger), Scheduler(daemon: daemon, interval: .seconds(max(1, checkInterval))),
            RoleReloader(daemon: daemon, location: location, signals: hangups, logger: logger),
        ] + portalSync + [app, ShutdownWatcher(signal: daemon.shutdown)]
        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // In-flight requests get this long to finish after SIGTERM; then their tasks are cancelled (a catch-up in
        // progress stops at its next batch, everything it committed kept).
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(10)
        do {
            try await ServiceGroup(configuration: groupConfiguration).run()
        } catch where daemon.shutdown.fired {
            // A shutdown that had to cancel a straggler is still a shutdown: sync, remove the socket, exit 0.
            logger.warning("shutdown cancelled requests that did not finish in time", metadata: ["error": "\(error)"])
        } catch {
            await daemon.portal?.shutdown()
            unlink(socketPath)
            throw error
        }
        await daemon.portal?.shutdown()
        try await store.sync()
        unlink(socketPath)
        print("ledgerd stopped")
    }

    /// The config's `[roles]` as roles; an unknown role name is an error.
    static func roles(_ config: LedgerConfig?) throws -> [UInt32: Role] {
        var roles = [UInt32: Role]()
        for (uid, name) in config?.roles ?? [:] {
            guard let role = Role(rawValue: name) else {
                throw ValidationError("unknown role \(name) for uid \(uid); the roles are "
                    + Role.allCases.map(\.rawValue).joined(separator: ", "))
            }
            roles[uid] = role
        }
        return roles
    }

    /// The largest header field (name and value) accepted.
    static let maxHeaderField = 16 << 10
    /// The largest header block accepted.
    static let maxHeaders = 64 << 10
    /// The decoder's limits: over one, 400 and the connection closed.
    static var decoderLimits: NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = maxHeaderField
        limits.maxHeaderListSize = maxHeaders
        limits.maxHeaderFieldCount = 100
        return limits
    }

    /// Refuses a socket another process listens on; removes a stale one.
    static func claimSocket(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        if (try? UnixHTTPClient(socketPath: path).probe()) == true {
            throw ValidationError("another process is listening on \(path); stop it or choose another --socket")
        }
        guard unlink(path) == 0 else { throw ValidationError("cannot remove the stale socket \(path): errno \(errno)") }
    }
}

/// Keeps the projections following the log while the daemon runs.
struct ProjectionFollower: Service {
    let runner: ProjectionRunner
    let logger: Logger

    /// Follows the log; a projection that cannot fold an event stops alone (logged, shown by `/projections`, and
    /// `/ready` answers 503) while the daemon and the other projections go on.
    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await runner.follow { stop in
                guard stop.projection != "*" else {
                    logger.warning("projections could not catch up; trying again", metadata: ["reason": "\(stop.reason)"])
                    return
                }
                logger.error("projection stopped; once the cause is fixed (a full disk: space freed), restart the daemon, or rebuild the projection if its data was at fault",
                             metadata: ["projection": "\(stop.projection)", "reason": "\(stop.reason)"])
            }
        }
    }
}

/// Reads the config again on each SIGHUP and replaces the role map; a config that cannot be read, or names an unknown
/// role, is logged and the map in force is kept.
struct RoleReloader: Service {
    let daemon: Daemon
    let location: StoreLocation
    let signals: UnixSignalsSequence
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                do {
                    guard let config = try location.loadConfig() else {
                        throw ValidationError("the config file \(location.configPath) is gone")
                    }
                    let roles = try ServeCommand.roles(config)
                    daemon.replaceRoles(roles)
                    // On standard output, as the line saying the daemon serves (the log shows warnings only).
                    FileHandle.standardOutput.write(Data("ledgerd: SIGHUP: the role map reloaded, \(roles.count) uid(s)\n".utf8))
                } catch {
                    logger.error("SIGHUP: the config could not be read again; the role map in force is kept",
                                 metadata: ["error": "\(error)"])
                }
            }
        }
    }
}

/// Runs first at shutdown (the last service of the group): ends event streams so in-flight requests can finish.
struct ShutdownWatcher: Service {
    let signal: ShutdownSignal

    /// Fires only on a graceful shutdown (SIGTERM/SIGINT): when the group is cancelled because a service failed,
    /// `gracefulShutdown()` throws and the failure stays a failure.
    func run() async throws {
        guard (try? await gracefulShutdown()) != nil else { return }
        signal.fire()
    }
}
