/// What kind of entry a record is in the tamper-evident log.
public enum LeafType: UInt8, Sendable, Hashable, CaseIterable {
    /// A domain event.
    case event = 1
    /// An administrative or key event (erasure, rollback, key rotation).
    case admin = 2
    /// A projection attestation: a projection's state digest at a log position.
    case attestation = 3
}
