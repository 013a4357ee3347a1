public import Foundation
public import Ledger

/// One command of a fixture run, with what its sender expects: accepted, refused with a given code (the workload's
/// deliberate mistakes), or a system check that may find nothing.
public struct GeneratedCommand: Sendable {
    /// What the generator expects of the command.
    public enum Expectation: Hashable, Sendable {
        case accepted
        case refused(LedgerError.Code)
        case check
    }

    /// The domain time.
    public var at: Int64
    /// The generation order.
    public var seq: Int
    /// The client's command id.
    public var commandID: UUID
    /// The event type.
    public var type: String
    /// The acting official's staff id.
    public var actor: Actor
    /// The body.
    public var body: [String: JSONValue]
    /// What the generator expects.
    public var expect: Expectation

    /// The envelope the service runs.
    public var envelope: CommandEnvelope {
        CommandEnvelope(commandID: commandID, type: type, actor: actor, occurredAt: at, body: body)
    }

    /// One NDJSON line (keys sorted, local times with their offset): the committed sample's format, which
    /// `ledgerd import --commands` and ``CommandEnvelope/init(json:type:)`` read.
    public func jsonLine(utcOffset: Int) -> String {
        var actorFields: [String: JSONValue] = ["staff": .string(actor.staffID), "role": .string(actor.role.rawValue)]
        if let unit = actor.unit { actorFields["unit"] = .string(unit) }
        let expectText: String
        switch expect {
        case .accepted: expectText = "accepted"
        case .refused(let code): expectText = "refused:\(code.rawValue)"
        case .check: expectText = "check"
        }
        let object: JSONValue = .object([
            "commandId": .string(commandID.uuidString.lowercased()), "type": .string(type),
            "actor": .object(actorFields), "occurredAt": .string(Instant.format(at, utcOffset: utcOffset)),
            "body": .object(body), "expect": .string(expectText),
        ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(object), as: UTF8.self)
    }
}
