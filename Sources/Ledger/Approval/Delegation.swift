/// A signing delegation under Decree 30/2020: who may approve or sign for whom, in which capacity, when.
public struct Delegation: Hashable, Sendable {
    /// The Decree-30 capacities: KT (ký thay, a deputy for the head), TL (thừa lệnh), TUQ (thừa ủy quyền, written
    /// and time-limited, never sub-delegated), Q (quyền, acting head).
    public enum Capacity: String, Hashable, Sendable, CaseIterable { case kt = "KT", tl = "TL", tuq = "TUQ", q = "Q" }

    /// Who delegates (the chain holder).
    public var from: String
    /// Who receives the delegation.
    public var to: String
    /// The signing capacity (KT, TL, TUQ, Q).
    public var capacity: Capacity
    /// The first day in force.
    public var validFrom: Int64
    /// The last day in force.
    public var validTo: Int64
    /// When it was recorded (a delegation is never retroactive: validFrom ≥ recordedAt).
    public var recordedAt: Int64

    /// A delegation.
    public init(from: String, to: String, capacity: Capacity, validFrom: Int64, validTo: Int64, recordedAt: Int64) {
        self.from = from
        self.to = to
        self.capacity = capacity
        self.validFrom = validFrom
        self.validTo = validTo
        self.recordedAt = recordedAt
    }

    /// Whether it covers an act at `instant`.
    public func covers(_ instant: Int64) -> Bool { validFrom <= instant && instant <= validTo }

    /// Checks a new delegation against those in force: no self-delegation, not retroactive, a non-empty period, no
    /// sub-delegation of a TUQ, no cycles.
    public static func validate(_ new: Delegation, existing: [Delegation]) throws(LedgerError) {
        guard new.from != new.to else { throw LedgerError(.invalidCommand, "\(new.from) cannot delegate to themselves") }
        guard new.validFrom >= new.recordedAt else {
            throw LedgerError(.invalidCommand, "a delegation cannot start before it is recorded (no retroactive delegation)")
        }
        guard new.validTo > new.validFrom else { throw LedgerError(.invalidCommand, "a delegation needs a period") }
        let overlapping = existing.filter { $0.validFrom <= new.validTo && new.validFrom <= $0.validTo }
        if overlapping.contains(where: { $0.to == new.from && $0.capacity == .tuq }) {
            throw LedgerError(.notPermitted, "\(new.from) holds a TUQ delegation, which cannot be delegated further")
        }
        // A cycle: following delegations from `new.to` leads back to `new.from`.
        var frontier = [new.to]
        var seen = Set<String>()
        while let person = frontier.popLast() {
            if person == new.from {
                throw LedgerError(.invalidCommand, "delegating from \(new.from) to \(new.to) would close a cycle")
            }
            guard seen.insert(person).inserted else { continue }
            frontier += overlapping.filter { $0.from == person }.map(\.to)
        }
    }
}
