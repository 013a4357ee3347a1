/// The category of an official (cán bộ, công chức, viên chức, người lao động): which law governs their service and
/// how their evaluation is classified.
public enum StaffKind: String, CaseIterable, Hashable, Sendable {
    /// Cán bộ: elected or appointed to a term.
    case cadre = "CADRE"
    /// Công chức: a civil servant.
    case civilServant = "CIVIL_SERVANT"
    /// Viên chức: an employee of a public service unit.
    case publicEmployee = "PUBLIC_EMPLOYEE"
    /// Người lao động: under a labour contract.
    case worker = "WORKER"
}
