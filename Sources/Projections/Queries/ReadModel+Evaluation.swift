import EventStore
public import Ledger

/// An official's quarterly (or any period's) evaluation (domain.md §4.7): dossiers and work items, supplements,
/// apologies, returned drafts, attendance, and a Decree 335-style KPI score.
public struct Evaluation: Hashable, Sendable {
    /// The official's staff id.
    public var person: String
    /// The unit's id.
    public var unit: String
    /// Items assigned in the period.
    public var assigned = 0, completed = 0, early = 0, onTime = 0, late = 0, openOverdue = 0
    /// Supplementation requests made.
    public var supplementsRequested = 0, secondSupplements = 0, apologies = 0, returnedDrafts = 0
    /// The attendance summary.
    public var attendance: PersonAttendance
    /// The official's category, when the assignment gave one.
    public var kind: StaffKind?
    /// The official's last day, when they left the service during the period (before its last day).
    public var leftOn: CivilDate?

    /// 100 × completed ÷ assigned (100 when nothing was assigned), at most 100.
    public var quantity: Double { assigned == 0 ? 100 : min(100, Double(completed) * 100 / Double(assigned)) }
    /// 100 − 25 per late item (finished late, or open and overdue at the period's end), at least 0.
    public var progress: Double { max(0, 100 - 25 * Double(late + openOverdue)) }
    /// 100 − 25 per draft returned for revision, at least 0.
    public var quality: Double { max(0, 100 - 25 * Double(returnedDrafts)) }
    /// The mean of the three.
    public var score: Double { (quantity + progress + quality) / 3 }
    /// ≥ 90 excellent, ≥ 70 good, ≥ 50 completed, else not completed.
    public var grade: String {
        score >= 90 ? "excellent" : score >= 70 ? "good" : score >= 50 ? "completed" : "not completed"
    }
}

/// A unit head's accountability over a period (domain.md §4.8).
public struct Accountability: Hashable, Sendable {
    /// An overdue dossier and who held it when its deadline passed.
    public struct Overdue: Hashable, Sendable {
        /// The receipt code `<agency>-<yyMMdd>-<seq>`.
        public var receiptCode: String
        /// Who held it when the deadline passed.
        public var holder: String
        /// The statistical due instant (moved only by supplementation pauses).
        public var dueAt: Int64
        /// When processing finished, if it has.
        public var finishedAt: Int64?
        /// Whether an apology was issued.
        public var apologyIssued: Bool
    }

    /// The unit's id.
    public var unit: String
    /// The unit head's staff id.
    public var head: String
    /// Overdue dossiers.
    public var overdue: [Overdue] = []
    /// Received more than a working day ago and never assigned.
    public var neverAssigned: [String] = []
    /// Work items registered more than a working day before the end and never assigned (omissions).
    public var omissions = 0
    /// Places taken beyond the cap.
    public var beyondCapPlaces = 0
    /// Progress reports missing.
    public var missingReports = 0
    /// Days of the agency without a leader on site (agency-wide, repeated per unit).
    public var daysWithoutLeader: [CivilDate] = []
    /// The apologies missing.
    public var apologiesMissing: Int { overdue.filter { !$0.apologyIssued }.count }
}

/// A line of the apology register (domain.md §4.4).
public struct ApologyEntry: Hashable, Sendable {
    /// The dossier.
    public var row: DossierRow
    /// Whether an apology was issued.
    public var apologyIssued: Bool
    /// The apology came before the due instant (the rule; a later one is refused by the handler).
    public var apologyOnTime: Bool
    /// The new appointment.
    public var newAppointment: Int64?
    /// Whether the new appointment was kept; `nil` while it is still ahead.
    public var kept: Bool?
}

extension ReadModel {
    /// Work items as rows.
    func workItems() throws -> [[String: Facts.Value]] {
        try rows(WorkItemRegister(), "rows", prefix: []).map(\.fields)
    }

    /// The work items open past their due instant at `asOf` and not yet found overdue (task ids, sorted): what the
    /// scheduler's overdue check sends.
    public func overdueWorkItems(asOf: Int64) throws -> [String] {
        try rows(WorkItemRegister(), "rows", prefix: []).compactMap { key, row in
            guard row["completedAt"] == nil, row["overdueAt"] == nil, let due = row.instant("dueAt"), due < asOf
            else { return nil }
            return key
        }.sorted()
    }

    /// The officials a period's evaluation covers in a unit: its staff on the period's last day, and those who left
    /// the service during the period (their work still counts).
    static func members(of unit: String, _ reference: ReferenceData, _ period: Period) -> [ReferenceData.Assignment] {
        reference.staff(of: unit, on: period.dates.last)
            + reference.departed(from: unit, between: period.dates.first, and: period.dates.last)
    }

