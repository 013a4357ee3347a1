import EventStore
import Foundation
import Ledger

/// One line of an audit trail.
public struct AuditEntry: Hashable, Sendable {
    /// The position held.
    public var position: UInt64
    /// The stream.
    public var stream: String
    /// The event type.
    public var type: String
    /// The acting official's staff id.
    public var actor: String
    /// The Unix account that sent it.
    public var principal: String
    /// The role acted in.
    public var role: String
    /// The unit's id.
    public var unit: String
    /// The signing capacity (KT, TL, TUQ, Q).
    public var capacity: String
    /// The official acted for.
    public var onBehalfOf: String
    /// Domain time, when the event carries one.
    public var at: Int64?
    /// The facts as JSON.
    public var facts: String
}

/// One handover of the process control sheet (domain.md §4.5).
public struct ControlStep: Hashable, Sendable {
    /// The step.
    public var step: String
    /// Who handed over.
    public var giver: String
    /// Who received.
    public var receiver: String
    /// The domain time.
    public var at: Int64
}

extension ReadModel {
    /// The audit trail of a stream (a dossier's: `dossier-<id>`), in log order.
    public func auditTrail(stream: String) throws -> [AuditEntry] {
        try entries(databases(AuditTrail())["byStream"], Array(stream.utf8) + [0])
    }

    /// Everything an official did, in log order.
    public func auditTrail(actor: String) throws -> [AuditEntry] {
        let dbs = databases(AuditTrail())
        let prefix = Array(actor.utf8) + [0]
        return try runner.state.read { txn in
            var lines = [AuditEntry]()
            try txn.forEach(dbs["byActor"], from: prefix) { key, value in
                guard key.starts(with: prefix), key.count == prefix.count + 8 else { return key.starts(with: prefix) }
                let position = Array(key[prefix.count...])
                if let line = try txn.get(dbs["byStream"], key: Array(value) + [0] + position) {
                    lines.append(try Self.auditEntry(position, line))
                }
                return true
            }
            return lines
        }
    }

    static func auditEntry(_ positionBytes: [UInt8], _ value: [UInt8]) throws -> AuditEntry {
        let position = positionBytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let f = try StateRows.decode(value)
        var facts = "{}"
        if case .bytes(let bytes)? = f["facts"] { facts = (try? Facts.json(bytes)) ?? "{}" }
        return AuditEntry(position: position, stream: f.string("stream"), type: f.string("type"), actor: f.string("actor"),
                          principal: f.string("principal"), role: f.string("role"), unit: f.string("unit"),
                          capacity: f.string("capacity"), onBehalfOf: f.string("on_behalf_of"), at: f.instant("at"),
                          facts: facts)
    }

    private func entries(_ db: StateDatabase, _ prefix: [UInt8]) throws -> [AuditEntry] {
        try runner.state.read { txn in
            var out = [AuditEntry]()
            try txn.forEach(db, from: prefix) { key, value in
                guard key.starts(with: prefix), key.count == prefix.count + 8 else { return key.starts(with: prefix) }
                out.append(try Self.auditEntry(Array(key[prefix.count...]), Array(value)))
                return true
            }
            return out
        }
    }

    /// The process control sheet of a dossier: each handover with giver, receiver and time.
    public func controlSheet(dossier: String) throws -> [ControlStep] {
        var steps = [ControlStep]()
        var holder = ""
        for e in try auditTrail(stream: "dossier-\(dossier.lowercased())") {
            let at = e.at ?? 0
            func field(_ key: String) -> String {
                guard let r = e.facts.range(of: "\"\(key)\":\"") else { return "" }
                return String(e.facts[r.upperBound...].prefix { $0 != "\"" })
            }
            switch e.type {
            case "DossierReceived.v1":
                holder = e.unit.isEmpty ? e.actor : e.unit
                steps.append(ControlStep(step: "received", giver: "applicant", receiver: holder, at: at))
            case "DossierTransferred.v1":
                steps.append(ControlStep(step: "transferred", giver: holder, receiver: field("toUnit"), at: at))
                holder = field("toUnit")
            case "DossierAssigned.v1":
                steps.append(ControlStep(step: "assigned", giver: e.actor, receiver: field("assignee"), at: at))
                holder = field("assignee")
            case "DossierSubmittedForApproval.v1":
                steps.append(ControlStep(step: "submitted for approval", giver: e.actor, receiver: "approvers", at: at))
            case "DossierApprovalReturned.v1":
                steps.append(ControlStep(step: "returned for revision", giver: e.actor, receiver: holder, at: at))
            case "DossierResolved.v1", "DossierRefused.v1":
                steps.append(ControlStep(step: e.type == "DossierResolved.v1" ? "resolved" : "refused", giver: holder,
                                         receiver: e.unit.isEmpty ? e.actor : e.unit, at: at))
            case "DossierResultReturned.v1":
                steps.append(ControlStep(step: "result returned", giver: e.unit.isEmpty ? e.actor : e.unit,
                                         receiver: "applicant", at: at))
            default: break
            }
        }
        return steps
    }
}
