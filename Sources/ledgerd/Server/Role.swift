/// What a principal may do (design.md, "Identity"): mapped from the peer's Unix uid in the config file.
enum Role: String, CaseIterable, Sendable, Hashable {
    /// Commands and queries.
    case clerk
    /// Read-only: events, audit trails, proofs, replay.
    case auditor
    /// Statistics, evaluations, exports.
    case analyst
    /// Commands with their own `occurredAt`, raw appends.
    case `import`
    /// Everything.
    case admin

    /// Every role.
    static let all = Set(allCases)
    /// Whose commands carry their own domain time (design.md, "Clocks").
    var trustsTime: Bool { self == .import || self == .admin }
}
