import Foundation
import Ledger
import Projections

/// The demo's printed account: every figure comes from a ``ReadModel`` query.
struct Report {
    let model: ReadModel
    let calendar: WorkingCalendar
    let asOf: Int64
    let period: Period

    static func local(_ t: Int64, _ calendar: WorkingCalendar) -> String {
        let (date, minute) = calendar.local(t)
        return String(format: "%02d/%02d %02d:%02d", date.day, date.month, minute / 60, minute % 60)
    }

    static func seconds(_ d: Duration) -> String {
        String(format: "%.1f", Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    func queues(_ agency: ReferenceData.Agency) throws {
        var byTab = [QueueTab: Int]()
        var flagged = [QueueItem]()
        var cursor: String?
        repeat {
            let page = try model.queue(QueueFilter(agency: agency.id), asOf: asOf, limit: 200, cursor: cursor)
            for item in page.items {
                byTab[item.row.tab, default: 0] += 1
                if item.flags.contains(.overdue) || item.flags.contains(.dueSoon) { flagged.append(item) }
            }
            cursor = page.next
        } while cursor != nil
        let tabs = QueueTab.allCases.compactMap { tab in byTab[tab].map { "\(tab.rawValue) \($0)" } }
        print("  \(agency.name) (\(agency.id)): " + tabs.joined(separator: " · "))
        let open = flagged.filter { $0.row.finishedAt == nil }
            .sorted { ($0.remainingWorkingMinutes ?? 0, $0.row.receiptCode) < ($1.remainingWorkingMinutes ?? 0, $1.row.receiptCode) }
        for item in open.prefix(4) {
            let hours = Double(item.remainingWorkingMinutes ?? 0) / 60
            print("    \(pad(item.row.receiptCode, 18)) \(pad(item.row.procedure, 9)) \(pad(item.row.unit, 10)) "
                + "held by \(pad(item.row.assignee.isEmpty ? "(unassigned)" : item.row.assignee, 12)) "
                + String(format: "%+6.1f working h  ", hours) + item.flags.map(\.rawValue).joined(separator: ","))
        }
        if open.count > 4 { print("    … and \(open.count - 4) more overdue or due within a working day") }
    }

    func timeliness(_ agencies: [ReferenceData.Agency]) throws {
        print("  " + pad("agency", 8) + "received (carried+new)  online  postal  early  on time  overdue  open(in/over)  "
            + "withdrawn  refused  on-time rate")
        for agency in agencies {
            guard let total = try model.timeliness(agency: agency.id, period: period)
                .first(where: { $0.key.unit.isEmpty })?.value else { continue }
            print("  " + pad(agency.id, 8) + pad("\(total.received) (\(total.carriedOver)+\(total.received - total.carriedOver))", 24)
                + pad(String(format: "%.0f%%", total.onlineShare), 8) + pad(String(format: "%.0f%%", total.postalShare), 8)
                + pad("\(total.resolvedEarly)", 7) + pad("\(total.resolvedOnTime)", 9) + pad("\(total.resolvedOverdue)", 9)
                + pad("\(total.inProgressWithin)/\(total.inProgressOverdue)", 15) + pad("\(total.withdrawn)", 11)
                + pad("\(total.refused)", 9) + String(format: "%.1f%%", total.onTimeRate))
        }
    }

    func attendance(_ agencies: [ReferenceData.Agency]) throws {
        for agency in agencies {
            let days = try model.unitDays(agency: agency.id, period: period)
            let breaches = days.filter { !$0.beyondCap.isEmpty }
            let overCap = days.filter { !$0.capCompliant }
            let leaders = try model.agencyDays(agency: agency.id, period: period)
            let noLeader = leaders.filter { $0.closed && $0.leaderAbsent }
            let onsite = days.reduce(0) { $0 + $1.onsite }, places = days.reduce(0) { $0 + $1.cap }
            print("  \(pad(agency.id, 8)) \(days.count) unit-days: \(onsite) on site of \(places) places, "
                + "\(days.reduce(0) { $0 + $1.remote }) remote, \(days.reduce(0) { $0 + $1.onLeave }) on leave, "
                + "\(days.reduce(0) { $0 + $1.noShows }) no-shows; over the cap without exception: \(overCap.count); "
                + "days without a leader on site: \(noLeader.count)/\(leaders.count)")
            for d in breaches {
                print("    \(d.unit) \(d.date): \(d.onsite) on site, cap \(d.cap); beyond the cap "
                    + zip(d.beyondCap, d.grantedBy).map { "\($0.0) (granted by \($0.1))" }.joined(separator: ", "))
            }
            for d in noLeader { print("    \(d.date): no leader checked in on site") }
        }
    }

    func accountability(_ agency: ReferenceData.Agency) throws {
        for a in try model.accountability(agency: agency.id, period: period) {
            var findings = [String]()
            if !a.overdue.isEmpty {
                findings.append("\(a.overdue.count) overdue (" + a.overdue.prefix(3).map {
                    "\($0.receiptCode) held by \($0.holder.isEmpty ? "nobody" : $0.holder)"
                        + ($0.apologyIssued ? ", apology issued" : ", no apology")
                }.joined(separator: "; ") + (a.overdue.count > 3 ? "; …" : "") + ")")
            }
            if !a.neverAssigned.isEmpty { findings.append("\(a.neverAssigned.count) never assigned") }
            if a.omissions > 0 { findings.append("\(a.omissions) work items never assigned") }
            if a.beyondCapPlaces > 0 { findings.append("\(a.beyondCapPlaces) places beyond the cap") }
            if a.missingReports > 0 { findings.append("\(a.missingReports) missing progress reports") }
            if !a.daysWithoutLeader.isEmpty { findings.append("\(a.daysWithoutLeader.count) days without a leader") }
            guard !findings.isEmpty else { continue }
            print("  \(pad(a.unit, 10)) head \(pad(a.head, 11)) " + findings.joined(separator: "; "))
        }
    }

    func evaluations(_ agency: ReferenceData.Agency) throws {
        let all = try model.evaluations(agency: agency.id, period: period).filter { $0.assigned + $0.completed > 0 }
        let ranked = all.sorted { ($0.score, $0.person) > ($1.score, $1.person) }
        let shown = ranked.count <= 4 ? ranked : Array(ranked.prefix(2) + ranked.suffix(2))
        for e in shown {
            print("  \(pad(e.person, 11)) \(pad(e.unit, 9)) assigned \(pad("\(e.assigned)", 3)) completed "
                + "\(pad("\(e.completed)", 3)) late \(e.late + e.openOverdue) returned \(e.returnedDrafts) · "
                + "on site \(e.attendance.onsiteDays) d, remote \(e.attendance.remoteDays) d, reports "
                + "\(e.attendance.reportsSent)/\(e.attendance.reportsSent + e.attendance.reportsMissing) · "
                + String(format: "score %.0f (%@)", e.score, e.grade))
        }
    }
}
