public import Foundation

/// A command as clients send it (`POST /commands/{type}`, or one NDJSON line of `ledgerd import`):
///
/// ```json
/// {"commandId": "0190…", "type": "dossier.receive",
///  "actor": {"staff": "snv-0007", "role": "oneStopOfficer", "unit": "SNV.MC"},
///  "occurredAt": "2020-04-01T10:00:00+07:00",
///  "body": {"dossier": "…"}}
/// ```
///
/// Optional `correlationId` and `causationId` (UUIDs) tie the command's events to a workflow and to the event that
/// prompted it; without them both are the command id.
///
/// `occurredAt` is honoured only for import and system principals (design.md, "Clocks"); others get the server's
/// time.
public struct CommandEnvelope: Sendable, Hashable {
    /// The client's command id.
    public var commandID: UUID
    /// The event type.
    public var type: String
    /// The acting official's staff id.
    public var actor: Actor
    /// The official acted for.
    public var onBehalfOf: String?
    /// The signing capacity (KT, TL, TUQ, Q).
    public var capacity: String?
    /// The domain time (honoured for import and system principals).
    public var occurredAt: Int64?
    /// The body.
    public var body: CommandBody
    /// The workflow the command belongs to (its events' correlation id; the command id when absent).
    public var correlationID: UUID?
    /// The event that caused the command, when one did (e.g. the approval step an officer answers); the events'
    /// causation id is the command id when absent.
    public var causationID: UUID?

    /// An envelope.
    public init(commandID: UUID, type: String, actor: Actor, onBehalfOf: String? = nil, capacity: String? = nil,
                occurredAt: Int64? = nil, correlationID: UUID? = nil, causationID: UUID? = nil,
                body: [String: JSONValue]) {
        self.commandID = commandID
        self.correlationID = correlationID
        self.causationID = causationID
        self.type = type
        self.actor = actor
        self.onBehalfOf = onBehalfOf
        self.capacity = capacity
        self.occurredAt = occurredAt
        self.body = CommandBody(body)
    }

    /// Decodes one JSON command; `type` may come from the route instead of the body.
    public init(json: Data, type routeType: String? = nil) throws(LedgerError) {
        let value = try Self.parse(json).get()
        guard case .object(let top) = value else {
            throw LedgerError(.badField, "the request body must be a JSON object", field: "")
        }
        let root = CommandBody(top, path: "command")
        let type: String
        if let routeType { type = routeType } else { type = try root.string("type") }
        if let routeType, let inBody = try root.optionalString("type"), inBody != routeType {
            throw LedgerError(.badField, "command.type \(inBody) differs from the route's \(routeType)", field: "type")
        }
        guard case .object(let actorFields)? = top["actor"] else {
            throw LedgerError(.badField, "command.actor must be an object {staff, role}", field: "actor")
        }
        let actor = CommandBody(actorFields, path: "command.actor")
        let role = try actor.choice("role", Actor.Role.self)
        var occurredAt: Int64?
        if top["occurredAt"] != nil, top["occurredAt"] != .null { occurredAt = try root.instant("occurredAt") }
        guard case .object(let body)? = top["body"] ?? .object([:]) else {
            throw LedgerError(.badField, "command.body must be an object", field: "body")
        }
        var correlation: UUID?, causation: UUID?
        if top["correlationId"] != nil, top["correlationId"] != .null { correlation = try root.uuid("correlationId") }
        if top["causationId"] != nil, top["causationId"] != .null { causation = try root.uuid("causationId") }
        self.init(commandID: try root.uuid("commandId"), type: type,
                  actor: Actor(staffID: try actor.string("staff"), role: role, unit: try actor.optionalString("unit")),
                  onBehalfOf: try actor.optionalString("onBehalfOf"), capacity: try actor.optionalString("capacity"),
                  occurredAt: occurredAt, correlationID: correlation, causationID: causation, body: body)
    }

    private static func parse(_ json: Data) -> Result<JSONValue, LedgerError> {
        do { return .success(try JSONValue(parsing: json)) } catch {
            return .failure(LedgerError(.badField, "the request body is not valid JSON: \(error)", field: ""))
        }
    }
}
