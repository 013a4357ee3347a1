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
    /// Its row number on the sheet, from 1 (a transfer records its own as `controlSheetEntry`).
    public var entry: Int
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

    /// The process control sheet of a dossier: each row (``DossierEvent/controlSheetStep``) with its number, giver,
    /// receiver and time, in log order.
    public func controlSheet(dossier: String) throws -> [ControlStep] {
        var steps = [ControlStep]()
        var holder = ""
        let stream = "dossier-\(dossier.lowercased())"
        for recorded in try runner.store.readStream(stream, limit: .max, payloads: .facts) {
            let record = recorded.record
            // A record that does not decode is reported (the write side's fold refuses it too), not skipped.
            let event = try DossierEvent(type: record.eventType, facts: recorded.facts ?? [], personal: nil)
            guard let step = event.controlSheetStep else { continue }
            // The desk or unit that acted, else the official.
            let acting = record.metadata["unit"].flatMap { $0.isEmpty ? nil : $0 } ?? record.actor
            var giver = holder, receiver = "", at: Int64 = 0
            switch event {
            case .received(let r):
                (giver, receiver, at) = ("applicant", acting, r.at)
                holder = acting
            case .transferred(let unit, let stepAt, _, let handedOver, _):
                // When the file changed hands, if that was before the step was recorded.
                (receiver, at) = (unit, handedOver ?? stepAt)
                holder = unit
            case .reassigned(let from, let to, _, _, let stepAt):
                (giver, receiver, at) = (from, to, stepAt)
                holder = to
            case .assigned(let assignee, _, let stepAt, _):
                (giver, receiver, at) = (record.actor, assignee, stepAt)
                holder = assignee
            case .submittedForApproval(_, _, _, let stepAt):
                (giver, receiver, at) = (record.actor, "approvers", stepAt)
            case .approvalReturned(_, _, let stepAt):
                (giver, receiver, at) = (record.actor, holder, stepAt)
            case .resolved(_, let stepAt, _, _, _), .refused(_, let stepAt, _):
                (receiver, at) = (acting, stepAt)
            case .resultReturned(_, _, let stepAt, _):
                (giver, receiver, at) = (acting, "applicant", stepAt)
            default:
                continue
            }
            steps.append(ControlStep(entry: steps.count + 1, step: step, giver: giver, receiver: receiver, at: at))
        }
        return steps
    }
}
