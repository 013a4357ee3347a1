/// Where a dossier is in its lifecycle; ``nationalCode`` is the 1–10 status the national portal uses.
public enum DossierStatus: String, Hashable, Sendable, CaseIterable {
    case submitted, intakeRefused, received, assigned, inProcess, awaitingSupplement, awaitingPayment, pendingApproval
    case resolved, refused, withdrawn, returned

    /// The national status code (1 submitted … 10 returned).
    public var nationalCode: Int {
        switch self {
        case .submitted: 1
        case .received, .assigned: 2
        case .intakeRefused: 3
        case .inProcess, .pendingApproval: 4
        case .awaitingSupplement: 5
        case .awaitingPayment: 6
        case .withdrawn: 7
        case .refused: 8
        case .resolved: 9
        case .returned: 10
        }
    }

    /// Whether the dossier's processing is over (the clock stops).
    public var isFinished: Bool { [.intakeRefused, .resolved, .refused, .withdrawn, .returned].contains(self) }
}
