public import EventStore
import Foundation
import Ledger

/// The national-portal sync as the daemon's worker and the reconciliation view (domain.md §4, view 10) read it:
///
/// - `rows`: dossier id → agency, code (once received), latest (the version of its last synced step), requested
///   (through which version pushes were requested), pending (pushes not yet accepted), accepted (pushes accepted),
///   failures (failed attempts), lastSyncedAt;
/// - `outbox`: `dossier 0 version` → each push not yet accepted: agency, code, dossierVersion, kind, externalStatus,
///   step, attempts, nextAttemptAt, lastError;
/// - `unrequested`: dossier ids with a synced step no push was requested for yet (what `system.portalSync` is sent
///   for).
public struct PortalSyncRegister: Projection {
    /// The projection's stable name.
    public var name = "portal-sync"
    /// The projection's code version.
    public var version: UInt32 = 1
    /// The databases it keeps.
    public var databases = ["rows", "outbox", "unrequested"]

    /// The register.
    public init() {}

    /// The facts of dossier and portal-sync events.
    public func payloads(of record: RecordView) -> PayloadSelection {
        let stream = record.streamBytes
        return stream.starts(with: "dossier-".utf8) || stream.starts(with: "portalsync-".utf8) ? .facts : .none
    }

    /// The key of a push in `outbox`.
    static func outboxKey(_ dossier: String, _ version: UInt64) -> [UInt8] {
        StateRows.key(dossier, String(repeating: "0", count: max(0, 20 - String(version).count)) + String(version))
    }

    /// Folds one event (see ``Projection``).
    public func fold(_ event: ProjectedEvent, _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases) throws {
        let record = event.record
        guard let facts = event.facts else { return }
        if record.streamBytes.starts(with: "dossier-".utf8) {
            try foldDossier(record, Array(facts), Array(record.streamBytes.dropFirst(8)), txn, dbs)
        } else if record.streamBytes.starts(with: "portalsync-".utf8) {
            guard let decoded = try PortalSync.Event(type: record.eventType, facts: Array(facts)) else { return }
            try foldOutbox(decoded, Array(record.streamBytes.dropFirst(11)), txn, dbs)
        }
    }

    private func foldDossier(_ record: RecordView, _ facts: [UInt8], _ key: [UInt8],
                             _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases) throws {
        let type = DossierEvent.currentName(of: record.eventType)
        let synced = PortalStatusMapping.syncedTypes.contains(type)
        guard synced || type == "DossierSubmitted.v1" else { return }
        var unrequested = false
        try StateRows.update(dbs["rows"], key, txn) { row in
            if type == "DossierSubmitted.v1" {
                if let agency = try? Facts.decode(facts, { r throws(Facts.DecodingError) in try r.string("agency") }) {
                    row["agency"] = .string(agency)
                }
                return
            }
            if type == "DossierReceived.v1",
               let code = try? Facts.decode(facts, { r throws(Facts.DecodingError) in try r.string("receiptCode") }) {
                row["code"] = .string(code)
            }
            // Steps before the receipt (an intake refusal) are not synced: the portal knows a dossier by its code.
            guard row["code"] != nil else { return }
            row["latest"] = .int(Int64(record.streamVersion))
            unrequested = UInt64(row.int("requested")) < record.streamVersion
        }
        if unrequested { try txn.put(dbs["unrequested"], key: key, value: StateRows.encode([:])) }
    }

    private func foldOutbox(_ event: PortalSync.Event, _ key: [UInt8], _ txn: borrowing StateTransaction,
                            _ dbs: ProjectionDatabases) throws {
        let dossier = String(decoding: key, as: UTF8.self)
        switch event {
        case .requested(let push, let agency, _):
            var caughtUp = false
            try StateRows.update(dbs["rows"], key, txn) { row in
                row["requested"] = .int(Int64(max(UInt64(row.int("requested")), push.dossierVersion)))
                row["pending"] = .int(Int64(row.int("pending") + 1))
                caughtUp = row.int("requested") >= row.int("latest")
            }
            if caughtUp { _ = try txn.delete(dbs["unrequested"], key: key) }
            try StateRows.update(dbs["outbox"], Self.outboxKey(dossier, push.dossierVersion), txn) { entry in
                entry["agency"] = .string(agency)
                entry["code"] = .string(push.code)
                entry["dossierVersion"] = .int(Int64(push.dossierVersion))
                entry["kind"] = .string(push.kind.rawValue)
                entry["externalStatus"] = .int(Int64(push.externalStatus))
                entry["mappingVersion"] = .int(Int64(push.mappingVersion))
                entry["step"] = .string(push.step)
                entry["occurredAt"] = .instant(push.occurredAt)
                entry["attempts"] = .int(0)
                entry["nextAttemptAt"] = .instant(push.nextAttemptAt)
            }
        case .succeeded(let version, _, _, let at):
            guard try txn.delete(dbs["outbox"], key: Self.outboxKey(dossier, version)) else { return }
            try StateRows.update(dbs["rows"], key, txn) { row in
                row["pending"] = .int(Int64(max(0, row.int("pending") - 1)))
                row["accepted"] = .int(Int64(row.int("accepted") + 1))
                row["lastSyncedAt"] = .instant(at)
            }
        case .failed(let version, let attempt, let error, let retryAt, _):
            let outboxKey = Self.outboxKey(dossier, version)
            guard try txn.get(dbs["outbox"], key: outboxKey) != nil else { return }
            try StateRows.update(dbs["outbox"], outboxKey, txn) { entry in
                entry["attempts"] = .int(Int64(attempt))
                entry["nextAttemptAt"] = .instant(retryAt)
                entry["lastError"] = .string(error)
            }
            try StateRows.update(dbs["rows"], key, txn) { row in row["failures"] = .int(Int64(row.int("failures") + 1)) }
        }
    }
}
