public import EventStore
import Foundation
import Ledger

/// The dossier register: one ``DossierRow`` per dossier, the work-queue index (agency, unit, tab, due instant),
/// and the dossiers of each data subject (so an erasure drops the applicant's name from every row it touched).
///
/// Databases: `rows` (dossier id → row), `queue` (`agency 0 unit 0 tab 0 due(u64 BE) id` → empty), `subjects`
/// (`subject 0 dossier id` → empty).
public struct DossierRegister: Projection {
    /// The projection's stable name.
    public var name = "dossiers"
    /// The projection's code version.
    public var version: UInt32 = 1
    /// Its relative folding cost (measured on the province fixtures).
    public var foldWeight: Int { 4 }
    /// Rows keep the applicant's name (dropped by an erasure).
    public var keepsPersonalData: Bool { true }
    /// The databases it keeps.
    public var databases = ["rows", "queue", "subjects"]

    /// The register.
    public init() {}

    /// Both parts of dossier events (the applicant's name is in the personal part); erasures are read from their
    /// records.
    public func payloads(of record: RecordView) -> PayloadSelection {
        record.streamBytes.starts(with: "dossier-".utf8) ? .all : .none
    }

    /// Folds one event (see ``Projection``).
    public func fold(_ event: ProjectedEvent, _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases) throws {
        try fold(batch: [event], txn, dbs)
    }

    /// Folds a batch: each dossier's row is read and decoded once, changed by all its events in the batch, and
    /// written once, with one move in the queue index (see ``Projection``).
    public func fold(batch events: [ProjectedEvent], _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases)
        throws
    {
        let rows = BatchRows<DossierRow>(decode: { try DossierRow(bytes: $0) }, encode: { $0.encoded })
        // Each changed row moves in the queue index once: from where it stood before the batch to where it ends.
        func flush(_ txn: borrowing StateTransaction) throws {
            for (_, _, before, row) in rows.changed {
                let (old, now) = (before.map(Self.queueKey), Self.queueKey(row))
                guard old != now else { continue }
                if let old { try txn.delete(dbs["queue"], key: old) }
                try txn.put(dbs["queue"], key: now, value: [])
            }
            try rows.flush(txn)
        }
        for event in events {
            let record = event.record
            if record.leafType == .admin {
                guard record.eventType == Store.erasureType, let subject = record.metadataValue("subject") else { continue }
                try flush(txn)
                try erase(subject: subject, txn, dbs)
                continue
            }
            let stream = record.streamBytes
            guard stream.count > 8, stream.starts(with: "dossier-".utf8) else { continue }
            let id = String(decoding: UnsafeRawBufferPointer(rebasing: stream[8...]), as: UTF8.self)
            let decoded: DossierEvent
            do {
                decoded = try DossierEvent(type: record.eventType, facts: event.facts.map(Array.init) ?? [],
                                           personal: event.personal.map(Array.init))
            } catch {
                throw StoreError(.corrupt, "dossier event at \(record.position): \(error)", position: record.position)
            }
            let key = Array(id.utf8)
            var row = try rows.get(dbs["rows"], key, txn) ?? DossierRow()
            row.id = id
            Self.apply(decoded, to: &row)
            if case .submitted = decoded, let subject = record.metadataValue("subject") {
                row.subject = subject
                try txn.put(dbs["subjects"], key: Array(subject.utf8) + [0] + key, value: [])
            }
            rows.set(dbs["rows"], key, row)
        }
        try flush(txn)
    }

    /// The queue index key of a row.
    public static func queueKey(_ row: DossierRow) -> [UInt8] {
        var key = Array(row.agency.utf8) + [0] + Array(row.unit.utf8) + [0] + Array(row.tab.rawValue.utf8) + [0]
        withUnsafeBytes(of: UInt64(max(0, row.dueAt ?? row.submittedAt)).bigEndian) { key.append(contentsOf: $0) }
        return key + Array(row.id.utf8)
    }

