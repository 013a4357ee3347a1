import EventStore
import Ledger

/// The standard timeliness table of one unit × field × procedure over a period (domain.md §4.2, Decision 766).
public struct Timeliness: Hashable, Sendable {
    /// Received before the period, open at its start.
    public var carriedOver = 0
    /// New in the period, online.
    public var newOnline = 0, newDirect = 0, newPostal = 0
    /// Resolved a working day or more early.
    public var resolvedEarly = 0, resolvedOnTime = 0, resolvedOverdue = 0
    /// Open at the period end, within the deadline.
    public var inProgressWithin = 0, inProgressOverdue = 0
    /// Withdrawn in the period.
    public var withdrawn = 0, refused = 0
    /// Fees paid online among fees requested (of the dossiers received in the period).
    public var feesRequested = 0, feesPaidOnline = 0

    /// Received in all.
    public var received: Int { carriedOver + newOnline + newDirect + newPostal }
    /// Resolved in all.
    public var resolved: Int { resolvedEarly + resolvedOnTime + resolvedOverdue }
    /// Decision 766 index 2.1: early and on time among those finished, in percent (100 when none finished).
    public var onTimeRate: Double {
        resolved == 0 ? 100 : Double(resolvedEarly + resolvedOnTime) * 100 / Double(resolved)
    }
    private var new: Int { newOnline + newDirect + newPostal }
    /// Shares of the new dossiers (percent).
    public var onlineShare: Double { new == 0 ? 0 : Double(newOnline) * 100 / Double(new) }
    /// The postal share.
    public var postalShare: Double { new == 0 ? 0 : Double(newPostal) * 100 / Double(new) }
    /// The online payment share.
    public var onlinePaymentShare: Double { feesRequested == 0 ? 0 : Double(feesPaidOnline) * 100 / Double(feesRequested) }

    mutating func add(_ o: Timeliness) {
        carriedOver += o.carriedOver; newOnline += o.newOnline; newDirect += o.newDirect; newPostal += o.newPostal
        resolvedEarly += o.resolvedEarly; resolvedOnTime += o.resolvedOnTime; resolvedOverdue += o.resolvedOverdue
        inProgressWithin += o.inProgressWithin; inProgressOverdue += o.inProgressOverdue
        withdrawn += o.withdrawn; refused += o.refused; feesRequested += o.feesRequested; feesPaidOnline += o.feesPaidOnline
    }
}

/// The key of a timeliness line.
public struct TimelinessKey: Hashable, Sendable, Comparable {
    /// The unit's id.
    public var unit: String
    /// The field (sector) code.
    public var field: String
    /// The procedure code.
    public var procedure: String

    /// Orders by the key fields.
    public static func < (a: TimelinessKey, b: TimelinessKey) -> Bool {
        (a.unit, a.field, a.procedure) < (b.unit, b.field, b.procedure)
    }
}

/// How a finished dossier counts (Decision 766): early (a working day or more before the due instant), on time,
/// or overdue (late, or more than one supplementation request).
public enum Finish: String, Hashable, Sendable { case early, onTime, overdue }

extension ReadModel {
    /// How a finished row counts.
    func finish(_ row: DossierRow, _ calendar: WorkingCalendar) -> Finish? {
        guard let finished = row.finishedAt, let due = row.dueAt else { return nil }
        if finished > due || row.secondSupplement { return .overdue }
        return calendar.workingMinutes(from: finished, to: due) >= calendar.minutesPerDay ? .early : .onTime
    }

    /// The timeliness table of a period, per unit × field × procedure, with the agency's total under the key
    /// `("", "", "")`.
    public func timeliness(agency: String, period: Period) throws -> [(key: TimelinessKey, value: Timeliness)] {
        let reference = try reference()
        let (start, end) = period.bounds(calendar(reference))
        var table = [TimelinessKey: Timeliness]()
        for row in try dossiers(agency: agency) {
            guard let received = row.receivedAt, received < end else { continue }
            let finished = row.finishedAt
            if let finished, finished < start { continue }
            let cal = calendar(reference, version: row.calendarVersion)
            var t = Timeliness()
            if received < start { t.carriedOver = 1 } else {
                switch row.channel {
                case .online: t.newOnline = 1
                case .direct: t.newDirect = 1
                case .postal: t.newPostal = 1
                }
                if row.feeRequested {
                    t.feesRequested = 1
                    if row.paidOnline { t.feesPaidOnline = 1 }
                }
            }
            if let finished, finished < end {
                switch row.outcome {
                case "withdrawn": t.withdrawn = 1
                case "refused": t.refused = 1
                default:
                    switch finish(row, cal) {
                    case .early?: t.resolvedEarly = 1
                    case .onTime?: t.resolvedOnTime = 1
                    default: t.resolvedOverdue = 1
                    }
                }
            } else if let due = row.dueAt {
                // Open at the period's end; one waiting on the citizen is measured at the request.
                let at = row.pausedSince.map { min($0, end) } ?? end
                if at > due || row.secondSupplement { t.inProgressOverdue = 1 } else { t.inProgressWithin = 1 }
            }
            table[TimelinessKey(unit: row.unit, field: row.field, procedure: row.procedure), default: Timeliness()].add(t)
            table[TimelinessKey(unit: "", field: "", procedure: ""), default: Timeliness()].add(t)
        }
        return table.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
