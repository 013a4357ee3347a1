import AsyncHTTPClient
import EventStore
import Foundation
import Ledger
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Projections
import ServiceLifecycle
import Synchronization

/// Pushes dossier steps to the national portal (the config's `[portal]`), in rounds ``PortalSyncLoop`` starts every
/// `--check-interval` (and `POST /admin/portal-sync` on demand):
///
/// 1. for each dossier with a synced step not yet in its outbox, `system.portalSync` records the pushes
///    (``PortalSync``);
/// 2. each push due (never tried, or its retry time reached) is POSTed as JSON with an `Idempotency-Key` header
///    (`<code>/<dossier version>`), a dossier's pushes in version order, and a dossier's later pushes wait while an
///    earlier one fails;
/// 3. each attempt's outcome is recorded by `system.portalSyncResult`: accepted (a 2xx answer, with the answer's
///    `reference` when it has one), or failed with the reason and the next attempt's time (the config's
///    `retry_seconds`, doubled per failed attempt, at most an hour later). Three failed pushes in a row end the
///    round (a portal that is down or hangs costs one timeout per push).
///
/// The outbox is in the log, so a push is never lost: a crash between a push and its record only sends it again,
/// and the portal drops the repeat by its key. Commands carry ids derived from what they record, so a round
/// repeated after a restart is answered as a retry.
final class PortalSyncWorker: Sendable {
    /// Where pushes go.
    let url: String
    /// The first retry's delay, in seconds.
    let retrySeconds: Int64
    /// How long one push may take.
    let timeout: TimeAmount
    /// Pushes sent per round at most (the rest wait for the next round).
    let pushesPerRound = 500
    /// Failed pushes in a row that end a round: the portal is down or hangs, and each further push would only wait
    /// out its timeout.
    let failuresEndingRound = 3
    private let running = Mutex(false)
    /// The worker's own client: redirects are refused (a redirected POST would come back a bodyless GET, and its 2xx
    /// be taken for an acceptance), and it is shut down with the daemon.
    private let client: HTTPClient

