import EventStore
import Foundation

extension LedgerService {
    static let portalSyncCommands: Set<String> = ["system.portalSync", "system.portalSyncResult"]

    /// `system.portalSync {dossier}` records the pushes the dossier's events call for (``PortalSync``);
    /// `system.portalSyncResult {dossier, dossierVersion, attempt, outcome: succeeded|failed, reference?, error?,
    /// retryAt?}` records how an attempt went. Both are the system's (the daemon's sync worker).
    func executePortalSync(_ c: Command) async throws -> AppendResult {
        try c.requireSystem()
        let b = c.body
        let id = try b.uuid("dossier")
        let dossierStream = DossierHandler.stream(id)
        let stream = PortalSync.stream(dossier: id.uuidString)
        return try await handler.execute(c.context) {
            let (outbox, version) = try handler.load(stream, PortalSync()) { s, e in
                guard let event = try PortalSync.Event(type: e.record.eventType, facts: e.facts ?? []) else { return s }
                return PortalSync.evolve(s, event)
            }
            if c.envelope.type == "system.portalSync" {
                var steps = [(version: UInt64, type: String, after: Dossier, at: Int64)]()
                let (dossier, dossierVersion) = try handler.load(dossierStream, Dossier()) { s, e in
                    let facts = e.facts ?? []
                    let event = try DossierEvent(type: e.record.eventType, facts: facts, personal: nil)
                    let after = Dossier.evolve(s, event)
                    let at = (try? Facts.decode(facts) { r throws(Facts.DecodingError) in try r.instant("at") })
                        ?? e.record.recordedAt / 1_000_000
                    steps.append((e.record.streamVersion, event.type, after, at))
                    return after
                }
                guard dossier.status != nil else { throw LedgerError(.notFound, "no dossier \(id)") }
                let pushes = outbox.requests(steps)
                guard !pushes.isEmpty else {
                    throw LedgerError(.nothingToRecord, "dossier \(id) has no step the portal has not been told of")
                }
                // The dossier was only read: its stream is expected unchanged, with no events of this command.
                return [PlannedAppend(stream: dossierStream, readVersion: dossierVersion, events: []),
                        PlannedAppend(stream: stream, readVersion: version, events: pushes.map {
                            PortalSync.Event.requested($0, agency: dossier.agencyID, at: c.at).new
                        })]
            }
            let dossierVersion = try b.int("dossierVersion")
            let attempt = try b.int("attempt")
            guard dossierVersion > 0, (1...1_000_000).contains(attempt) else {
                throw LedgerError(.badField, "body.dossierVersion and body.attempt must be positive",
                                  field: dossierVersion > 0 ? "body.attempt" : "body.dossierVersion")
            }
            let event: PortalSync.Event
            switch try b.string("outcome") {
            case "succeeded":
                event = .succeeded(dossierVersion: UInt64(dossierVersion), attempt: Int(attempt),
                                   reference: try b.optionalString("reference"), at: c.at)
            case "failed":
                event = .failed(dossierVersion: UInt64(dossierVersion), attempt: Int(attempt),
                                error: try b.string("error"), retryAt: try b.instant("retryAt"), at: c.at)
            default:
                throw LedgerError(.badField, "body.outcome must be succeeded or failed", field: "body.outcome")
            }
            return [PlannedAppend(stream: stream, readVersion: version, events: [try outbox.decideOutcome(event).new])]
        }
    }
}
