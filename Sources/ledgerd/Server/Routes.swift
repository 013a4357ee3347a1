import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import NIOCore
import NIOFoundationCompat
import Projections

/// One route of the API: method, path (OpenAPI style, `{name}` parameters), who may call it, and the handler.
struct Route: Sendable {
    let method: HTTPRequest.Method
    let path: String
    let roles: Set<Role>
    let handler: @Sendable (Request, LedgerRequestContext, Daemon) async throws -> Response
}

/// Every route; `openapi.yaml` lists exactly these (a test compares them).
enum Routes {
    static let readers: Set<Role> = [.clerk, .analyst, .admin]
    /// The categories the command handlers own.
    static let domainCategories: Set<String> = [
        "dossier", "approval", "person", "unitday", "roster", "leaderroster", "eod", "task", "delegation", "receipts",
        "agency", "unit", "staff", "procedure", "calendar", "policy", "subject", "log", "health", "slip", "docregister",
        "portalsync", "referencelog",
    ]
    static let auditors: Set<Role> = [.auditor, .admin]
    /// Who may append raw events (the route and ``RawAppendFastPath`` both ask).
    static let rawAppenders: Set<Role> = [.import, .admin]

    static var table: [Route] { base + AdminRoutes.table }

    static var base: [Route] {
        [
            Route(method: .get, path: "/health", roles: Role.all) { _, _, _ in
                JSONResponse.make(.object(["status": "ok"]))
            },
            Route(method: .get, path: "/ready", roles: Role.all, handler: ready),
            Route(method: .get, path: "/openapi.yaml", roles: Role.all) { _, _, _ in
                var headers = HTTPFields()
                headers[.contentType] = "application/yaml"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: OpenAPI.text)))
            },
            Route(method: .get, path: "/commands", roles: Role.all) { _, _, _ in
                JSONResponse.make(.object(["types": .array(LedgerService.commandTypes.map(JSONValue.string))]))
            },
            Route(method: .post, path: "/commands/{type}", roles: [.clerk, .import, .admin], handler: command),
            Route(method: .get, path: "/queues", roles: readers, handler: queue),
            Route(method: .get, path: "/statistics/timeliness", roles: readers, handler: timeliness),
            Route(method: .get, path: "/attendance/unit-days", roles: readers, handler: unitDays),
            Route(method: .get, path: "/attendance/agency-days", roles: readers, handler: agencyDays),
            Route(method: .get, path: "/evaluations", roles: [.analyst, .admin], handler: evaluations),
            Route(method: .get, path: "/accountability", roles: readers, handler: accountability),
            Route(method: .get, path: "/apologies", roles: readers.union(auditors), handler: apologies),
            Route(method: .get, path: "/portal-sync", roles: readers.union(auditors), handler: portalSync),
            Route(method: .get, path: "/dossiers/{id}/control-sheet", roles: [.clerk, .auditor, .admin],
                  handler: controlSheet),
            Route(method: .get, path: "/audit/streams/{stream}", roles: auditors, handler: auditStream),
            Route(method: .get, path: "/audit/actors/{actor}", roles: auditors, handler: auditActor),
            Route(method: .get, path: "/events", roles: [.auditor, .analyst, .admin], handler: events),
            Route(method: .get, path: "/streams/{stream}/events", roles: [.auditor, .analyst, .admin], handler: events),
            Route(method: .post, path: RawAppendFastPath.route, roles: rawAppenders, handler: rawAppend),
            Route(method: .get, path: "/categories/{category}/events", roles: [.auditor, .analyst, .admin],
                  handler: events),
            Route(method: .get, path: "/types/{type}/events", roles: [.auditor, .analyst, .admin], handler: events),
            Route(method: .get, path: "/subscribe", roles: [.clerk, .auditor, .analyst, .admin], handler: subscribe),
            Route(method: .get, path: "/checkpoint", roles: Role.all, handler: checkpoint),
            Route(method: .get, path: "/proofs/inclusion", roles: [.auditor, .admin], handler: inclusion),
            Route(method: .get, path: "/proofs/consistency", roles: [.auditor, .admin], handler: consistency),
            Route(method: .get, path: "/projections", roles: Role.all, handler: projections),
            Route(method: .get, path: "/metrics", roles: [.admin, .analyst, .auditor], handler: DaemonMetrics.route),
        ]
    }

    // MARK: - Parameters

    static func query(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters.get(name).flatMap { $0.isEmpty ? nil : $0 }
    }

    static func required(_ request: Request, _ name: String) throws -> String {
        guard let v = query(request, name) else {
            throw APIError(.badRequest, "bad_field", "the query parameter \(name) is required", details: ["field": .string(name)])
        }
        return v
    }

    static func number(_ request: Request, _ name: String, default value: UInt64? = nil) throws -> UInt64? {
        guard let text = query(request, name) else { return value }
        guard let n = UInt64(text) else {
            throw APIError(.badRequest, "bad_field", "\(name) must be a non-negative integer (got \"\(text)\")",
                           details: ["field": .string(name)])
        }
        return n
    }

    static func period(_ request: Request) throws -> Period {
        let text = try required(request, "period")
        guard let p = Period(text) else {
            throw APIError(.badRequest, "bad_field", "period must be 2020-04-03, 2020-04, 2020-Q2, 2020 or "
                + "2020-04-01..2020-04-15 (got \"\(text)\")", details: ["field": "period"])
        }
        // Day-by-day queries (attendance, evaluations) walk every day of the period: at most a year and a bit.
        guard p.dates.last.daysSinceEpoch - p.dates.first.daysSinceEpoch <= 400 else {
            throw APIError(.badRequest, "bad_field", "period \(text) is longer than 400 days; ask year by year",
                           details: ["field": "period"])
        }
        return p
    }

    static func asOf(_ request: Request) throws -> Int64 {
        guard let text = query(request, "asOf") else { return Int64(Date().timeIntervalSince1970) }
        guard let t = Instant.parse(text) else {
            throw APIError(.badRequest, "bad_field", "asOf must be an RFC 3339 instant (got \"\(text)\")",
                           details: ["field": "asOf"])
        }
        return t
    }

    /// Waits, bounded, until the projections reflect the log position the query names (`position`).
    static func reflect(_ request: Request, _ daemon: Daemon) async throws {
        guard let position = try number(request, "position") else { return }
        for projection in ReadModel.projections {
            guard try await daemon.model.runner.waitUntil(projection, reflects: position, timeout: daemon.positionWait)
            else {
                throw APIError(.serviceUnavailable, "not_caught_up", "the projections have not reached position "
                    + "\(position) within \(daemon.positionWait); retry", details: ["position": .number(Double(position))])
            }
        }
    }

    static func list(_ items: [JSONValue], next: String? = nil) -> Response {
        var o: [String: JSONValue] = ["items": .array(items)]
        if let next { o["next"] = .string(next) }
        return JSONResponse.make(.object(o))
    }

    // MARK: - Handlers

    static func ready(_: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        var lags = [String: JSONValue]()
        var ready = true
        for p in ReadModel.projections {
            let status = try daemon.model.runner.status(of: p)
            lags[p.name] = .number(Double(status.lag))
            if status.lag > daemon.readyLag || status.stopped != nil { ready = false }
        }
        return JSONResponse.make(.object(["ready": .bool(ready), "lag": .object(lags)]),
                                 status: ready ? .ok : .serviceUnavailable)
    }

    static func command(_ request: Request, _ context: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        let type = context.parameters.get("type") ?? ""
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        let envelope = try CommandEnvelope(json: Data(buffer: body), type: type)
        guard let result = try await daemon.service.execute(envelope, principal: context.principal,
                                                            trustedTime: context.role?.trustsTime ?? false)
        else {
            return JSONResponse.make(.object(["recorded": false, "reason": "nothing to record"]))
        }
        return JSONResponse.make(.object([
            "positions": .array(result.positions.map(Render.int)), "retry": .bool(result.wasRetry),
            "streamVersions": .object(result.streamVersions.mapValues(Render.int)),
        ]), status: result.wasRetry ? .ok : .created)
    }

    static func queue(_ request: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        try await reflect(request, daemon)
        var tab: QueueTab?
        if let t = query(request, "tab") {
            guard let parsed = QueueTab(rawValue: t) else {
                throw APIError(.badRequest, "bad_field", "tab must be one of "
                    + QueueTab.allCases.map(\.rawValue).joined(separator: ", "), details: ["field": "tab"])
            }
            tab = parsed
        }
        let limit = Int(min(max(try number(request, "limit", default: 50)!, 1), 500))
        let page = try daemon.model.queue(
            QueueFilter(agency: try required(request, "agency"), unit: query(request, "unit"),
                        assignee: query(request, "assignee"), tab: tab),
            asOf: try asOf(request), limit: limit, cursor: query(request, "cursor"))
        return list(page.items.map(Render.queueItem), next: page.next)
    }

    static func timeliness(_ request: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        try await reflect(request, daemon)
        let rows = try daemon.model.timeliness(agency: try required(request, "agency"), period: try period(request))
        return list(rows.map { Render.timeliness($0.key, $0.value) })
    }

    static func unitDays(_ request: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        try await reflect(request, daemon)
        return list(try daemon.model.unitDays(agency: try required(request, "agency"), period: try period(request))
            .map(Render.unitDay))
    }

    static func agencyDays(_ request: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        try await reflect(request, daemon)
        return list(try daemon.model.agencyDays(agency: try required(request, "agency"), period: try period(request))
            .map(Render.agencyDay))
    }

    static func evaluations(_ request: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        try await reflect(request, daemon)
        return list(try daemon.model.evaluations(agency: try required(request, "agency"), period: try period(request))
            .map(Render.evaluation))
    }

    static func accountability(_ request: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        try await reflect(request, daemon)
        return list(try daemon.model.accountability(agency: try required(request, "agency"),
                                                     period: try period(request)).map(Render.accountability))
    }

    static func apologies(_ request: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        try await reflect(request, daemon)
        return list(try daemon.model.apologyRegister(agency: try required(request, "agency"), asOf: try asOf(request))
            .map(Render.apology))
    }

    /// The reconciliation of an agency's dossiers against the national portal.
    static func portalSync(_ request: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        try await reflect(request, daemon)
        let r = try daemon.model.portalReconciliation(agency: try required(request, "agency"))
        return JSONResponse.make(.object([
            "agency": .string(r.agency), "local": Render.int(r.local), "synced": Render.int(r.synced),
            "behind": Render.int(r.behind), "syncRate": .number((r.syncRate * 1_000).rounded() / 1_000),
            "acceptedPushes": Render.int(r.acceptedPushes), "pendingPushes": Render.int(r.pendingPushes),
            "failedAttempts": Render.int(r.failedAttempts),
            "failing": .array(r.failing.map { f in
                .object(["dossier": .string(f.dossier), "code": .string(f.push.code),
                         "dossierVersion": Render.int(f.push.dossierVersion), "kind": .string(f.push.kind.rawValue),
                         "step": .string(f.push.step), "attempts": Render.int(f.push.attempts),
                         "nextAttemptAt": Render.instant(f.push.nextAttemptAt),
                         "lastError": f.lastError.map(JSONValue.string) ?? .null])
            }),
        ]))
    }

    static func controlSheet(_ request: Request, _ context: LedgerRequestContext, _ daemon: Daemon) async throws
        -> Response
    {
        try await reflect(request, daemon)
        let id = context.parameters.get("id") ?? ""
        guard try daemon.model.dossier(id) != nil else {
            throw APIError(.notFound, "not_found", "no dossier \(id)")
        }
        return list(try daemon.model.controlSheet(dossier: id).map { s in
            .object(["entry": Render.int(s.entry), "step": .string(s.step), "giver": .string(s.giver),
                     "receiver": .string(s.receiver),
                     "at": Render.instant(s.at)])
        })
    }

    static func auditStream(_ request: Request, _ context: LedgerRequestContext, _ daemon: Daemon) async throws
        -> Response
    {
        try await reflect(request, daemon)
        return list(try daemon.model.auditTrail(stream: context.parameters.get("stream") ?? "").map(Render.audit))
    }

    static func auditActor(_ request: Request, _ context: LedgerRequestContext, _ daemon: Daemon) async throws
        -> Response
    {
        try await reflect(request, daemon)
        return list(try daemon.model.auditTrail(actor: context.parameters.get("actor") ?? "").map(Render.audit))
    }

    /// Events of all, a stream (`from` = version), a category or a type (`from` = position), paged by `limit`.
    static func events(_ request: Request, _ context: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        let limit = Int(min(max(try number(request, "limit", default: 100)!, 1), 1_000))
        let from = try number(request, "from")
        let found: [RecordedEvent]
        if let stream = context.parameters.get("stream") {
            found = try daemon.store.readStream(stream, from: from, limit: limit)
        } else if let category = context.parameters.get("category") {
            found = try daemon.store.readCategory(category, from: from, limit: limit)
        } else if let type = context.parameters.get("type") {
            found = try daemon.store.readType(type, from: from, limit: limit)
        } else {
            found = try daemon.store.read(from: from, limit: limit)
        }
        let next: String? = found.count == limit ? found.last.map {
            context.parameters.get("stream") != nil ? "\($0.record.streamVersion + 1)" : "\($0.position + 1)"
        } : nil
        return list(found.map(Render.event), next: next)
    }

    /// A raw append: `{"expectedVersion": n | "any" | "noStream", "events": [{"id", "type", "facts": {…}, "actor",
    /// "metadata": {…}}]}`; facts are stored as JSON bytes.
    static func rawAppend(_ request: Request, _ context: LedgerRequestContext, _ daemon: Daemon) async throws
        -> Response
    {
        let stream = context.parameters.get("stream") ?? ""
        try RawAppendBody.check(stream: stream)
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let append = try RawAppendBody.parse(buffer, stream: stream, principal: context.principal)
        let (status, text) = RawAppendBody.answer(try await daemon.store.append([append]))
        return JSONResponse.make(text: text, status: status)
    }

    /// Server-Sent Events from `from` (or after `Last-Event-ID`), each `id` the global position; the stream ends
    /// when the daemon stops.
    static func subscribe(_ request: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        var start = try number(request, "from", default: 0)!
        if let last = request.headers[HTTPField.Name("Last-Event-ID")!] {
            guard let n = UInt64(last), n < .max else {
                throw APIError(.badRequest, "bad_field", "Last-Event-ID must be a log position",
                               details: ["field": "Last-Event-ID"])
            }
            start = n + 1
        }
        var filter = SubscriptionFilter.all
        if let c = query(request, "category") { filter = .category(c) }
        if let t = query(request, "type") { filter = .type(t) }
        let subscription = daemon.store.subscribe(from: start, filter: filter, maximumLag: 1_000_000)
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            // The subscription runs in a child task and hands frames over through a bounded buffer; the stream ends
            // when the daemon stops, when the client goes away (a write fails) or when the client falls 256 frames
            // behind (it resumes with Last-Event-ID, so nothing is lost).
            let (frames, continuation) = AsyncStream.makeStream(of: ByteBuffer.self,
                                                                bufferingPolicy: .bufferingOldest(256))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    defer { continuation.finish() }
                    for try await event in subscription {
                        let data = (try? encoder.encode(Render.event(event))) ?? Data("{}".utf8)
                        var buffer = ByteBuffer(string: "id: \(event.position)\nevent: \(event.record.eventType)\ndata: ")
                        buffer.writeBytes(data)
                        buffer.writeString("\n\n")
                        if case .dropped = continuation.yield(buffer) { return }
                    }
                }
                group.addTask {
                    await daemon.shutdown.wait()
                    continuation.finish()
                }
                for await frame in frames { try await writer.write(frame) }
                group.cancelAll()
            }
            try await writer.finish(nil)
        })
    }

    static func checkpoint(_: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        guard let latest = try daemon.store.latestCheckpoint() else {
            throw APIError(.notFound, "no_checkpoint", "no checkpoint has been signed yet")
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: latest.note.formatted)))
    }

    static func inclusion(_ request: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        guard let position = try number(request, "position") else {
            throw APIError(.badRequest, "bad_field", "position is required", details: ["field": "position"])
        }
        let size = try number(request, "size", default: daemon.store.head)!
        let proof = try daemon.store.inclusionProof(position: position, size: size)
        return JSONResponse.make(.object([
            "position": Render.int(position), "treeSize": Render.int(size),
            "root": .string(try daemon.store.rootHash(size: size).base64),
            "proof": .array(proof.map { .string($0.base64) }),
        ]))
    }

    static func consistency(_ request: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        guard let from = try number(request, "from"), let to = try number(request, "to") else {
            throw APIError(.badRequest, "bad_field", "from and to (tree sizes) are required", details: ["field": "from"])
        }
        let proof = try daemon.store.consistencyProof(from: from, to: to)
        return JSONResponse.make(.object([
            "from": Render.int(from), "to": Render.int(to), "proof": .array(proof.map { .string($0.base64) }),
        ]))
    }

    static func projections(_: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        var items = [JSONValue]()
        for p in ReadModel.projections {
            let status = try daemon.model.runner.status(of: p)
            var item: [String: JSONValue] = [
                "name": .string(p.name), "version": Render.int(p.version), "position": Render.int(status.position),
                "lag": Render.int(status.lag), "rate": .number(status.rate.rounded()),
            ]
            if let stopped = status.stopped { item["stopped"] = .string(stopped) }
            items.append(.object(item))
        }
        return list(items)
    }
}
