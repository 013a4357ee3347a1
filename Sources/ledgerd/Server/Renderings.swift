import EventStore
import Foundation
import Ledger
import Projections

/// How the API renders stored and computed values as JSON (instants as RFC 3339 UTC with the local time beside).
enum Render {
    static let offset = 7 * 3600

    static func instant(_ t: Int64?) -> JSONValue { t.map { .string(Instant.format($0)) } ?? .null }
    static func int<T: BinaryInteger>(_ v: T) -> JSONValue { .number(Double(v)) }

    static func event(_ e: RecordedEvent) -> JSONValue {
        var o: [String: JSONValue] = [
            "position": int(e.position), "stream": .string(e.record.stream), "version": int(e.record.streamVersion),
            "type": .string(e.record.eventType), "id": .string(e.record.eventID.uuidString.lowercased()),
            "actor": .string(e.record.actor), "recordedAt": .number(Double(e.record.recordedAt) / 1_000_000),
        ]
        var metadata = [String: JSONValue]()
        for (k, v) in e.record.metadata.entries { metadata[k] = .string(String(decoding: v, as: UTF8.self)) }
        o["metadata"] = .object(metadata)
        if let facts = e.facts {
            if let value = try? JSONValue(facts: facts) {
                o["facts"] = value
            } else if let value = try? JSONValue(parsing: facts) {
                o["facts"] = value  // a raw append's JSON facts
            } else {
                o["factsBase64"] = .string(Data(facts).base64EncodedString())
            }
        }
        return .object(o)
    }

    static func queueItem(_ item: QueueItem) -> JSONValue {
        let r = item.row
        return .object([
            "dossier": .string(r.id), "receiptCode": .string(r.receiptCode), "agency": .string(r.agency),
            "unit": .string(r.unit), "assignee": .string(r.assignee), "status": .string(r.status.rawValue),
            "nationalStatus": int(r.status.nationalCode), "tab": .string(r.tab.rawValue),
            "procedure": .string(r.procedure), "field": .string(r.field), "channel": .string("\(r.channel)"),
            "applicantName": .string(r.applicantName), "receivedAt": instant(r.receivedAt), "dueAt": instant(r.dueAt),
            "appointmentAt": instant(r.appointmentAt), "finishedAt": instant(r.finishedAt),
            "remainingWorkingHours": item.remainingWorkingMinutes.map { .number(Double($0) / 60) } ?? .null,
            "flags": .array(item.flags.map { .string($0.rawValue) }),
            "securityLevel": r.securityLevel.map { .string($0.rawValue) } ?? .null,
        ])
    }

    static func timeliness(_ key: TimelinessKey, _ t: Timeliness) -> JSONValue {
        .object([
            "unit": .string(key.unit), "field": .string(key.field), "procedure": .string(key.procedure),
            "received": int(t.received), "carriedOver": int(t.carriedOver), "newOnline": int(t.newOnline),
            "newDirect": int(t.newDirect), "newPostal": int(t.newPostal), "resolvedEarly": int(t.resolvedEarly),
            "resolvedOnTime": int(t.resolvedOnTime), "resolvedOverdue": int(t.resolvedOverdue),
            "inProgressWithin": int(t.inProgressWithin), "inProgressOverdue": int(t.inProgressOverdue),
            "withdrawn": int(t.withdrawn), "refused": int(t.refused), "onTimeRate": .number(t.onTimeRate),
            "onlineShare": .number(t.onlineShare), "postalShare": .number(t.postalShare),
            "onlinePaymentShare": .number(t.onlinePaymentShare),
        ])
    }

    static func unitDay(_ d: UnitDayTally) -> JSONValue {
        .object([
            "unit": .string(d.unit), "date": .string("\(d.date)"), "headcount": int(d.headcount), "cap": int(d.cap),
            "rosteredOnsite": int(d.rosteredOnsite), "onsite": int(d.onsite), "remote": int(d.remote),
            "onLeave": int(d.onLeave), "noShows": int(d.noShows), "capCompliant": .bool(d.capCompliant),
            "beyondCap": .array(zip(d.beyondCap, d.grantedBy).map {
                .object(["person": .string($0.0), "grantedBy": .string($0.1)])
            }),
        ])
    }

    static func agencyDay(_ d: AgencyDayTally) -> JSONValue {
        .object(["agency": .string(d.agency), "date": .string("\(d.date)"), "closed": .bool(d.closed),
                 "leadersOnsite": int(d.leadersOnsite), "leaderPresent": .bool(!d.leaderAbsent)])
    }

    static func evaluation(_ e: Evaluation) -> JSONValue {
        let a = e.attendance
        return .object([
            "person": .string(e.person), "unit": .string(e.unit), "kind": e.kind.map { .string($0.rawValue) } ?? .null,
            "leftOn": e.leftOn.map { .string($0.description) } ?? .null, "assigned": int(e.assigned),
            "completed": int(e.completed), "early": int(e.early), "onTime": int(e.onTime), "late": int(e.late),
            "openOverdue": int(e.openOverdue), "supplementsRequested": int(e.supplementsRequested),
            "secondSupplements": int(e.secondSupplements), "apologies": int(e.apologies),
            "returnedDrafts": int(e.returnedDrafts), "quantity": .number(e.quantity), "progress": .number(e.progress),
            "quality": .number(e.quality), "score": .number(e.score), "grade": .string(e.grade),
            "attendance": .object([
                "onsiteDays": int(a.onsiteDays), "remoteDays": int(a.remoteDays), "leaveDays": int(a.leaveDays),
                "noShows": int(a.noShows), "reportsSent": int(a.reportsSent), "reportsMissing": int(a.reportsMissing),
            ]),
        ])
    }

    static func accountability(_ a: Accountability) -> JSONValue {
        .object([
            "unit": .string(a.unit), "head": .string(a.head),
            "overdue": .array(a.overdue.map { o in
                .object(["receiptCode": .string(o.receiptCode), "holder": .string(o.holder), "dueAt": instant(o.dueAt),
                         "finishedAt": instant(o.finishedAt), "apologyIssued": .bool(o.apologyIssued)])
            }),
            "neverAssigned": .array(a.neverAssigned.map(JSONValue.string)), "omissions": int(a.omissions),
            "beyondCapPlaces": int(a.beyondCapPlaces), "missingReports": int(a.missingReports),
            "daysWithoutLeader": .array(a.daysWithoutLeader.map { .string("\($0)") }),
            "apologiesMissing": int(a.apologiesMissing),
        ])
    }

    static func apology(_ e: ApologyEntry) -> JSONValue {
        .object([
            "dossier": .string(e.row.id), "receiptCode": .string(e.row.receiptCode), "unit": .string(e.row.unit),
            "holder": .string(e.row.assignee), "dueAt": instant(e.row.dueAt), "finishedAt": instant(e.row.finishedAt),
            "apologyIssued": .bool(e.apologyIssued), "apologyOnTime": .bool(e.apologyOnTime),
            "newAppointmentAt": instant(e.newAppointment), "kept": e.kept.map(JSONValue.bool) ?? .null,
        ])
    }

    static func audit(_ e: AuditEntry) -> JSONValue {
        .object([
            "position": int(e.position), "stream": .string(e.stream), "type": .string(e.type), "actor": .string(e.actor),
            "principal": .string(e.principal), "role": .string(e.role), "unit": .string(e.unit),
            "capacity": .string(e.capacity), "onBehalfOf": .string(e.onBehalfOf), "at": instant(e.at),
            "facts": (try? JSONValue(parsing: e.facts.utf8)) ?? .string(e.facts),
        ])
    }
}
