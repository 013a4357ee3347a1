/// How a dossier's state is told to the national portal (DVCQG): its 1–10 status code, under a numbered mapping.
/// Every push records the mapping version it was made under, so a later change of the mapping is a new version and
/// never rewrites what was pushed before.
public struct PortalStatusMapping: Hashable, Sendable {
    /// The mapping's number.
    public let version: Int

    /// The mapping in force: version 1, the national codes of ``DossierStatus/nationalCode``.
    public static let current = PortalStatusMapping(version: 1)

    /// The portal's status code for `status` under this mapping.
    public func code(for status: DossierStatus) -> Int { status.nationalCode }

    /// The dossier events the portal is told of: the steps a citizen can follow (receipt, hand-overs, assignments,
    /// processing, supplements, fees, approval, the outcome, apologies, withdrawal, the return). Internal steps (notes,
    /// consultations, deadline alerts, the citizen's own feedback) stay local.
    public static let syncedTypes: Set<String> = [
        "DossierReceived.v1", "DossierTransferred.v1", "DossierAssigned.v1", "DossierReassigned.v1",
        "ProcessingStarted.v1", "SupplementRequested.v1", "SupplementReceived.v1", "FinancialObligationRequested.v1",
        "FeePaid.v1", "DraftResultSubmittedForApproval.v1", "DraftReturnedForRevision.v1", "DossierResolved.v1",
        "DossierRefused.v1", "DelayApologyIssued.v1", "WithdrawalRequested.v1", "DossierWithdrawn.v1",
        "ResultReturned.v1", "PostalDelivered.v1",
    ]
}
