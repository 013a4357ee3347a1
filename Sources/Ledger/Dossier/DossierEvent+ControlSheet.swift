extension DossierEvent {
    /// The row the event makes on the dossier's process control sheet (phiếu kiểm soát quá trình giải quyết hồ sơ,
    /// domain.md §4.5), or `nil`: each time the file changes hands, and the steps the sheet records. The one
    /// definition behind the dossier's count (``Dossier/controlSheetRows``, which a transfer records as its
    /// `controlSheetEntry`) and the read side's sheet.
    public var controlSheetStep: String? {
        switch self {
        case .received: "received"
        case .transferred: "transferred"
        case .assigned: "assigned"
        case .reassigned: "reassigned"
        case .submittedForApproval: "submitted for approval"
        case .approvalReturned(_, let rejected, _): rejected ? "rejected" : "returned for revision"
        case .resolved: "resolved"
        case .refused: "refused"
        case .resultReturned: "result returned"
        default: nil
        }
    }
}
