public import Foundation
public import Ledger

/// A push to the national portal not yet accepted, as the sync worker sends it and the reconciliation view lists it.
public struct PortalPush: Hashable, Sendable {
    /// The dossier's id.
    public var dossier: String
    /// The agency's id.
    public var agency: String
    /// What the push carries: the dossier's code and version, the kind, the portal status, the step and its time.
    public var push: PortalSync.Push
    /// Why the last attempt failed, when one did.
    public var lastError: String?
}

/// One agency's reconciliation of local dossiers against the portal (domain.md §4, view 10).
public struct PortalReconciliation: Hashable, Sendable {
    /// The agency's id.
    public var agency: String
    /// Dossiers received (the portal knows a dossier from its receipt).
    public var local = 0
    /// Dossiers whose every synced step the portal has accepted.
    public var synced = 0
    /// Dossiers with a step not yet requested or not yet accepted.
    public var behind: Int { local - synced }
    /// Pushes accepted, and pushes waiting (requested, not accepted).
    public var acceptedPushes = 0, pendingPushes = 0
    /// Failed attempts so far.
    public var failedAttempts = 0
    /// `synced / local` (1 when there is nothing to sync).
    public var syncRate: Double { local == 0 ? 1 : Double(synced) / Double(local) }
    /// Pushes with at least one failed attempt and still not accepted, oldest step first.
    public var failing: [PortalPush] = []
}

extension ReadModel {
    /// Dossiers with a synced step no push was requested for yet (at most `limit`, sorted): what the sync worker
    /// sends `system.portalSync` for.
    public func portalSyncUnrequested(limit: Int = 1_000) throws -> [String] {
        Array(try rows(PortalSyncRegister(), "unrequested", prefix: []).prefix(limit).map(\.key))
    }

    /// The reconciliation of an agency's dossiers against the portal.
    public func portalReconciliation(agency: String) throws -> PortalReconciliation {
        var out = PortalReconciliation(agency: agency)
        for (_, row) in try rows(PortalSyncRegister(), "rows", prefix: []) where row.string("agency") == agency {
            guard row["code"] != nil else { continue }
            out.local += 1
            out.acceptedPushes += row.int("accepted")
            out.pendingPushes += row.int("pending")
            out.failedAttempts += row.int("failures")
            if row.int("pending") == 0, row.int("requested") >= row.int("latest") { out.synced += 1 }
        }
        out.failing = try portalPushes().filter { $0.agency == agency && $0.push.attempts > 0 }
            .sorted { ($0.push.occurredAt, $0.dossier) < ($1.push.occurredAt, $1.dossier) }
        return out
    }

    /// Every push not yet accepted, by dossier id, then in version order.
    public func portalPushes() throws -> [PortalPush] {
        try rows(PortalSyncRegister(), "outbox", prefix: []).compactMap { key, entry in
            guard let kind = PortalSync.Kind(rawValue: entry.string("kind")),
                  let dossier = key.split(separator: "\u{0}").first else { return nil }
            let push = PortalSync.Push(
                dossierVersion: UInt64(entry.int("dossierVersion")), kind: kind,
                externalStatus: entry.int("externalStatus"), mappingVersion: entry.int("mappingVersion"),
                code: entry.string("code"), step: entry.string("step"), occurredAt: entry.instant("occurredAt") ?? 0,
                attempts: entry.int("attempts"), nextAttemptAt: entry.instant("nextAttemptAt") ?? 0)
            return PortalPush(dossier: String(dossier), agency: entry.string("agency"), push: push,
                              lastError: entry["lastError"] == nil ? nil : entry.string("lastError"))
        }
    }
}
