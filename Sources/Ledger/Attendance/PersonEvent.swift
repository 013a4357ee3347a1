public import Foundation

/// Where an official works on a day.
public enum WorkLocation: String, Hashable, Sendable {
    case onsite = "ONSITE", remote = "REMOTE"
}

/// What happens on a person's stream `person-<staff>` (domain.md §3.2): check-ins and outs, progress reports, leave
/// and duty exceptions. Staff ids are pseudonymous; nothing here is personal data.
///
/// Schema versions: `CheckedIn.v2` carries the local date; `CheckedIn.v1` (without it) is upcast when decoded, its
/// date taken from its instant in Asia/Ho_Chi_Minh.
public enum PersonEvent: Hashable, Sendable {
    case checkedIn(unit: String, location: WorkLocation, date: CivilDate, at: Int64)
    case checkedOut(date: CivilDate, at: Int64)
    /// A day's progress report to the direct head.
    case progressReported(date: CivilDate, to: String, items: Int, at: Int64)
    case leaveRequested(id: UUID, kind: String, from: CivilDate, to: CivilDate, at: Int64)
    case leaveDecided(id: UUID, approved: Bool, by: String, at: Int64)
    /// A request to work on site outside the roster (`beyondCap` when the unit's places would be full).
    case exceptionRequested(id: UUID, date: CivilDate, beyondCap: Bool, reason: String, at: Int64)
    case exceptionDecided(id: UUID, granted: Bool, by: String, at: Int64)

    /// The stored type.
    public var type: String {
        switch self {
        case .checkedIn: "CheckedIn.v2"
        case .checkedOut: "CheckedOut.v1"
        case .progressReported: "ProgressReported.v1"
        case .leaveRequested: "LeaveRequested.v1"
        case .leaveDecided(_, let approved, _, _): approved ? "LeaveApproved.v1" : "LeaveRejected.v1"
        case .exceptionRequested: "DutyExceptionRequested.v1"
        case .exceptionDecided(_, let granted, _, _): granted ? "DutyExceptionGranted.v1" : "DutyExceptionDenied.v1"
        }
    }

    /// The facts part.
    public var facts: [UInt8] {
        var w = Facts.Writer()
        switch self {
        case .checkedIn(let unit, let location, let date, let at):
            w.field("unit", unit)
            w.field("location", location.rawValue)
            w.field("date", date.description)
            w.field("at", instant: at)
        case .checkedOut(let date, let at):
            w.field("date", date.description)
            w.field("at", instant: at)
        case .progressReported(let date, let to, let items, let at):
            w.field("date", date.description)
            w.field("to", to)
            w.field("items", items)
            w.field("at", instant: at)
        case .leaveRequested(let id, let kind, let from, let to, let at):
            w.field("leave", id)
            w.field("kind", kind)
            w.field("from", from.description)
            w.field("to", to.description)
            w.field("at", instant: at)
        case .leaveDecided(let id, _, let by, let at), .exceptionDecided(let id, _, let by, let at):
            w.field(type.hasPrefix("Leave") ? "leave" : "exception", id)
            w.field("by", by)
            w.field("at", instant: at)
        case .exceptionRequested(let id, let date, let beyondCap, let reason, let at):
            w.field("exception", id)
            w.field("date", date.description)
            w.field("beyondCap", beyondCap)
            w.field("reason", reason)
            w.field("at", instant: at)
        }
        return w.finish()
    }

    /// As a new event to append.
    public var new: NewEvent { NewEvent(type: type, facts: facts) }

    /// Decodes a stored person event, or `nil` for another type.
    public init?(type: String, facts: [UInt8]) throws(Facts.DecodingError) {
        func date(_ r: Facts.Reader, _ key: String) throws(Facts.DecodingError) -> CivilDate {
            let text = try r.string(key)
            guard let d = CivilDate(text) else { throw Facts.DecodingError(what: "\(key) \(text)", offset: 0) }
            return d
        }
        let decoded = try Facts.decode(facts) { r throws(Facts.DecodingError) -> PersonEvent? in
            switch type {
            case "CheckedIn.v2", "CheckedIn.v1":
                guard let location = WorkLocation(rawValue: try r.string("location")) else {
                    throw Facts.DecodingError(what: "location", offset: 0)
                }
                let at = try r.instant("at")
                // Upcast: v1 (session-1 stores) had no date; it is the local date (UTC+7) of the check-in.
                let day = type == "CheckedIn.v1" ? WorkingCalendar().local(at).date : try date(r, "date")
                return .checkedIn(unit: try r.string("unit"), location: location, date: day, at: at)
            case "CheckedOut.v1": return .checkedOut(date: try date(r, "date"), at: try r.instant("at"))
            case "ProgressReported.v1":
                return .progressReported(date: try date(r, "date"), to: try r.string("to"),
                                         items: Int(try r.int("items")), at: try r.instant("at"))
            case "LeaveRequested.v1":
                return .leaveRequested(id: try r.uuid("leave"), kind: try r.string("kind"), from: try date(r, "from"),
                                       to: try date(r, "to"), at: try r.instant("at"))
            case "LeaveApproved.v1", "LeaveRejected.v1":
                return .leaveDecided(id: try r.uuid("leave"), approved: type == "LeaveApproved.v1",
                                     by: try r.string("by"), at: try r.instant("at"))
            case "DutyExceptionRequested.v1":
                return .exceptionRequested(id: try r.uuid("exception"), date: try date(r, "date"),
                                           beyondCap: try r.bool("beyondCap") ?? false, reason: try r.string("reason"),
                                           at: try r.instant("at"))
            case "DutyExceptionGranted.v1", "DutyExceptionDenied.v1":
                return .exceptionDecided(id: try r.uuid("exception"), granted: type == "DutyExceptionGranted.v1",
                                         by: try r.string("by"), at: try r.instant("at"))
            default: return nil
            }
        }
        guard let decoded else { return nil }
        self = decoded
    }
}
