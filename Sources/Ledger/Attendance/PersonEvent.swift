public import Foundation

/// Where an official works on a day.
public enum WorkLocation: String, Hashable, Sendable {
    case onsite = "ONSITE", remote = "REMOTE"
}

/// One line of a progress report: a task or dossier and how it stands.
public struct ProgressItem: Hashable, Sendable {
    /// The work reported on (`dossier-…`, `task-…`, or the register's reference).
    public var taskRef: String
    /// `DONE`, `IN_PROGRESS`, `BLOCKED` or `NOT_STARTED` (`REPORTED` for reports upcast from a count).
    public var status: String
    /// A short note (no personal data).
    public var note: String?

    /// The most items a report lists.
    public static let maximumPerReport = 200

    /// The statuses a report may give.
    public static let statuses: Set<String> = ["DONE", "IN_PROGRESS", "BLOCKED", "NOT_STARTED"]

    /// An item.
    public init(taskRef: String, status: String, note: String? = nil) {
        self.taskRef = taskRef
        self.status = status
        self.note = note
    }
}

/// The kind of a duty exception (domain.md §3.2).
public enum ExceptionKind: String, Hashable, Sendable, CaseIterable {
    /// On site on a day the roster has the person remote: takes a place under the cap (or beyond it, with the
    /// superior head's grant).
    case extraOnsite = "EXTRA_ONSITE"
    /// On site in place of a colleague rostered on site that day (named; the colleague then works remote): no
    /// extra place.
    case swap = "SWAP"
    /// Remote on a day the roster has the person on site: frees a place.
    case remoteInstead = "REMOTE_INSTEAD"
}

/// Where a check-in was made from (domain.md §3.2 `source`): the web portal, the mobile app, or the office's
/// terminal. Network addresses and locations are not kept: they would say where an official lives.
public enum CheckInSource: String, Hashable, Sendable, CaseIterable {
    case web = "WEB", mobile = "MOBILE", terminal = "TERMINAL"
}

/// Why a duty exception was denied: a code, not free text (a reason written out would often speak of health or of
/// citizens, and person streams hold no personal data).
public enum ExceptionDenial: String, Hashable, Sendable, CaseIterable {
    case capReached = "CAP_REACHED", rosterCovers = "ROSTER_COVERS", notEssential = "NOT_ESSENTIAL", other = "OTHER"
}

/// Morning or afternoon of a half-day leave.
public enum HalfDay: String, Hashable, Sendable, CaseIterable {
    case morning = "AM", afternoon = "PM"
}

/// What happens on a person's stream `person-<staff>` (domain.md §3.2): check-ins and outs, progress reports, leave
/// and duty exceptions. Staff ids are pseudonymous; nothing here is personal data (a leave's free-text reason is not
/// kept: its kind says enough, and a reason is often about health).
///
/// Schema versions: `CheckedIn.v2` carries the local date; `CheckedIn.v1` (without it) is upcast when decoded, its
/// date taken from its instant in Asia/Ho_Chi_Minh. `ProgressReported.v2` lists its items; `ProgressReported.v1`
/// had only their number and is upcast to that many items with status `REPORTED`. Optional fields added later
/// (a leave's half day and e-mail message id, an approval's roster conflicts, an exception's kind) keep their
/// version: an older event reads as having none (an exception without a kind is `EXTRA_ONSITE`; a check-in without a
/// source and a decision without a reason code have none).
public enum PersonEvent: Hashable, Sendable {
    case checkedIn(unit: String, location: WorkLocation, date: CivilDate, at: Int64, source: CheckInSource? = nil)
    /// The day's session closed, with the official's summary of the day when they give one (domain.md §3.2
    /// `CheckedOut`). Free text about a day's work may name citizens or the official's health, so the summary goes in
    /// the personal part, under the official's own subject (``dataSubject(ofStaff:)``), where an erasure takes it.
    case checkedOut(date: CivilDate, at: Int64, summary: String? = nil)
    /// A day's progress report to the direct head.
    case progressReported(date: CivilDate, to: String, items: [ProgressItem], at: Int64)
    /// A leave request, sent by official e-mail (`emailMessageID`).
    case leaveRequested(id: UUID, kind: String, from: CivilDate, to: CivilDate, halfDay: HalfDay?,
                        emailMessageID: String?, at: Int64)
    /// A leave decision; an approval lists the dates the person was rostered ONSITE (`rosterConflicts`), flagged for
    /// the unit head to amend.
    case leaveDecided(id: UUID, approved: Bool, by: String, rosterConflicts: [CivilDate], at: Int64)
    /// A leave withdrawn before it started.
    case leaveCancelled(id: UUID, by: String, at: Int64)
    /// A request to work other than the roster says (`beyondCap` when an extra on-site place would pass the cap).
    case exceptionRequested(id: UUID, date: CivilDate, kind: ExceptionKind, beyondCap: Bool, reason: String, at: Int64,
                            swapWith: String? = nil)
    /// A decision on a duty exception; a denial gives its reason code.
    /// A duty exception granted or denied; a grant names the working date it is valid for (`validFor`, the
    /// request's date; absent from grants recorded before it was kept).
    case exceptionDecided(id: UUID, granted: Bool, by: String, at: Int64, denial: ExceptionDenial? = nil,
                          validFor: CivilDate? = nil)