    init(url: String, retrySeconds: Int64, timeoutSeconds: Int64) {
        self.url = url
        self.retrySeconds = retrySeconds
        self.timeout = .seconds(timeoutSeconds)
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                            configuration: .init(redirectConfiguration: .disallow,
                                                 timeout: .init(connect: .seconds(timeoutSeconds),
                                                                read: .seconds(timeoutSeconds))))
    }

    /// Closes the client's connections (once the daemon stops).
    func shutdown() async {
        try? await client.shutdown()
    }

    /// What a round did.
    struct Report: Sendable {
        var requested = 0
        var accepted = 0
        var failed = 0
        var refused: [String] = []
    }

    /// The delay before attempt `attempt + 1` after attempt `attempt` failed: `retrySeconds × 2^(attempt−1)`, at
    /// most an hour.
    func retryDelay(afterAttempt attempt: Int) -> Int64 {
        min(3_600, retrySeconds << min(20, max(0, attempt - 1)))
    }

    /// Runs one round; a round already running makes this one return at once, saying so. Each attempt is recorded at
    /// the clock's time after it, unless the round is run as of a given instant (`at`, an admin's replay).
    func run(_ daemon: Daemon, at given: Int64? = nil) async throws -> Report {
        let instant = given ?? Int64(Date().timeIntervalSince1970)
        var report = Report()
        guard running.withLock({ busy in defer { busy = true }; return !busy }) else {
            report.refused.append("a portal sync round is already running")
            return report
        }
        defer { running.withLock { $0 = false } }
        guard try await caughtUp(daemon, &report) else { return report }
        // New pushes are requested only while the outbox holds less than a round's worth, so it drains faster than it
        // fills (a store whose dossiers predate the portal is backfilled over several rounds).
        let backlog = try daemon.model.portalPushes().count
        for dossier in try daemon.model.portalSyncUnrequested(limit: max(0, pushesPerRound - backlog) / 4) {
            guard let id = UUID(uuidString: dossier) else { continue }
            let version = try daemon.store.streamInfo(DossierHandler.stream(id))?.version ?? 0
            if try await send(daemon, "system.portalSync", key: "portalsync \(dossier) \(version)", at: instant,
                              body: ["dossier": .string(dossier)], into: &report) {
                report.requested += 1
            }
        }
        guard try await caughtUp(daemon, &report) else { return report }
        var waiting = Set<String>()
        var sent = 0
        var failedInARow = 0
        for pending in try Self.inRoundOrder(daemon.model.portalPushes()) where !waiting.contains(pending.dossier) {
            if failedInARow == failuresEndingRound {
                report.refused.append("round ended after \(failuresEndingRound) failed pushes in a row; the rest wait "
                    + "for the next round")
                break
            }
            // A dossier's steps reach the portal in order: a later one waits while an earlier one is not accepted.
            guard pending.push.nextAttemptAt <= instant, sent < pushesPerRound else {
                waiting.insert(pending.dossier)
                continue
            }
            sent += 1
            let attempt = pending.push.attempts + 1
            var body: [String: JSONValue] = [
                "dossier": .string(pending.dossier), "dossierVersion": Render.int(pending.push.dossierVersion),
                "attempt": Render.int(attempt),
            ]
            let outcome = await push(pending)
            // Stopping: the outcome is not recorded; the next round sends the push again under the same key.
            if Task.isCancelled { break }
            let recordedAt = given ?? Int64(Date().timeIntervalSince1970)
            switch outcome {
            case .success(let reference):
                body["outcome"] = "succeeded"
                if let reference { body["reference"] = .string(reference) }
                failedInARow = 0
            case .failure(let reason):
                body["outcome"] = "failed"
                body["error"] = .string(reason.message)
                body["retryAt"] = Render.instant(recordedAt + retryDelay(afterAttempt: attempt))
                waiting.insert(pending.dossier)
                // A push the portal refuses (4xx) says nothing of the portal's health; the others do.
                failedInARow = reason.portalIsDown ? failedInARow + 1 : 0
            }
            let key = "portalsync-result \(pending.dossier) \(pending.push.dossierVersion) \(attempt)"
            if try await send(daemon, "system.portalSyncResult", key: key, at: recordedAt, body: body, into: &report) {
                if case .success = outcome { report.accepted += 1 } else { report.failed += 1 }
            }
        }
        return report
    }

    /// The pushes of a round: each dossier's in version order, the dossiers whose next push was never tried first,
    /// then by when their next push is due, so pushes retried for long never crowd out new ones.
    static func inRoundOrder(_ pushes: [PortalPush]) -> [PortalPush] {
        var byDossier = [String: [PortalPush]]()
        var order = [String]()
        for p in pushes {
            if byDossier[p.dossier] == nil { order.append(p.dossier) }
            byDossier[p.dossier, default: []].append(p)
        }
        func rank(_ d: String) -> (Int, Int64, String) {
            let first = byDossier[d]![0].push
            return (first.attempts == 0 ? 0 : 1, first.nextAttemptAt, d)
        }
        return order.sorted { rank($0) < rank($1) }.flatMap { byDossier[$0]! }
    }

    /// Why a push failed.
    struct PushFailure: Error {
        let message: String
        /// Whether the failure says the portal is unreachable or failing (no answer, a timeout, a 5xx), rather than
        /// that it refused this push.
        let portalIsDown: Bool
    }

    /// POSTs one push; the portal's reference on a 2xx answer, else why it failed. The whole exchange, the answer's
    /// body included, must end within the timeout.
    func push(_ pending: PortalPush) async -> Result<String?, PushFailure> {
        let p = pending.push
        let json = JSONValue.object([
            "idempotencyKey": .string(p.idempotencyKey), "dossierCode": .string(p.code),
            "dossierVersion": Render.int(p.dossierVersion), "kind": .string(p.kind.rawValue),
            "externalStatus": Render.int(p.externalStatus), "statusMappingVersion": Render.int(p.mappingVersion),
            "agency": .string(pending.agency), "step": .string(p.step),
            "occurredAt": .string(Instant.format(p.occurredAt, utcOffset: 25_200)),
        ])
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "idempotency-key", value: p.idempotencyKey)
        request.body = .bytes(ByteBuffer(bytes: json.jsonText))
        let client = client, timeout = timeout, prepared = request
        let seconds = timeout.nanoseconds / 1_000_000_000
        return await withTaskGroup(of: Result<String?, PushFailure>?.self) { group in
            group.addTask { await Self.exchange(prepared, client: client, timeout: timeout) }
            group.addTask {
                try? await Task.sleep(for: .nanoseconds(timeout.nanoseconds))
                return Task.isCancelled ? nil
                    : .failure(PushFailure(message: "no whole answer within \(seconds) s", portalIsDown: true))
            }
            defer { group.cancelAll() }
            while let next = await group.next() {
                if let next { return next }
            }
            return .failure(PushFailure(message: "cancelled", portalIsDown: true))
        }
    }

    private static func exchange(_ request: HTTPClientRequest, client: HTTPClient, timeout: TimeAmount) async
        -> Result<String?, PushFailure>
    {
        do {
            let response = try await client.execute(request, timeout: timeout)
            let code = Int(response.status.code)
            guard (200..<300).contains(code) else {
                let answer = try? await response.body.collect(upTo: 4 << 10)
                return .failure(PushFailure(message: "the portal answered \(code)" + snippet(answer),
                                            portalIsDown: code >= 500 || code == 429))
            }
            // Accepted whatever the body: a reference is read when the answer is small JSON naming one.
            guard let answer = try? await response.body.collect(upTo: 64 << 10), answer.readableBytes > 0,
                  case .object(let o)? = try? JSONValue(parsing: answer.readableBytesView),
                  case .string(let reference)? = o["reference"], !reference.isEmpty, reference.count <= 200
            else { return .success(nil) }
            return .success(reference)
        } catch {
            return .failure(PushFailure(message: String("\(error)".prefix(200)), portalIsDown: true))
        }
    }

    /// At most 120 printable ASCII characters of a refusal's body (it goes into the log for good), after ": ".
    private static func snippet(_ body: ByteBuffer?) -> String {
        guard let body else { return "" }
        let text = String(decoding: body.readableBytesView.prefix(120).map { (0x20..<0x7F).contains($0) ? $0 : 0x3F },
                          as: UTF8.self)
        return text.isEmpty ? "" : ": " + text
    }

    /// Waits (30 s at most) until the portal-sync register reflects the log; says why not in the report.
    private func caughtUp(_ daemon: Daemon, _ report: inout Report) async throws -> Bool {
        let head = daemon.store.head
        guard head > 0 else { return true }
        if try await daemon.model.runner.waitUntil(PortalSyncRegister(), reflects: head - 1, timeout: .seconds(30)) {
            return true
        }
        report.refused.append("portal sync skipped: the portal-sync register does not reflect the log (stopped or "
            + "rebuilding; see /projections)")
        return false
    }

    /// Sends a system command; whether it recorded something (a refusal is noted in the report).
    private func send(_ daemon: Daemon, _ type: String, key: String, at: Int64, body: [String: JSONValue],
                      into report: inout Report) async throws -> Bool {
        let envelope = CommandEnvelope(commandID: CommandEventIDs.systemCommandID(key), type: type,
                                       actor: Actor(staffID: "portal-sync", role: .system), occurredAt: at, body: body)
        do {
            return try await daemon.service.execute(envelope, principal: "ledgerd-portal-sync", trustedTime: true) != nil
        } catch let error as LedgerError {
            report.refused.append("\(type) \(key): \(error.code): \(error.message)")
        } catch let error as StoreError {
            report.refused.append("\(type) \(key): \(error.code)")
        }
        return false
    }
}

/// Runs a portal sync round every `interval` while the daemon runs, apart from the system checks, so a slow portal
/// never delays an end-of-day check.
struct PortalSyncLoop: Service {
    let daemon: Daemon
    let worker: PortalSyncWorker
    let interval: Duration
    let logger: Logger

    func run() async throws {
        // Stopping cancels the sleep: that is the way out, not an error.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                do {
                    let report = try await worker.run(daemon)
                    if !report.refused.isEmpty || report.failed > 0 {
                        logger.warning("portal sync round", metadata: [
                            "accepted": "\(report.accepted)", "failed": "\(report.failed)",
                            "refused": "\(report.refused.prefix(5).joined(separator: "; "))",
                        ])
                    }
                } catch {
                    logger.error("portal sync round failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