    /// The evaluation of every official of an agency over a period, by unit and staff id.
    public func evaluations(agency: String, period: Period) throws -> [Evaluation] {
        let reference = try reference()
        let cal = calendar(reference)
        let (start, end) = period.bounds(cal)
        let rows = try dossiers(agency: agency)
        let items = try workItems().filter { $0.string("agency") == agency }
        var out = [Evaluation]()
        for unit in reference.units(of: agency) {
            for member in Self.members(of: unit.id, reference, period) {
                let person = member.staff
                var e = Evaluation(person: person, unit: unit.id,
                                   attendance: try personAttendance(person, period: period), kind: member.kind,
                                   leftOn: member.until.flatMap { $0 < period.dates.last ? $0 : nil })
                for row in rows where row.assignments.contains(person) {
                    let firstAssigned = zip(row.assignments, row.assignedAt).first { $0.0 == person }!.1
                    let mine = row.assignee == person
                    if firstAssigned >= start && firstAssigned < end { e.assigned += 1 }
                    guard mine else { continue }
                    if let finished = row.finishedAt, finished >= start, finished < end,
                       row.outcome == "resolved" || row.outcome == "refused" {
                        e.completed += 1
                        switch finish(row, calendar(reference, version: row.calendarVersion)) {
                        case .early?: e.early += 1
                        case .onTime?: e.onTime += 1
                        default: e.late += 1
                        }
                    } else if row.finishedAt == nil || row.finishedAt! >= end, let due = row.dueAt, due < end,
                              firstAssigned < end {
                        e.openOverdue += 1
                    }
                    if row.supplements > 0 { e.supplementsRequested += row.supplements }
                    if row.secondSupplement { e.secondSupplements += 1 }
                    if let a = row.apologyAt, a >= start, a < end { e.apologies += 1 }
                    e.returnedDrafts += row.revisions
                }
                for item in items where item.string("assignee") == person {
                    let assignedAt = item.instant("assignedAt") ?? 0
                    if assignedAt >= start && assignedAt < end { e.assigned += 1 }
                    let due = item.instant("dueAt") ?? .max
                    if let done = item.instant("completedAt"), done >= start, done < end {
                        e.completed += 1
                        if done > due { e.late += 1 } else { e.onTime += 1 }
                    } else if item.instant("completedAt").map({ $0 >= end }) ?? true, due < end, assignedAt < end {
                        e.openOverdue += 1
                    }
                }
                out.append(e)
            }
        }
        return out
    }

    /// The apology register of an agency at `asOf`: every dossier overdue by then.
    public func apologyRegister(agency: String, asOf: Int64) throws -> [ApologyEntry] {
        try dossiers(agency: agency).compactMap { row in
            guard let due = row.dueAt, row.outcome != "withdrawn" else { return nil }
            let late = (row.finishedAt ?? asOf) > due
            guard late else { return nil }
            var kept: Bool?
            if let appointment = row.apologyAt.flatMap({ _ in row.appointmentAt }) {
                if let finished = row.finishedAt { kept = finished <= appointment } else if asOf > appointment { kept = false }
            }
            return ApologyEntry(row: row, apologyIssued: row.apologyAt != nil,
                                apologyOnTime: row.apologyAt.map { $0 <= due } ?? false,
                                newAppointment: row.apologyAt == nil ? nil : row.appointmentAt, kept: kept)
        }.sorted { ($0.row.dueAt ?? 0, $0.row.id) < ($1.row.dueAt ?? 0, $1.row.id) }
    }

    /// The heads' accountability per unit of an agency over a period (open dossiers measured at the period's end).
    public func accountability(agency: String, period: Period) throws -> [Accountability] {
        let reference = try reference()
        let cal = calendar(reference)
        let (start, end) = period.bounds(cal)
        let rows = try dossiers(agency: agency)
        let items = try workItems().filter { $0.string("agency") == agency }
        let noLeader = try agencyDays(agency: agency, period: period).filter { $0.closed && $0.leaderAbsent }.map(\.date)
        let unitDays = try unitDays(agency: agency, period: period)
        var out = [Accountability]()
        for unit in reference.units(of: agency) {
            var a = Accountability(unit: unit.id, head: reference.head(ofUnit: unit.id, on: period.dates.last) ?? "")
            for row in rows where row.unit == unit.id {
                guard let due = row.dueAt, due < end, row.outcome != "withdrawn" else { continue }
                let finished = row.finishedAt
                let late = (finished ?? end) > due || row.secondSupplement
                let inPeriod = finished.map { $0 >= start && $0 < end } ?? true
                if late && inPeriod {
                    a.overdue.append(.init(receiptCode: row.receiptCode, holder: row.holder(at: due), dueAt: due,
                                           finishedAt: finished, apologyIssued: row.apologyAt != nil))
                }
            }
            for row in rows where row.unit == unit.id && row.assignments.isEmpty && row.finishedAt == nil {
                if let received = row.receivedAt, cal.workingMinutes(from: received, to: end) > cal.minutesPerDay {
                    a.neverAssigned.append(row.receiptCode)
                }
            }
            for item in items where item.string("unit") == unit.id && item.string("assignee").isEmpty {
                if let registered = item.instant("registeredAt"),
                   cal.workingMinutes(from: registered, to: end) > cal.minutesPerDay { a.omissions += 1 }
            }
            a.beyondCapPlaces = unitDays.filter { $0.unit == unit.id }.reduce(0) { $0 + $1.beyondCap.count }
            for member in Self.members(of: unit.id, reference, period) {
                a.missingReports += try personAttendance(member.staff, period: period).reportsMissing
            }
            a.daysWithoutLeader = noLeader
            a.overdue.sort { ($0.dueAt, $0.receiptCode) < ($1.dueAt, $1.receiptCode) }
            out.append(a)
        }
        return out
    }
}
