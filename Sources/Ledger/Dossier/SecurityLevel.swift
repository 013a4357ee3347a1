/// The state-secret grading of a dossier or a draft (Mật / Tối mật / Tuyệt mật). Under Directive 16 such material is
/// not handled over IT channels from home: whoever is assigned it, or submits, decides, resubmits, signs or seals its
/// draft, is at the office that day (checked in ONSITE, not checked out).
public enum SecurityLevel: String, CaseIterable, Hashable, Sendable {
    /// Mật.
    case confidential = "CONFIDENTIAL"
    /// Tối mật.
    case secret = "SECRET"
    /// Tuyệt mật.
    case topSecret = "TOP_SECRET"
}
