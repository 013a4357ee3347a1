import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import NIOCore
import NIOFoundationCompat
import Projections

/// The routes for what the command line does that writes, so it works the same with a daemon running (admin only).
enum AdminRoutes {
    static var table: [Route] {
        [
            Route(method: .post, path: "/admin/checks", roles: [.admin], handler: checks),
            Route(method: .post, path: "/admin/portal-sync", roles: [.admin], handler: portalSync),
            Route(method: .post, path: "/admin/checkpoints", roles: [.admin], handler: sign),
            Route(method: .post, path: "/admin/checkpoints/cosignatures", roles: [.admin], handler: cosign),
            Route(method: .post, path: "/admin/checkpoints/rollbacks", roles: [.admin], handler: rollback),
            Route(method: .post, path: "/admin/erasures", roles: [.admin], handler: erase),
            Route(method: .post, path: "/admin/backups", roles: [.admin], handler: backup),
            Route(method: .post, path: "/admin/projections/{name}/rebuild", roles: [.admin], handler: rebuild),
            Route(method: .post, path: "/admin/projections/{name}/attestations", roles: [.admin], handler: attest),
        ]
    }

    static func body(_ request: Request, _ context: LedgerRequestContext) async throws -> CommandBody {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        if buffer.readableBytes == 0 { return CommandBody([:]) }
        guard case .object(let o)? = try? JSONValue(parsing: buffer.readableBytesView) else {
            throw APIError(.badRequest, "bad_field", "the body must be a JSON object")
        }
        return CommandBody(o)
    }

    /// Runs the scheduler's system checks now, or as of `at` (an import of past days).
    static func checks(_ request: Request, _ context: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        let b = try await body(request, context)
        let at = b.fields["at"] == nil ? Int64(Date().timeIntervalSince1970) : try b.instant("at")
        let report = try await SystemChecks(daemon: daemon).run(at: at)
        return JSONResponse.make(.object([
            "endOfDay": Render.int(report.endOfDay), "deadlines": Render.int(report.deadlines),
            "overdueTasks": Render.int(report.overdueTasks),
            "nothingToRecord": Render.int(report.nothingToRecord), "refused": .array(report.refused.map(JSONValue.string)),
        ]))
    }

    /// Runs a portal sync round now, or as of `at`.
    static func portalSync(_ request: Request, _ context: LedgerRequestContext, _ daemon: Daemon) async throws
        -> Response
    {
        guard let portal = daemon.portal else {
            throw APIError(.conflict, "no_portal", "the config names no portal; add [portal] url = \"…\" and restart")
        }
        let b = try await body(request, context)
        let report = try await portal.run(daemon, at: b.fields["at"] == nil ? nil : try b.instant("at"))
        return JSONResponse.make(.object([
            "requested": Render.int(report.requested), "accepted": Render.int(report.accepted),
            "failed": Render.int(report.failed), "refused": .array(report.refused.map(JSONValue.string)),
        ]))
    }

    static func sign(_: Request, _: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        guard let signer = daemon.signer, let state = daemon.signingState else {
            throw APIError(.conflict, "no_signing_key", "the daemon has no readable signing key; check the config's key")
        }
        let signed = try await daemon.store.signCheckpoint(with: signer, state: state)
        return text(signed.note.formatted, status: .created)
    }

    static func cosign(_ request: Request, _ context: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        guard !daemon.witnesses.isEmpty else {
            throw APIError(.conflict, "no_witness_keys", "the config lists no witness_keys")
        }
        let note = String(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let stored = try await daemon.store.addCosignatures(note, witnesses: daemon.witnesses)
        return text(stored.note.formatted, status: .ok)
    }

    static func rollback(_ request: Request, _ context: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        guard let state = daemon.signingState else {
            throw APIError(.conflict, "no_signing_key", "the daemon has no readable signing key; check the config's key")
        }
        let reason = try await body(request, context).string("reason")
        let result = try await daemon.store.recordRollback(reason: reason, state: state, actor: context.principal)
        return JSONResponse.make(.object(["position": Render.int(result.positions[0])]), status: .created)
    }

    static func erase(_ request: Request, _ context: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        let b = try await body(request, context)
        let result = try await daemon.store.eraseSubject(try b.uuid("subject"), reason: try b.string("reason"),
                                                         actor: context.principal)
        return JSONResponse.make(.object(["position": Render.int(result.positions[0])]), status: .created)
    }

    static func backup(_ request: Request, _ context: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        let directory = try await body(request, context).string("directory")
        let size = try daemon.store.backup(to: directory)
        return JSONResponse.make(.object(["directory": .string(directory), "events": Render.int(size)]), status: .created)
    }

    static func rebuild(_: Request, _ context: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        guard let projection = ReadModel.projections.first(where: { $0.name == name }) else {
            throw APIError(.notFound, "not_found", "no projection \(name); they are "
                + ReadModel.projections.map(\.name).joined(separator: ", "))
        }
        try daemon.model.runner.reset(projection)
        let head = try daemon.model.runner.catchUp()
        return JSONResponse.make(.object(["projection": .string(name), "position": Render.int(head),
                                          "digest": .string(try daemon.model.runner.digest(of: projection))]))
    }

    /// Catches the projection up and records its state digest in the log (leaf type 3).
    static func attest(_ request: Request, _ context: LedgerRequestContext, _ daemon: Daemon) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        guard let projection = ReadModel.projections.first(where: { $0.name == name }) else {
            throw APIError(.notFound, "not_found", "no projection \(name); they are "
                + ReadModel.projections.map(\.name).joined(separator: ", "))
        }
        // The state as the follower last committed it, with the position it reflects (one read transaction).
        let attestation = try daemon.model.runner.attestation(of: projection)
        let result = try await daemon.store.attest(attestation, actor: context.principal)
        return JSONResponse.make(.object([
            "projection": .string(name), "version": Render.int(attestation.version),
            "position": Render.int(attestation.position), "digest": .string(attestation.digest),
            "logPosition": Render.int(result.positions[0]),
        ]), status: .created)
    }

    static func text(_ body: String, status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
