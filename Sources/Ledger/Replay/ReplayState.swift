public import EventStore

/// The auditor's replay (`ledgerd replay`): a stream's events folded one by one with the aggregate the write side
/// uses, and a line describing the state after each — what the decisions saw at that point.
public enum ReplayState {
    /// One replayed event: the event and a description of the state after it.
    public struct Step: Sendable {
        /// The event.
        public let event: RecordedEvent
        /// The domain time the event carries, if any.
        public let occurredAt: Int64?
        /// The state after the event, in words.
        public let state: String
    }

    /// Replays a stream's events (already read, in order) with the aggregate its category names.
    public static func replay(_ events: [RecordedEvent]) throws -> [Step] {
        var dossier = Dossier(), approval = Approval(), person = PersonRecord(), task = WorkItem()
        var steps = [Step]()
        for e in events {
            let facts = e.facts ?? []
            let at = try? Facts.decode(facts) { r throws(Facts.DecodingError) in try r.instant("at") }
            let state: String
            switch EventRecord.category(of: e.record.stream) {
            case "dossier":
                dossier = Dossier.evolve(dossier, try DossierEvent(type: e.record.eventType, facts: facts, personal: e.personal))
                state = describe(dossier)
            case "approval":
                if let (event, _) = try ApprovalEvent.decode(type: e.record.eventType, facts: facts) {
                    approval = Approval.evolve(approval, event)
                }
                state = "approval \(approval.status?.rawValue ?? "-"), level \(approval.approvedLevels)/\(approval.chain.count)"
                    + " of [\(approval.chain.joined(separator: ", "))]"
            case "person":
                if let event = try PersonEvent(type: e.record.eventType, facts: facts) {
                    person = PersonRecord.evolve(person, event, actor: e.record.actor)
                }
                let open = person.sessions.filter(\.value.open).map { "\($0.key) \($0.value.location.rawValue)" }.sorted()
                state = "\(person.sessions.count) day(s) checked in" + (open.isEmpty ? "" : ", open: \(open.joined(separator: ", "))")
                    + "; \(person.reports.count) report(s); leave \(person.leaves.values.filter { $0.approved == true }.count) approved"
                    + ", \(person.leaves.values.filter { $0.approved == nil }.count) pending"
            case "task":
                if let event = try WorkItem.Event(type: e.record.eventType, facts: facts) { task = WorkItem.evolve(task, event) }
                state = "work item \(task.status?.rawValue ?? "-")" + (task.assignee.map { ", with \($0)" } ?? "")
            default:
                state = (try? Facts.json(facts)) ?? "\(facts.count) bytes"
            }
            steps.append(Step(event: e, occurredAt: at, state: state))
        }
        return steps
    }

    static func describe(_ d: Dossier) -> String {
        var parts = ["status \(d.status.map { "\($0.rawValue) (\($0.nationalCode))" } ?? "-")"]
        if let code = d.receiptCode { parts.append(code) }
        if let unit = d.unit { parts.append("at \(unit)") }
        if let who = d.assignee { parts.append("with \(who)") }
        if let due = d.dueAt { parts.append("due \(Instant.format(due, utcOffset: 7 * 3600))") }
        if let appointment = d.appointmentAt, appointment != d.dueAt {
            parts.append("appointment \(Instant.format(appointment, utcOffset: 7 * 3600))")
        }
        if d.supplementRequests > 0 { parts.append("\(d.supplementRequests) supplement request(s)") }
        if d.revisions > 0 { parts.append("\(d.revisions) draft(s) returned") }
        return parts.joined(separator: ", ")
    }
}