    /// Folds one dossier event into its row (domain time only).
    static func apply(_ event: DossierEvent, to row: inout DossierRow) {
        switch event {
        case .submitted(let s):
            row.agency = s.agencyID
            row.procedure = s.procedureCode
            row.field = s.fieldCode
            row.channel = s.channel
            row.submittedAt = s.at
            row.applicantName = s.applicantName
            row.status = .submitted
        case .intakeRefused(_, let at, _, _, _):
            row.status = .intakeRefused
            row.outcome = "intakeRefused"
            row.finishedAt = at
        case .intakeSupplementRequested: break
        case .received(let r):
            row.status = .received
            row.receiptCode = r.receiptCode
            row.receivedAt = r.clockStartAt
            row.dueAt = r.dueAt
            row.appointmentAt = r.dueAt
            row.calendarVersion = r.calendarVersion
            row.securityLevel = r.securityLevel
            if let unit = r.unit { row.unit = unit }
        case .transferred(let unit, _, _, _, _):
            row.unit = unit
            row.assignee = ""
            if row.status == .assigned { row.status = .received }
        case .supportAssigned: break  // the register follows the main handler
        case .assigned(let assignee, _, let at, _), .reassigned(_, let assignee, _, _, let at):
            row.assignee = assignee
            row.assignments.append(assignee)
            row.assignedAt.append(at)
            if row.status == .received { row.status = .assigned }
        case .processingStarted: row.status = .inProcess
        case .supplementRequested(_, let ordinal, _, let at, _, _):
            row.status = .awaitingSupplement
            row.supplements = ordinal
            row.pausedSince = at
        case .supplementReceived(_, _, let newDue, _):
            row.status = .inProcess
            row.pausedSince = nil
            if row.appointmentAt == row.dueAt { row.appointmentAt = newDue }
            row.dueAt = newDue
        case .paymentRequested:
            row.status = .awaitingPayment
            row.feeRequested = true
        case .feePaid(_, let online, _):
            row.status = .inProcess
            row.paidOnline = online
        case .submittedForApproval: row.status = .pendingApproval
        case .approvalReturned(_, let rejected, _):
            row.status = .inProcess
            if !rejected { row.revisions += 1 }
        case .deadlineApproaching, .secondSupplementApproved, .withdrawalRequested: break
        case .deadlineBreached: row.breachRecorded = true
        case .resolved(_, let at, _, _, _):
            row.status = .resolved
            row.outcome = "resolved"
            row.finishedAt = at
        case .refused(_, let at, _):
            row.status = .refused
            row.outcome = "refused"
            row.finishedAt = at
        case .apologyIssued(let appointment, let by, let at, _, _, _):
            row.apologyAt = at
            row.apologyBy = by
            row.appointmentAt = appointment
        case .withdrawn(_, let at):
            row.status = .withdrawn
            row.outcome = "withdrawn"
            if row.receivedAt != nil { row.finishedAt = at }
        case .resultReturned(_, _, let at, _):
            row.status = .returned
            row.returnedAt = at
        case .approvalWithdrawn:
            row.status = .inProcess
        case .noteAdded, .consultationSent, .consultationAnswered, .postalDelivered, .feedbackRecorded:
            break  // in the dossier's audit trail; the register's row does not change
        }
    }

    private func erase(subject: String, _ txn: borrowing StateTransaction, _ dbs: ProjectionDatabases) throws {
        let prefix = Array(subject.utf8) + [0]
        var ids = [[UInt8]]()
        try txn.forEach(dbs["subjects"], from: prefix) { key, _ in
            guard key.starts(with: prefix) else { return false }
            ids.append(Array(key[prefix.count...]))
            return true
        }
        for id in ids {
            guard let bytes = try txn.get(dbs["rows"], key: id) else { continue }
            var row = try DossierRow(bytes: bytes)
            row.applicantName = ""
            try txn.put(dbs["rows"], key: id, value: row.encoded)
        }
    }
}
