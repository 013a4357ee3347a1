public import Foundation

/// A signing delegation under Decree 30/2020: who may approve or sign for whom, in which capacity, when.
public struct Delegation: Hashable, Sendable {
    /// The Decree-30 capacities: KT (ký thay, a deputy for the head), TL (thừa lệnh), TUQ (thừa ủy quyền, written
    /// and time-limited, never sub-delegated), Q (quyền, acting head).
    public enum Capacity: String, Hashable, Sendable, CaseIterable { case kt = "KT", tl = "TL", tuq = "TUQ", q = "Q" }

    /// What a delegation may cover (domain.md §3.3 `scope.subjectTypes`).
    public enum Subject: String, Hashable, Sendable, CaseIterable {
        /// Approving and signing a dossier's result or refusal notice.
        case dossierResult = "DOSSIER_RESULT"
        /// Signing a delay apology slip.
        case apologySlip = "APOLOGY_SLIP"
        /// Deciding leave.
        case leave = "LEAVE"
        /// Approving and signing an outgoing document (a letter, a report, a decision outside a dossier).
        case outgoingDocument = "OUTGOING_DOCUMENT"
    }

    /// The delegation's id (revocations may name it).
    public var id: UUID

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
    /// What it covers; empty for everything the delegator decides or signs.
    public var subjects: Set<Subject>
    /// The written act of delegation (required for TUQ, which must be written).
    public var documentRef: String?

    /// A delegation.
    public init(id: UUID = UUID(), from: String, to: String, capacity: Capacity, validFrom: Int64, validTo: Int64,
                recordedAt: Int64, subjects: Set<Subject> = [], documentRef: String? = nil) {
        self.id = id
        self.subjects = subjects
        self.documentRef = documentRef
        self.from = from
        self.to = to
        self.capacity = capacity
        self.validFrom = validFrom
        self.validTo = validTo
        self.recordedAt = recordedAt
    }

    /// Whether it is in force at `instant`.
    public func covers(_ instant: Int64) -> Bool { validFrom <= instant && instant <= validTo }

    /// Whether it covers an act on `subject` at `instant`.
    public func covers(_ instant: Int64, _ subject: Subject) -> Bool {
        covers(instant) && (subjects.isEmpty || subjects.contains(subject))
    }

    /// Checks the capacity's meaning under Decree 30 against the org chart on `day`: the delegate is a leader of the
    /// delegator's agency (the org chart does not tell a deputy from a unit head, so any leader); KT and Q are
    /// given by the agency's head; a TUQ is written (it names its `documentRef`).
    public static func checkCapacity(_ new: Delegation, reference: ReferenceData, on day: CivilDate)
        throws(LedgerError)
    {
        guard let giver = reference.assignment(of: new.from, on: day), let agency = reference.agency(ofUnit: giver.unit)
        else { throw LedgerError(.notFound, "\(new.from) is on no unit's staff on \(day)") }
        guard let taker = reference.assignment(of: new.to, on: day), taker.isLeader,
              reference.agency(ofUnit: taker.unit) == agency
        else {
            throw LedgerError(.invalidCommand, "\(new.capacity.rawValue) goes to a leader of \(agency) (a deputy, or the "
                + "head of one of its units); \(new.to) is not one on \(day)")
        }
        switch new.capacity {
        case .kt, .q:
            guard reference.head(of: agency, on: day) == new.from else {
                throw LedgerError(.invalidCommand, "\(new.capacity.rawValue) (\(new.capacity == .kt ? "ký thay" : "quyền")) is "
                    + "given by the head of \(agency); \(new.from) is not")
            }
        case .tuq:
            guard let ref = new.documentRef, !ref.isEmpty else {
                throw LedgerError(.badField, "a TUQ delegation is written: body.documentRef names the act of delegation",
                                  field: "body.documentRef")
            }
        case .tl: break
        }
    }

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