    /// The stored type.
    public var type: String {
        switch self {
        case .checkedIn: "CheckedIn.v2"
        case .checkedOut: "CheckedOut.v1"
        case .progressReported: "ProgressReported.v2"
        case .leaveRequested: "LeaveRequested.v1"
        case .leaveDecided(_, let approved, _, _, _): approved ? "LeaveApproved.v1" : "LeaveRejected.v1"
        case .leaveCancelled: "LeaveCancelled.v1"
        case .exceptionRequested: "DutyExceptionRequested.v1"
        case .exceptionDecided(_, let granted, _, _, _, _): granted ? "DutyExceptionGranted.v1" : "DutyExceptionDenied.v1"
        }
    }

    /// The facts part.
    public var facts: [UInt8] {
        var w = Facts.Writer()
        switch self {
        case .checkedIn(let unit, let location, let date, let at, let source):
            w.field("unit", unit)
            w.field("location", location.rawValue)
            w.field("date", date.description)
            w.field("at", instant: at)
            if let source { w.field("source", source.rawValue) }
        case .checkedOut(let date, let at, _):  // the summary goes in the personal part
            w.field("date", date.description)
            w.field("at", instant: at)
        case .progressReported(let date, let to, let items, let at):
            w.field("date", date.description)
            w.field("to", to)
            w.field("items", maps: items.map { item in
                var m = Facts.Writer()
                m.field("taskRef", item.taskRef)
                m.field("status", item.status)
                if let note = item.note { m.field("note", note) }
                return m
            })
            w.field("at", instant: at)
        case .leaveRequested(let id, let kind, let from, let to, let halfDay, let message, let at):
            w.field("leave", id)
            w.field("kind", kind)
            w.field("from", from.description)
            w.field("to", to.description)
            if let halfDay { w.field("halfDay", halfDay.rawValue) }
            if let message { w.field("emailMessageId", message) }
            w.field("at", instant: at)
        case .leaveDecided(let id, let approved, let by, let conflicts, let at):
            w.field("leave", id)
            w.field("by", by)
            if approved && !conflicts.isEmpty { w.field("rosterConflicts", conflicts.map(\.description)) }
            w.field("at", instant: at)
        case .leaveCancelled(let id, let by, let at):
            w.field("leave", id)
            w.field("by", by)
            w.field("at", instant: at)
        case .exceptionDecided(let id, _, let by, let at, let denial, let validFor):
            w.field("exception", id)
            w.field("by", by)
            w.field("at", instant: at)
            if let denial { w.field("reasonCode", denial.rawValue) }
            if let validFor { w.field("validFor", validFor.description) }
        case .exceptionRequested(let id, let date, let kind, let beyondCap, let reason, let at, let swapWith):
            w.field("exception", id)
            w.field("date", date.description)
            w.field("kind", kind.rawValue)
            if let swapWith { w.field("swapWith", swapWith) }
            w.field("beyondCap", beyondCap)
            w.field("reason", reason)
            w.field("at", instant: at)
        }
        return w.finish()
    }

    /// The personal part, or `nil`: a check-out's summary.
    public var personal: [UInt8]? {
        guard case .checkedOut(_, _, let summary?) = self else { return nil }
        var w = Facts.Writer()
        w.field("summary", summary)
        return w.finish()
    }

    /// As a new event to append; one with a personal part (``personal``) goes under `subject`, the official's
    /// (``dataSubject(ofStaff:)``).
    public func new(subject: UUID?) -> NewEvent {
        let personal = personal
        return NewEvent(type: type, facts: facts, personal: personal, subject: personal == nil ? nil : subject)
    }

    /// As a new event to append, for the events without a personal part.
    public var new: NewEvent { new(subject: nil) }

