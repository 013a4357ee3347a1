/// The outbox of one dossier's pushes to the national portal (domain.md §3.1, stream `portalsync-<dossier>`).
///
/// The log is the outbox's source: each synced dossier event (``PortalStatusMapping/syncedTypes``, from the receipt
/// on, when the dossier has its code) becomes one push, `PortalSyncRequested`, recorded by the scheduler's
/// `system.portalSync` with what is pushed: the kind, the portal status under the mapping in force, the dossier's
/// code and version. The daemon's sync worker sends each push until the portal accepts it, recording every attempt
/// (`PortalSyncSucceeded` / `PortalSyncFailed`, with the next attempt's time). A push is idempotent on
/// (dossier code, dossier version), ``Push/idempotencyKey``, so the portal can drop a push it saw when an
/// acknowledgement was lost.
public struct PortalSync: Hashable, Sendable {
    /// The stream of a dossier's pushes.
    public static func stream(dossier: String) -> String { "portalsync-" + dossier.lowercased() }

    /// What a push tells the portal.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// The dossier itself (`DongBoHoSoMC`): its first push, at receipt.
        case dossier = "DOSSIER"
        /// A processing step that leaves the portal status as it was (`CapNhatTienDoHoSoMC`).
        case progress = "PROGRESS"
        /// A change of the portal status.
        case status = "STATUS"
    }

    /// One push and its attempts so far.
    public struct Push: Hashable, Sendable {
        /// The dossier event's version (its position in the dossier's stream).
        public var dossierVersion: UInt64
        /// What it tells.
        public var kind: Kind
        /// The portal status code after the event.
        public var externalStatus: Int
        /// The status mapping it was made under.
        public var mappingVersion: Int
        /// The dossier's receipt code.
        public var code: String
        /// The event's type (without its schema version), e.g. `DossierAssigned`.
        public var step: String
        /// When the step happened.
        public var occurredAt: Int64
        /// Attempts made.
        public var attempts = 0
        /// When the portal accepted it, or `nil`.
        public var succeededAt: Int64?
        /// When the next attempt is due (the request's time until one failed).
        public var nextAttemptAt: Int64

        /// A push, as recorded.
        public init(dossierVersion: UInt64, kind: Kind, externalStatus: Int, mappingVersion: Int, code: String,
                    step: String, occurredAt: Int64, attempts: Int = 0, succeededAt: Int64? = nil,
                    nextAttemptAt: Int64) {
            self.dossierVersion = dossierVersion
            self.kind = kind
            self.externalStatus = externalStatus
            self.mappingVersion = mappingVersion
            self.code = code
            self.step = step
            self.occurredAt = occurredAt
            self.attempts = attempts
            self.succeededAt = succeededAt
            self.nextAttemptAt = nextAttemptAt
        }

        /// The key the portal deduplicates on: `<code>/<dossier version>`.
        public var idempotencyKey: String { "\(code)/\(dossierVersion)" }
    }

    /// The pushes, in dossier-version order.
    public var pushes: [Push] = []

    /// Nothing yet.
    public init() {}

    /// The dossier version of the last push requested (0 when none).
    public var requestedThrough: UInt64 { pushes.last?.dossierVersion ?? 0 }

    /// What happens to the outbox.
    public enum Event: Hashable, Sendable {
        /// A push to make: the dossier's event at `dossierVersion`, told as `kind`.
        case requested(Push, agency: String, at: Int64)
        /// The portal accepted attempt `attempt`; `reference` is its answer's id, when it gave one.
        case succeeded(dossierVersion: UInt64, attempt: Int, reference: String?, at: Int64)
        /// Attempt `attempt` failed; the next is due at `retryAt`.
        case failed(dossierVersion: UInt64, attempt: Int, error: String, retryAt: Int64, at: Int64)

        /// The stored type.
        public var type: String {
            switch self {
            case .requested: "PortalSyncRequested.v1"
            case .succeeded: "PortalSyncSucceeded.v1"
            case .failed: "PortalSyncFailed.v1"
            }
        }

        /// As a new event.
        public var new: NewEvent {
            var w = Facts.Writer()
            switch self {
            case .requested(let p, let agency, let at):
                w.field("dossierVersion", Int64(p.dossierVersion))
                w.field("kind", p.kind.rawValue)
                w.field("externalStatus", p.externalStatus)
                w.field("mappingVersion", p.mappingVersion)
                w.field("code", p.code)
                w.field("agency", agency)
                w.field("step", p.step)
                w.field("occurredAt", instant: p.occurredAt)
                w.field("at", instant: at)
            case .succeeded(let version, let attempt, let reference, let at):
                w.field("dossierVersion", Int64(version))
                w.field("attempt", attempt)
                if let reference { w.field("reference", reference) }
                w.field("at", instant: at)
            case .failed(let version, let attempt, let error, let retryAt, let at):
                w.field("dossierVersion", Int64(version))
                w.field("attempt", attempt)
                w.field("error", error)
                w.field("retryAt", instant: retryAt)
                w.field("at", instant: at)
            }
            return NewEvent(type, w)
        }

        /// Decodes a stored event, or `nil` for another type.
        public init?(type: String, facts: [UInt8]) throws(Facts.DecodingError) {
            let decoded = try Facts.decode(facts) { r throws(Facts.DecodingError) -> Event? in
                func version() throws(Facts.DecodingError) -> UInt64 { UInt64(max(0, try r.int("dossierVersion"))) }
                switch type {
                case "PortalSyncRequested.v1":
                    let at = try r.instant("at")
                    guard let kind = try r.optionalChoice("kind", Kind.self) else {
                        throw Facts.DecodingError(what: "kind", offset: 0)
                    }
                    let push = Push(dossierVersion: try version(), kind: kind,
                                    externalStatus: Int(try r.int("externalStatus")),
                                    mappingVersion: Int(try r.int("mappingVersion")), code: try r.string("code"),
                                    step: try r.string("step"), occurredAt: try r.instant("occurredAt"),
                                    nextAttemptAt: at)
                    return .requested(push, agency: try r.string("agency"), at: at)
                case "PortalSyncSucceeded.v1":
                    return .succeeded(dossierVersion: try version(), attempt: Int(try r.int("attempt")),
                                      reference: try r.optionalString("reference"), at: try r.instant("at"))
                case "PortalSyncFailed.v1":
                    return .failed(dossierVersion: try version(), attempt: Int(try r.int("attempt")),
                                   error: try r.string("error"), retryAt: try r.instant("retryAt"),
                                   at: try r.instant("at"))
                default: return nil
                }
            }
            guard let decoded else { return nil }
            self = decoded
        }
    }

    /// The state after an event.
    public static func evolve(_ state: PortalSync, _ event: Event) -> PortalSync {
        var s = state
        switch event {
        case .requested(let push, _, let at):
            var p = push
            p.nextAttemptAt = at
            s.pushes.append(p)
        case .succeeded(let version, let attempt, _, let at):
            if let i = s.pushes.firstIndex(where: { $0.dossierVersion == version }) {
                s.pushes[i].attempts = attempt
                s.pushes[i].succeededAt = at
            }
        case .failed(let version, let attempt, _, let retryAt, _):
            if let i = s.pushes.firstIndex(where: { $0.dossierVersion == version }) {
                s.pushes[i].attempts = attempt
                s.pushes[i].nextAttemptAt = retryAt
            }
        }
        return s
    }

    /// The pushes a dossier's events call for beyond those already requested: one per synced event from the receipt
    /// on, each with the portal status after it. The first push of a dossier is ``Kind/dossier``; a push whose
    /// status differs from the previous push's is ``Kind/status``; any other is ``Kind/progress``.
    ///
    /// - Parameter events: The dossier's events in order: version, stored type, state after the event, and when it
    ///   happened.
    public func requests(_ events: [(version: UInt64, type: String, after: Dossier, at: Int64)],
                         mapping: PortalStatusMapping = .current) -> [Push] {
        var previous = pushes.last
        var out = [Push]()
        for e in events where e.version > requestedThrough && PortalStatusMapping.syncedTypes.contains(e.type) {
            guard let code = e.after.receiptCode, let status = e.after.status else { continue }
            let external = mapping.code(for: status)
            let kind: Kind = previous == nil ? .dossier : previous!.externalStatus == external ? .progress : .status
            let step = e.type.hasSuffix(".v1") ? String(e.type.dropLast(3)) : e.type
            let push = Push(dossierVersion: e.version, kind: kind, externalStatus: external,
                            mappingVersion: mapping.version, code: code, step: step, occurredAt: e.at,
                            nextAttemptAt: e.at)
            out.append(push)
            previous = push
        }
        return out
    }

    /// Decides the outcome of an attempt at the push of `dossierVersion`: it must have been requested and not yet
    /// accepted, and `attempt` must be the next one (so an outcome recorded twice is refused, not counted twice).
    public func decideOutcome(_ event: Event) throws(LedgerError) -> Event {
        let version: UInt64, attempt: Int
        switch event {
        case .requested: throw LedgerError(.invalidCommand, "pushes are requested by system.portalSync")
        case .succeeded(let v, let a, let reference, _):
            (version, attempt) = (v, a)
            if let reference, reference.isEmpty || reference.count > 200 {
                throw LedgerError(.badField, "body.reference must be 1 to 200 characters", field: "body.reference")
            }
        case .failed(let v, let a, let error, let retryAt, let t):
            (version, attempt) = (v, a)
            guard !error.isEmpty, error.count <= 1_000 else {
                throw LedgerError(.badField, "body.error must say why the attempt failed, in at most 1 000 characters",
                                  field: "body.error")
            }
            guard retryAt > t else {
                throw LedgerError(.badField, "body.retryAt must fall after the attempt", field: "body.retryAt")
            }
        }
        guard let push = pushes.first(where: { $0.dossierVersion == version }) else {
            throw LedgerError(.notFound, "no push of dossier version \(version) was requested")
        }
        guard push.succeededAt == nil else {
            throw LedgerError(.invalidState, "the push of \(push.idempotencyKey) was already accepted by the portal "
                + "(attempt \(push.attempts))")
        }
        guard attempt == push.attempts + 1 else {
            throw LedgerError(.invalidState, "attempt \(push.attempts + 1) of \(push.idempotencyKey) is the next to "
                + "record, not \(attempt)")
        }
        return event
    }
}
