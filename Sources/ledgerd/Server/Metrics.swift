import CoreMetrics
import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Projections
import Prometheus
import Synchronization

/// `/metrics` in Prometheus's text format: request latencies by route and status (recorded as they happen), and the
/// store's and projections' state read at scrape time (appends, commits and their fsync time, batch size, writer
/// queue depth, map use, reader slots, projection position and lag).
enum DaemonMetrics {
    static let registry = PrometheusCollectorRegistry()

    /// Routes swift-metrics to the registry (once per process).
    static func bootstrap() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    /// Request timers by route, method and status, each made once: making a timer through the metrics factory
    /// checks its name and looks it up in the registry under a lock, which every request used to pay.
    private static let timers = Mutex<[String: CoreMetrics.Timer]>([:])

    /// Records one request's latency under its route pattern, method and status.
    static func record(route: String, method: String, status: Int, since start: ContinuousClock.Instant) {
        record(timer(route: route, method: method, status: status), since: start)
    }

    /// The timer of a route, method and status (made once).
    static func timer(route: String, method: String, status: Int) -> CoreMetrics.Timer {
        let key = "\(method) \(route) \(status)"
        return timers.withLock { timers in
            if let timer = timers[key] { return timer }
            let timer = Timer(label: "ledgerd_request_duration_seconds",
                              dimensions: [("route", route), ("method", method), ("status", String(status))])
            timers[key] = timer
            return timer
        }
    }

    /// One route's timers for its common statuses, looked up without building a key (the raw append's fast path).
    struct RouteTimers: Sendable {
        let route: String
        let method: String
        private let created: CoreMetrics.Timer
        private let retried: CoreMetrics.Timer

        init(route: String, method: String) {
            self.route = route
            self.method = method
            created = DaemonMetrics.timer(route: route, method: method, status: 201)
            retried = DaemonMetrics.timer(route: route, method: method, status: 200)
        }

        func timer(status: Int) -> CoreMetrics.Timer {
            switch status {
            case 201: created
            case 200: retried
            default: DaemonMetrics.timer(route: route, method: method, status: status)
            }
        }
    }

    /// Records one request's latency with one of a route's timers.
    static func record(_ timers: RouteTimers, status: Int, since start: ContinuousClock.Instant) {
        record(timers.timer(status: status), since: start)
    }

    private static func record(_ timer: CoreMetrics.Timer, since start: ContinuousClock.Instant) {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    static func scrape(_ daemon: Daemon) throws -> String {
        let store = daemon.store
        let (commits, events, commitSeconds, applySeconds) = store.writerStatistics
        func gauge(_ name: String, _ value: Double, _ dimensions: [(String, String)] = []) {
            Gauge(label: name, dimensions: dimensions).record(value)
        }
        gauge("ledgerd_events_appended", Double(events))
        gauge("ledgerd_commits", Double(commits))
        gauge("ledgerd_commit_seconds", commitSeconds)
        gauge("ledgerd_commit_apply_seconds", applySeconds)
        gauge("ledgerd_batch_events_mean", commits == 0 ? 0 : Double(events) / Double(commits))
        gauge("ledgerd_commit_seconds_mean", commits == 0 ? 0 : commitSeconds / Double(commits))
        gauge("ledgerd_log_head", Double(store.head))
        gauge("ledgerd_writer_queue_depth", Double(store.writerQueueDepth))
        gauge("ledgerd_map_used_bytes", Double(store.bytesInUse))
        gauge("ledgerd_map_size_bytes", Double(store.mapSize))
        gauge("ledgerd_reader_slots_used", Double(store.readerSlots.used))
        gauge("ledgerd_reader_slots_max", Double(store.readerSlots.max))
        for projection in ReadModel.projections {
            let status = try daemon.model.runner.status(of: projection)
            gauge("ledgerd_projection_position", Double(status.position), [("projection", projection.name)])
            gauge("ledgerd_projection_lag", Double(status.lag), [("projection", projection.name)])
            gauge("ledgerd_projection_events_per_second", status.rate, [("projection", projection.name)])
            gauge("ledgerd_projection_stopped", status.stopped == nil ? 0 : 1, [("projection", projection.name)])
        }
        return registry.emitToString()
    }

    static func route(_: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: try scrape(daemon))))
    }
}