    /// The data subject of an official's own personal data (a check-out's summary): one per official, derived from
    /// the staff id (the first 16 bytes of `SHA-256("ledger.official-subject.v1" ‖ staff id)`, a version-8 UUID), so
    /// an erasure of it takes all of it.
    public static func dataSubject(ofStaff staff: String) -> UUID {
        CommandEventIDs.derived(domain: "ledger.official-subject.v1", staff)
    }

    /// Decodes a stored person event, or `nil` for another type; `personal` is its personal part when read (`nil`
    /// when not read, or erased: a check-out then reads without its summary).
    public init?(type: String, facts: [UInt8], personal: [UInt8]? = nil) throws(Facts.DecodingError) {
        func date(_ text: String, _ key: String) throws(Facts.DecodingError) -> CivilDate {
            guard let d = CivilDate(text) else { throw Facts.DecodingError(what: "\(key) \(text)", offset: 0) }
            return d
        }
        func date(_ r: Facts.Reader, _ key: String) throws(Facts.DecodingError) -> CivilDate {
            try date(try r.string(key), key)
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
                let source = try r.optionalChoice("source", CheckInSource.self)
                return .checkedIn(unit: try r.string("unit"), location: location, date: day, at: at, source: source)
            case "CheckedOut.v1":
                let summary = try personal.flatMap { p throws(Facts.DecodingError) in
                    try Facts.decode(p) { r throws(Facts.DecodingError) in try r.optionalString("summary") }
                }
                return .checkedOut(date: try date(r, "date"), at: try r.instant("at"), summary: summary)
            case "ProgressReported.v1":
                // Upcast: v1 counted its items without naming them (bounded: a count is no reason to allocate).
                let count = min(max(0, Int(clamping: try r.int("items"))), ProgressItem.maximumPerReport)
                return .progressReported(date: try date(r, "date"), to: try r.string("to"),
                                         items: Array(repeating: ProgressItem(taskRef: "", status: "REPORTED"),
                                                      count: count),
                                         at: try r.instant("at"))
            case "ProgressReported.v2":
                var items = [ProgressItem]()
                for m in try r.maps("items") {
                    items.append(ProgressItem(taskRef: try m.string("taskRef"), status: try m.string("status"),
                                              note: try m.optionalString("note")))
                }
                return .progressReported(date: try date(r, "date"), to: try r.string("to"), items: items,
                                         at: try r.instant("at"))
            case "LeaveRequested.v1":
                let halfDay = try r.optionalChoice("halfDay", HalfDay.self)
                return .leaveRequested(id: try r.uuid("leave"), kind: try r.string("kind"), from: try date(r, "from"),
                                       to: try date(r, "to"), halfDay: halfDay,
                                       emailMessageID: try r.optionalString("emailMessageId"), at: try r.instant("at"))
            case "LeaveApproved.v1", "LeaveRejected.v1":
                var conflicts = [CivilDate]()
                if r.contains("rosterConflicts") {
                    for text in try r.strings("rosterConflicts") { conflicts.append(try date(text, "rosterConflicts")) }
                }
                return .leaveDecided(id: try r.uuid("leave"), approved: type == "LeaveApproved.v1",
                                     by: try r.string("by"), rosterConflicts: conflicts, at: try r.instant("at"))
            case "LeaveCancelled.v1":
                return .leaveCancelled(id: try r.uuid("leave"), by: try r.string("by"), at: try r.instant("at"))
            case "DutyExceptionRequested.v1":
                let kind = try r.optionalChoice("kind", ExceptionKind.self) ?? .extraOnsite
                return .exceptionRequested(id: try r.uuid("exception"), date: try date(r, "date"), kind: kind,
                                           beyondCap: try r.bool("beyondCap") ?? false, reason: try r.string("reason"),
                                           at: try r.instant("at"), swapWith: try r.optionalString("swapWith"))
            case "DutyExceptionGranted.v1", "DutyExceptionDenied.v1":
                let denial = try r.optionalChoice("reasonCode", ExceptionDenial.self)
                let validFor = try r.optionalString("validFor").map { text throws(Facts.DecodingError) in
                    try date(text, "validFor")
                }
                return .exceptionDecided(id: try r.uuid("exception"), granted: type == "DutyExceptionGranted.v1",
                                         by: try r.string("by"), at: try r.instant("at"), denial: denial,
                                         validFor: validFor)
            default: return nil
            }
        }
        guard let decoded else { return nil }
        self = decoded
    }
}
