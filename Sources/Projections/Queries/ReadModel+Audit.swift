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
    /// The audit trail of a stream (a dossier's: `dossier-<id>`), in log order, read from the log itself (empty
    /// for a stream outside the audited categories).
    public func auditTrail(stream: String) throws -> [AuditEntry] {
        guard AuditTrail.categories.contains(EventRecord.category(of: stream)) else { return [] }
        return try runner.store.readStream(stream, limit: .max, payloads: .facts).map(Self.auditEntry)
    }

    /// Everything an official did, in log order (the positions from the trail's index, the lines from the log).
    public func auditTrail(actor: String) throws -> [AuditEntry] {
        let dbs = databases(AuditTrail())
        let prefix = Array(actor.utf8) + [0]
        let positions = try read(AuditTrail()) { txn in
            var positions = [UInt64]()
            try txn.forEach(dbs["byActor"], from: prefix) { key, _ in
                guard key.starts(with: prefix) else { return false }
                if key.count == prefix.count + 8 {
                    positions.append(key[prefix.count...].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
                }
                return true
            }
            return positions
        }
        return try positions.compactMap { try runner.store.event(at: $0, payloads: .facts).map(Self.auditEntry) }
    }

    static func auditEntry(_ event: RecordedEvent) -> AuditEntry {
        let record = event.record
        let facts = event.facts ?? []
        let at = try? Facts.decode(facts) { r throws(Facts.DecodingError) in try r.instant("at") }
        return AuditEntry(position: record.position, stream: record.stream, type: record.eventType,
                          actor: record.actor, principal: record.metadata["principal"] ?? "",
                          role: record.metadata["role"] ?? "", unit: record.metadata["unit"] ?? "",
                          capacity: record.metadata["capacity"] ?? "",
                          onBehalfOf: record.metadata["on_behalf_of"] ?? "", at: at,
                          facts: (try? Facts.json(facts)) ?? "{}")
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
            switch DossierEvent.currentName(of: e.type) {
            case "DossierReceived.v1":
                holder = e.unit.isEmpty ? e.actor : e.unit
                steps.append(ControlStep(step: "received", giver: "applicant", receiver: holder, at: at))
            case "DossierTransferred.v1":
                // When the file changed hands, if that was before the step was recorded.
                steps.append(ControlStep(step: "transferred", giver: holder, receiver: field("toUnit"),
                                         at: Instant.parse(field("handedOverAt")) ?? at))
                holder = field("toUnit")
            case "DossierReassigned.v1":
                steps.append(ControlStep(step: "reassigned", giver: field("fromAssignee"), receiver: field("toAssignee"),
                                         at: at))
                holder = field("toAssignee")
            case "DossierAssigned.v1" where ["", "MAIN"].contains(field("role")):  // co-handlers hand nothing over
                steps.append(ControlStep(step: "assigned", giver: e.actor, receiver: field("assignee"), at: at))
                holder = field("assignee")
            case "DraftResultSubmittedForApproval.v1":
                steps.append(ControlStep(step: "submitted for approval", giver: e.actor, receiver: "approvers", at: at))
            case "DraftReturnedForRevision.v1":
                steps.append(ControlStep(step: "returned for revision", giver: e.actor, receiver: holder, at: at))
            case "DossierResolved.v1", "DossierRefused.v1":
                steps.append(ControlStep(step: e.type == "DossierResolved.v1" ? "resolved" : "refused", giver: holder,
                                         receiver: e.unit.isEmpty ? e.actor : e.unit, at: at))
            case "ResultReturned.v1":
                steps.append(ControlStep(step: "result returned", giver: e.unit.isEmpty ? e.actor : e.unit,
                                         receiver: "applicant", at: at))
            default: break
            }
        }
        return steps
    }
}
