public import Foundation

/// A person's attendance record folded from `person-<staff>`: what the attendance decisions need.
public struct PersonRecord: Hashable, Sendable {
    /// A leave request.
    public struct Leave: Hashable, Sendable {
        /// The kind.
        public var kind: String
        /// The first day it applies.
        public var from: CivilDate
        /// The last day.
        public var to: CivilDate
        /// Morning or afternoon, for a half day's leave.
        public var halfDay: HalfDay?
        /// `nil` while pending.
        public var approved: Bool?
        /// Whether it was withdrawn.
        public var cancelled = false

        /// Whether it is approved and not withdrawn.
        public var inForce: Bool { approved == true && !cancelled }
    }

    /// A duty-exception request.
    public struct Exception: Hashable, Sendable {
        /// The local date.
        public var date: CivilDate
        /// What it asks for.
        public var kind: ExceptionKind
        /// The colleague a SWAP takes the place of.
        public var swapWith: String?
        /// Whether it asks for a place beyond the cap.
        public var beyondCap: Bool
        /// Who asked.
        public var requestedBy: String
        /// `nil` while pending.
        public var granted: Bool?
    }

    /// Check-ins by date: where, and whether the session is still open.
    public var sessions: [CivilDate: (location: WorkLocation, open: Bool)] = [:]
    /// Days with a progress report.
    public var reports: Set<CivilDate> = []
    /// Leave requests by id.
    public var leaves: [UUID: Leave] = [:]
    /// Duty-exception requests by id.
    public var exceptions: [UUID: Exception] = [:]

    /// Nothing recorded.
    public init() {}

    /// The record after `event`, with `actor` the event's actor.
    public static func evolve(_ state: PersonRecord, _ event: PersonEvent, actor: String) -> PersonRecord {
        var s = state
        switch event {
        case .checkedIn(_, let location, let date, _, _): s.sessions[date] = (location, true)
        case .checkedOut(let date, _, _): s.sessions[date]?.open = false
        case .progressReported(let date, _, _, _): s.reports.insert(date)
        case .leaveRequested(let id, let kind, let from, let to, let halfDay, _, _):
            s.leaves[id] = Leave(kind: kind, from: from, to: to, halfDay: halfDay, approved: nil)
        case .leaveDecided(let id, let approved, _, _, _): s.leaves[id]?.approved = approved
        case .leaveCancelled(let id, _, _): s.leaves[id]?.cancelled = true
        case .exceptionRequested(let id, let date, let kind, let beyondCap, _, _, let swapWith):
            s.exceptions[id] = Exception(date: date, kind: kind, swapWith: swapWith, beyondCap: beyondCap,
                                         requestedBy: actor, granted: nil)
        case .exceptionDecided(let id, let granted, _, _, _, _): s.exceptions[id]?.granted = granted
        }
        return s
    }

    /// Whether the person is at the office on `date`: checked in ONSITE and not checked out yet.
    public func isOnsite(on date: CivilDate) -> Bool {
        sessions[date].map { $0.location == .onsite && $0.open } ?? false
    }

    /// Whether approved leave covers the whole of `date` (a half day's leave does not: the other half is worked).
    public func onLeave(_ date: CivilDate) -> Bool {
        leaves.values.contains { $0.inForce && $0.halfDay == nil && $0.from <= date && date <= $0.to }
    }

    /// The working days of ANNUAL leave approved or pending in `year` (half days count ½), for the balance check.
    public func annualLeaveDays(in year: Int, calendar: WorkingCalendar) -> Double {
        leaves.values.filter { $0.kind == "ANNUAL" && $0.approved != false && !$0.cancelled }.reduce(0) { sum, leave in
            guard let first = CivilDate(year: year, month: 1, day: 1), let last = CivilDate(year: year, month: 12, day: 31)
            else { return sum }
            let from = max(leave.from, first), to = min(leave.to, last)
            guard from <= to else { return sum }
            return sum + (leave.halfDay == nil ? Double(calendar.workingDays(from: from, through: to)) : 0.5)
        }
    }

    /// This person's exceptions of `kinds` for `date`: granted ones, and with `pending` those not yet decided too.
    private func exceptions(on date: CivilDate, _ kinds: Set<ExceptionKind>, pending: Bool = false) -> [Exception] {
        exceptions.values.filter { e in
            e.date == date && kinds.contains(e.kind) && (e.granted == true || (pending && e.granted == nil))
        }
    }

    /// The colleagues whose on-site place this person takes on `date` under a SWAP granted (or, with
    /// `pending`, also asked for and not yet decided).
    public func swappedOut(on date: CivilDate, pending: Bool = false) -> [String] {
        exceptions(on: date, [.swap], pending: pending).compactMap(\.swapWith)
    }

    /// Whether this person holds or asks an extra on-site place (EXTRA_ONSITE) on `date` (granted or pending).
    public func claimsExtraPlace(on date: CivilDate) -> Bool {
        !exceptions(on: date, [.extraOnsite], pending: true).isEmpty
    }

    /// Whether a granted exception (EXTRA_ONSITE or SWAP) puts this person on site on `date`.
    public func onsiteByException(on date: CivilDate) -> Bool {
        !exceptions(on: date, [.extraOnsite, .swap]).isEmpty
    }

    /// Whether this person asked (or was granted) to work remote on `date` though rostered ONSITE.
    public func asksRemoteInstead(on date: CivilDate) -> Bool {
        !exceptions(on: date, [.remoteInstead], pending: true).isEmpty
    }

    /// Whether a granted REMOTE_INSTEAD exception lets the person work remote on `date` though rostered ONSITE.
    public func remoteInstead(on date: CivilDate) -> Bool {
        !exceptions(on: date, [.remoteInstead]).isEmpty
    }

    /// The granted on-site exception (EXTRA_ONSITE or SWAP) for `date`, if any (beyond the cap wins).
    public func exception(on date: CivilDate) -> DutyException? {
        let granted = exceptions(on: date, [.extraOnsite, .swap])
        if granted.contains(where: \.beyondCap) { return .beyondCap }
        return granted.isEmpty ? nil : .withinCap
    }

    /// Equality of the fields that matter.
    public static func == (a: PersonRecord, b: PersonRecord) -> Bool {
        a.reports == b.reports && a.leaves == b.leaves && a.exceptions == b.exceptions
            && a.sessions.keys == b.sessions.keys
            && a.sessions.allSatisfy { k, v in b.sessions[k].map { $0.location == v.location && $0.open == v.open } ?? false }
    }

    /// Hashes the identifying fields.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(reports)
        hasher.combine(leaves)
    }
}
