import Foundation
import Ledger
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing
@testable import ledgerd

/// A national portal on a TCP port of the loopback: records every push, answers the first `failing` with 503 and the
/// others with 200 and a reference. It runs on NIO's event loop threads, never on the test process's cooperative
/// pool, which other tests' blocking calls may hold.
final class FakePortal: Sendable {
    struct Push: Sendable {
        let method: HTTPMethod
        let key: String
        let body: [String: JSONValue]
        let status: Int
    }

    /// The answer to request `n` (from 0): status, body, extra headers.
    typealias Answer = @Sendable (Int) -> (status: Int, body: String, headers: [(String, String)])

    let pushes = Mutex<[Push]>([])
    let answer: Answer
    private let channel = Mutex<(any NIOCore.Channel)?>(nil)

    init(answer: @escaping Answer) { self.answer = answer }

    /// The first `failing` requests are answered 503, the others 200 with a reference.
    convenience init(failing: Int) {
        self.init { n in n < failing ? (503, "try later", []) : (200, #"{"reference":"DVC-\#(n)"}"#, []) }
    }

    /// Starts serving; returns the port.
    func start() async throws -> Int {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    try child.pipeline.syncOperations.addHandler(Handler(portal: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        channel.withLock { $0 = server }
        return server.localAddress!.port!
    }

    func stop() { channel.withLock { $0?.close(promise: nil) } }

    /// Answers one request at a time on a connection.
    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let portal: FakePortal
        var key = ""
        var method = HTTPMethod.GET
        var body = [UInt8]()

        init(portal: FakePortal) { self.portal = portal }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                key = head.headers["idempotency-key"].first ?? ""
                method = head.method
                body = []
            case .body(let buffer):
                body += buffer.readableBytesView
            case .end:
                let fields: [String: JSONValue]
                if case .object(let f)? = try? JSONValue(parsing: body) { fields = f } else { fields = [:] }
                let (method, key, answering) = (method, key, portal.answer)
                let (status, answer, headers) = portal.pushes.withLock { pushes in
                    let a = answering(pushes.count)
                    pushes.append(Push(method: method, key: key, body: fields, status: a.status))
                    return a
                }
                var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
                for (name, value) in headers { head.headers.add(name: name, value: value) }
                head.headers.add(name: "content-length", value: "\(answer.utf8.count)")
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: answer)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}

/// Runs a blocking call on a Dispatch thread, so the test holds no thread of the cooperative pool while it waits.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

@Suite("ledgerd serve: national portal sync", .serialized)
struct PortalSyncServeTests {
    @Test("pushes reach the portal in order with their keys; a failed push is retried after its delay; reconciliation shows it")
    func pushes() async throws {
        let portal = FakePortal(failing: 1)
        let port = try await portal.start()
        defer { portal.stop() }
        let tables = "\n[portal]\nurl = \"http://127.0.0.1:\(port)/sync\"\nretry_seconds = 1\n"
        // The scheduler's own rounds are an hour apart: this test starts every round itself.
        let d = try await RunningDaemon(lines: 400, tables: tables, arguments: ["--check-interval", "3600"])

        let first = try d.json(try await offPool { try d.call("POST", "/admin/portal-sync") })
        #expect(first["failed"] == 1 && (first["refused"].map { $0 == .array([]) } ?? false), "\(first)")
        guard case .number(let requested)? = first["requested"], case .number(let accepted)? = first["accepted"] else {
            Issue.record("no counts in \(first)")
            return
        }
        #expect(requested > 0 && accepted > 0)
        let failed = try #require(portal.pushes.withLock { $0.first })
        #expect(failed.status == 503 && failed.body["idempotencyKey"] == .string(failed.key))
        guard case .string(let agency)? = failed.body["agency"], case .string(let code)? = failed.body["dossierCode"]
        else {
            Issue.record("the push names no agency or code: \(failed.body)")
            return
        }
        let behind = try d.json(try d.call("GET", "/portal-sync?agency=\(agency)"))
        guard case .array(let failing)? = behind["failing"], case .object(let entry)? = failing.first else {
            Issue.record("no failing push in \(behind)")
            return
        }
        #expect(failing.count == 1 && entry["code"] == .string(code) && entry["attempts"] == 1)
        #expect(entry["lastError"].map { "\($0)".contains("503") } ?? false, "\(entry)")
        #expect(behind["behind"] != 0)
        // The failed dossier's later steps waited: nothing of it reached the portal after the failure.
        #expect(portal.pushes.withLock { $0.dropFirst().allSatisfy { $0.body["dossierCode"] != .string(code) } })

        try await Task.sleep(for: .milliseconds(1_500))
        let second = try d.json(try await offPool { try d.call("POST", "/admin/portal-sync") })
        #expect(second["failed"] == 0 && second["requested"] == 0 && second["accepted"] != 0, "\(second)")
        let synced = try d.json(try d.call("GET", "/portal-sync?agency=\(agency)"))
        #expect(synced["failing"] == .array([]) && synced["behind"] == 0 && synced["pendingPushes"] == 0, "\(synced)")
        #expect(synced["syncRate"] == 1 && synced["failedAttempts"] == 1)
        let third = try d.json(try await offPool { try d.call("POST", "/admin/portal-sync") })
        #expect(third["requested"] == 0 && third["accepted"] == 0 && third["failed"] == 0)

        // Every push was accepted once, the failed one on its second attempt; each dossier's versions in order; the
        // first push of a dossier is the dossier itself.
        let all = portal.pushes.withLock { $0 }
        let acceptedKeys = all.filter { $0.status == 200 }.map(\.key)
        #expect(Set(acceptedKeys).count == acceptedKeys.count && acceptedKeys.contains(failed.key))
        #expect(all.allSatisfy { $0.body["idempotencyKey"] == .string($0.key) })
        var versions = [String: [Double]]()
        var kinds = [String: [String]]()
        for push in all where push.status == 200 {
            guard case .string(let c)? = push.body["dossierCode"], case .number(let v)? = push.body["dossierVersion"],
                  case .string(let kind)? = push.body["kind"] else { continue }
            versions[c, default: []].append(v)
            kinds[c, default: []].append(kind)
        }
        #expect(versions.values.allSatisfy { $0 == $0.sorted() })
        #expect(kinds.values.allSatisfy { $0.first == "DOSSIER" && !$0.dropFirst().contains("DOSSIER") })

        // The outbox is the system's: a raw event there is refused.
        let raw = try d.call("POST", "/streams/portalsync-x/events", #"{"events":[{"type":"PortalSyncSucceeded.v1"}]}"#)
        #expect(raw.status == 422)
        #expect(await d.stop() == 0)
    }

    @Test("a portal that keeps failing ends a round after three failed pushes; the rest wait for the next round")
    func failingPortal() async throws {
        let portal = FakePortal(failing: 1_000)
        let port = try await portal.start()
        defer { portal.stop() }
        let tables = "\n[portal]\nurl = \"http://127.0.0.1:\(port)/sync\"\n"
        let d = try await RunningDaemon(lines: 400, tables: tables, arguments: ["--check-interval", "3600"])
        let round = try d.json(try await offPool { try d.call("POST", "/admin/portal-sync") })
        #expect(round["failed"] == 3 && round["accepted"] == 0, "\(round)")
        #expect(round["refused"].map { "\($0)".contains("3 failed pushes in a row") } ?? false, "\(round)")
        #expect(portal.pushes.withLock { $0.count } == 3)
        // Their retries are not due yet (60 s by default): the next round tries other dossiers' pushes.
        let next = try d.json(try await offPool { try d.call("POST", "/admin/portal-sync") })
        #expect(next["failed"] == 3, "\(next)")
        let keys = portal.pushes.withLock { $0.map(\.key) }
        #expect(keys.count == 6 && Set(keys).count == 6, "\(keys)")
        #expect(await d.stop() == 0)
    }

    @Test("a redirect is a failed push (never followed as a GET); a large accepting answer is still an acceptance")
    func answers() async throws {
        let big = #"{"note":""# + String(repeating: "x", count: 100_000) + #""}"#
        let portal = FakePortal { n in
            n == 0 ? (302, "", [("location", "http://127.0.0.1:1/elsewhere")]) : (200, big, [])
        }
        let port = try await portal.start()
        defer { portal.stop() }
        let tables = "\n[portal]\nurl = \"http://127.0.0.1:\(port)/sync\"\n"
        let d = try await RunningDaemon(lines: 400, tables: tables, arguments: ["--check-interval", "3600"])
        let round = try d.json(try await offPool { try d.call("POST", "/admin/portal-sync") })
        #expect(round["failed"] == 1 && round["accepted"] != 0, "\(round)")
        #expect(portal.pushes.withLock { $0.allSatisfy { $0.method == .POST } })
        let failed = try #require(portal.pushes.withLock { $0.first })
        guard case .string(let agency)? = failed.body["agency"] else { return }
        let view = try d.json(try d.call("GET", "/portal-sync?agency=\(agency)"))
        #expect("\(view["failing"] ?? .null)".contains("the portal answered 302"), "\(view)")
        #expect(await d.stop() == 0)
    }

    @Test("a portal refusing pushes (4xx) fails each dossier's first push but does not end the round")
    func refusals() async throws {
        let portal = FakePortal { _ in (422, "{\"error\":\"unknown procedure\\u0007\"}", []) }
        let port = try await portal.start()
        defer { portal.stop() }
        let tables = "\n[portal]\nurl = \"http://127.0.0.1:\(port)/sync\"\n"
        let d = try await RunningDaemon(lines: 400, tables: tables, arguments: ["--check-interval", "3600"])
        let round = try d.json(try await offPool { try d.call("POST", "/admin/portal-sync") })
        let keys = portal.pushes.withLock { $0.map(\.key) }
        #expect(keys.count > 3 && Set(keys).count == keys.count, "one push per dossier: \(keys)")
        #expect(round["failed"] == .number(Double(keys.count)) && round["refused"] == .array([]), "\(round)")
        #expect(await d.stop() == 0)
    }

    @Test("without a portal in the config, a round is refused with 409 no_portal")
    func noPortal() async throws {
        let d = try await RunningDaemon(lines: 50)
        let refused = try d.call("POST", "/admin/portal-sync")
        #expect(refused.status == 409 && refused.text.contains("no_portal"))
        #expect(await d.stop() == 0)
    }
}
