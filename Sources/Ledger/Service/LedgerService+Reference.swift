import EventStore
import Foundation

extension LedgerService {
    static let referenceCommands: Set<String> = [
        "agency.define", "unit.define", "staff.assign", "staff.end", "procedure.publish", "calendar.publish",
        "policy.declare",
    ]

    func executeReference(_ c: Command) async throws -> AppendResult {
        guard [.hrOfficer, .agencyHead, .system].contains(c.actor.role) else {
            throw LedgerError(.notPermitted, "reference data is published by an HR officer, an agency head or the "
                + "system (acting as \(c.actor.role.rawValue))")
        }
        // The stream from the body alone: every check runs inside, after a retry was answered with its result.
        let stream = try Self.referenceStream(c)
        let result = try await handler.execute(c.context) {
            // The stream's version first, then the reference data (at least as new) the decision is made on: an
            // event landing in between fails the append's expectation, and the command is decided again.
            let version = try store.streamInfo(stream)?.version ?? 0
            let changes = try store.streamInfo(ReferenceData.changesStream)?.version ?? 0
            let event = try referenceEvent(c, try referenceData())
            guard event.stream == stream else {
                throw LedgerError(.invalidCommand, "\(c.envelope.type) would write \(event.stream), not \(stream)")
            }
            if case .procedurePublished(let p, _) = event, p.version != Int(version) + 1 {
                throw LedgerError(.invalidCommand, "procedure \(p.code) has \(version) version(s); publish version "
                    + "\(version + 1) (a published version never changes)")
            }
            // Each change is also counted in the reference changes stream, which every other command guards.
            var change = Facts.Writer()
            change.field("stream", stream)
            change.field("type", event.type)
            return [PlannedAppend(stream: stream, readVersion: version,
                                  events: [NewEvent(type: event.type, facts: event.facts)]),
                    PlannedAppend(stream: ReferenceData.changesStream, readVersion: changes,
                                  events: [NewEvent("ReferenceChanged.v1", change)])]
        }
        _ = try referenceData()
        return result
    }

    /// The stream a reference command appends to, named by its body (the event's own `stream`, checked when it is
    /// decided).
    private static func referenceStream(_ c: Command) throws -> String {
        let b = c.body
        switch c.envelope.type {
        case "agency.define": return "agency-" + (try b.string("id"))
        case "unit.define": return "unit-" + (try b.string("id"))
        case "staff.assign", "staff.end": return "staff-" + (try b.string("staff"))
        case "procedure.publish": return "procedure-" + (try b.string("code"))
        case "calendar.publish": return "calendar-" + (try b.string("id"))
        default: return "policy-" + (try b.string("scope"))
        }
    }

    private func referenceEvent(_ c: Command, _ ref: ReferenceData) throws -> ReferenceEvent {
        let b = c.body
        switch c.envelope.type {
        case "agency.define":
            let superior = try b.optionalString("superior")
            if let superior, ref.agencies[superior] == nil {
                throw LedgerError(.notFound, "no agency \(superior) to be the superior")
            }
            // Agencies and units share the duty policies' scopes: one id names one of them.
            let id = try b.string("id")
            guard ref.units[id] == nil else {
                throw LedgerError(.invalidCommand, "\(id) already names a unit; an agency takes another id", field: "body.id")
            }
            return .agencyDefined(.init(id: id, name: try b.string("name"),
                                        level: try b.choice("level", ReferenceData.Agency.Level.self),
                                        superior: superior))
        case "unit.define":
            let agency = try b.string("agency")
            guard ref.agencies[agency] != nil else { throw LedgerError(.notFound, "no agency \(agency)") }
            let id = try b.string("id")
            guard ref.agencies[id] == nil else {
                throw LedgerError(.invalidCommand, "\(id) already names an agency; a unit takes another id", field: "body.id")
            }
            return .unitDefined(.init(id: id, agency: agency, name: try b.string("name"),
                                      isOneStopDesk: try b.bool("desk"), fields: try b.strings("fields")))
        case "staff.assign":
            let unit = try b.string("unit")
            guard ref.units[unit] != nil else { throw LedgerError(.notFound, "no unit \(unit)") }
            let head = try b.optionalString("head")
            let from = try b.date("from")
            if let head, ref.assignment(of: head, on: from) == nil {
                throw LedgerError(.notFound, "the direct head \(head) is on no unit's staff on \(from); assign them first")
            }
            return .staffAssigned(.init(staff: try b.string("staff"), unit: unit, position: try b.string("position"),
                                        isLeader: try b.bool("leader"), directHead: head, from: from,
                                        kind: try b.optionalChoice("kind", StaffKind.self),
                                        fields: b.fields["fields"] == nil ? [] : try b.strings("fields")))
        case "staff.end":
            // The assignment in force on the last day ends then; a move recorded to begin later never takes effect.
            let staff = try b.string("staff")
            let lastDay = try b.date("lastDay")
            guard let list = ref.assignments[staff], let latest = list.last else {
                throw LedgerError(.notFound, "\(staff) was never assigned to a unit")
            }
            guard latest.until == nil else {
                throw LedgerError(.invalidState, "\(staff)'s assignment to \(latest.unit) already ended on "
                    + "\(latest.until!); a return is a new staff.assign")
            }
            guard let current = list.last(where: { $0.from <= lastDay }) else {
                throw LedgerError(.badField, "body.lastDay \(lastDay) is before \(staff)'s first assignment began "
                    + "(\(list.map(\.from).min()!))", field: "body.lastDay")
            }
            if let ended = current.until {
                throw LedgerError(.invalidState, "\(staff)'s assignment to \(current.unit), the one begun by "
                    + "\(lastDay), already ended on \(ended); a later assignment is ended from its own first day",
                                  field: "body.lastDay")
            }
            // Only a move not yet begun is cancelled: one already in effect is history, ended by its own last day.
            let today = try c.today()
            if let begun = list.first(where: { $0.from > lastDay && $0.from <= today }) {
                throw LedgerError(.invalidState, "\(staff) moved to \(begun.unit) on \(begun.from), after \(lastDay): "
                    + "a move already in effect is not undone; end that assignment with a last day from \(begun.from)",
                                  field: "body.lastDay")
            }
            return .staffAssignmentEnded(staff: staff, unit: current.unit, lastDay: lastDay)
        case "procedure.publish":
            var channels = Set<Channel>()
            for (i, name) in try b.strings("channels").enumerated() {
                channels.insert(try Self.channel(CommandBody(["c": .string(name)], path: "body.channels[\(i)]"), "c"))
            }
            guard !channels.isEmpty else { throw LedgerError(.badField, "body.channels must list a channel", field: "body.channels") }
            let level = Int(try b.int("onlineLevel"))
            guard (1...4).contains(level) else {
                throw LedgerError(.badField, "body.onlineLevel must be 1 to 4", field: "body.onlineLevel")
            }
            let duration: ProcedureVersion.Duration
            switch try b.string("durationUnit") {
            case "sameDay": duration = .sameDay
            case "workingDays": duration = .workingDays(Int(try b.int("duration")))
            case "workingHours": duration = .workingHours(Int(try b.int("duration")))
            case let other:
                throw LedgerError(.badField, "body.durationUnit must be sameDay, workingDays or workingHours (got "
                    + "\"\(other)\")", field: "body.durationUnit")
            }
            if case .workingDays(let n) = duration, !(1...365).contains(n) {
                throw LedgerError(.badField, "body.duration must be 1 to 365 working days", field: "body.duration")
            }
            if case .workingHours(let n) = duration, !(1...2_920).contains(n) {
                throw LedgerError(.badField, "body.duration must be 1 to 2 920 working hours", field: "body.duration")
            }
            let code = try b.string("code")
            let version = (ref.procedures[code]?.count ?? 0) + 1
            let components = try b.strings("requiredComponents")
            guard Set(components).count == components.count, components.allSatisfy({ !$0.isEmpty && $0.count <= 40 }) else {
                throw LedgerError(.badField, "body.requiredComponents lists each component code once (1–40 characters)",
                                  field: "body.requiredComponents")
            }
            var fees = [ProcedureVersion.Fee]()
            for (i, item) in try b.objects("fees").enumerated() {
                let amount = try item.int("amount")
                guard amount >= 0, amount <= 1_000_000_000_000 else {
                    throw LedgerError(.badField, "body.fees[\(i)].amount must be 0 to 10^12 VND", field: "body.fees[\(i)].amount")
                }
                fees.append(.init(code: try item.string("code"), amount: amount))
            }
            guard Set(fees.map(\.code)).count == fees.count else {
                throw LedgerError(.badField, "body.fees names an item code twice", field: "body.fees")
            }
            let effective = b.fields["effectiveFrom"] == nil ? nil : try b.date("effectiveFrom")
            if let effective, let today = try? c.today(), effective < today {
                throw LedgerError(.badField, "body.effectiveFrom \(effective) is past; a version takes effect from today "
                    + "on (dossiers already received keep theirs)", field: "body.effectiveFrom")
            }
            return .procedurePublished(
                ProcedureVersion(code: code, version: version, fieldCode: try b.string("field"), channels: channels,
                                 onlineLevel: level, duration: duration, urgentWhitelist: try b.bool("urgent"),
                                 requiredComponents: components, fees: fees, effectiveFrom: effective,
                                 legalBasis: try b.optionalString("legalBasis")),
                name: try b.string("name"))
        case "calendar.publish":
            func dates(_ key: String) throws -> Set<CivilDate> {
                Set(try b.strings(key).enumerated().map { i, text in
                    guard let d = CivilDate(text) else {
                        throw LedgerError(.badField, "body.\(key)[\(i)] must be a date YYYY-MM-DD", field: "body.\(key)")
                    }
                    return d
                })
            }
            // Office hours: "HH:mm-HH:mm" sessions in order, not overlapping (default 07:30–11:30, 13:30–17:00),
            // and the same-day cut-off "HH:mm" (default 15:00) inside them.
            func minute(_ text: Substring) -> Int? {
                let hm = text.split(separator: ":")
                guard hm.count == 2, hm[0].count == 2, hm[1].count == 2, let h = Int(hm[0]), let m = Int(hm[1]),
                      (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 24 * 60 else { return nil }
                return h * 60 + m
            }
            var sessions = WorkingCalendar.defaultSessions
            if b.fields["sessions"] != nil {
                sessions = []
                for (i, text) in try b.strings("sessions").enumerated() {
                    let ends = text.split(separator: "-")
                    guard ends.count == 2, let start = minute(ends[0]), let end = minute(ends[1]), start < end,
                          start >= (sessions.last?.end ?? 0) else {
                        throw LedgerError(.badField, "body.sessions[\(i)] must be \"HH:mm-HH:mm\", after the session "
                            + "before it (got \"\(text)\")", field: "body.sessions")
                    }
                    sessions.append(.init(start: start, end: end))
                }
                guard !sessions.isEmpty else {
                    throw LedgerError(.badField, "body.sessions must name at least one office session", field: "body.sessions")
                }
            }
            let text = try b.optionalString("sameDayCutoff") ?? "15:00"
            guard let cutoff = minute(Substring(text)), sessions.contains(where: { $0.start <= cutoff && cutoff <= $0.end })
            else {
                throw LedgerError(.badField, "body.sameDayCutoff must be \"HH:mm\" within the office hours (got "
                    + "\"\(text)\"; the default is 15:00)", field: "body.sameDayCutoff")
            }
            // A public holiday falling on a weekend is compensated on a weekday (its own entry); a make-up day is a
            // Saturday or Sunday worked in exchange.
            if let weekend = try dates("holidays").filter({ $0.weekday >= 6 }).min() {
                throw LedgerError(.badField, "body.holidays lists \(weekend), a weekend day; list the weekday off in "
                    + "its place", field: "body.holidays")
            }
            if let weekday = try dates("makeUpDays").filter({ $0.weekday < 6 }).min() {
                throw LedgerError(.badField, "body.makeUpDays lists \(weekday), already a working day; a make-up day is a "
                    + "Saturday or Sunday", field: "body.makeUpDays")
            }
            return .calendarPublished(id: try b.string("id"),
                                      WorkingCalendar(holidays: try dates("holidays"), makeUpDays: try dates("makeUpDays"),
                                                      sessions: sessions, sameDayCutoff: cutoff))
        default:
            let n = Int(try b.int("ratioNumerator")), d = Int(try b.int("ratioDenominator"))
            guard n > 0, d >= n, d <= 100 else {
                throw LedgerError(.badField, "the on-site ratio \(n)/\(d) must be a fraction in (0, 1] with a denominator up to 100",
                                  field: "body.ratioNumerator")
            }
            let from = try b.date("validFrom"), to = try b.date("validTo")
            guard from <= to else { throw LedgerError(.badField, "body.validTo is before body.validFrom", field: "body.validTo") }
            let scope = try b.string("scope")
            let unitScope = ref.units[scope] != nil
            guard scope == "*" || ref.agencies[scope] != nil || unitScope else {
                throw LedgerError(.notFound, "no agency or unit \(scope) (a policy's scope is an agency, a unit or *)")
            }
            // A unit's own policy sets its cap, on-site reasons and desk coverage; the leader minimum and intake
            // are its agency's.
            if unitScope, let given = ["minLeaders", "intakeChannels", "directive16Intake", "urgentProcedures"]
                .first(where: { b.fields[$0] != nil }) {
                throw LedgerError(.badField, "body.\(given): a unit's policy sets its cap, on-site reasons and desk "
                    + "coverage; the leader minimum and intake are its agency's policy's", field: "body.\(given)")
            }
            var reasons = ReferenceData.DutyPolicy.directive16Reasons
            if b.fields["allowedOnsiteReasons"] != nil {
                reasons = try b.strings("allowedOnsiteReasons")
                guard !reasons.isEmpty, reasons.allSatisfy({ r in
                    !r.isEmpty && r.count <= 40 && r.allSatisfy { $0.isASCII && ($0.isUppercase || $0 == "_") }
                }) else {
                    throw LedgerError(.badField, "body.allowedOnsiteReasons must list reasons in UPPER_CASE (e.g. "
                        + ReferenceData.DutyPolicy.directive16Reasons.joined(separator: ", ") + ")",
                                      field: "body.allowedOnsiteReasons")
                }
            }
            return .dutyPolicyDeclared(.init(scope: scope, ratio: (n, d),
                                             minimumLeaders: unitScope ? 0 : Int(try b.int("minLeaders")),
                                             validFrom: from, validTo: to,
                                             intake: unitScope ? nil : try Self.intake(b, reference: ref),
                                             allowedOnsiteReasons: reasons,
                                             deskFieldCoverage: try b.bool("deskFieldCoverage")))
        }
    }

    /// A policy's intake rule: `intakeChannels` (with optional `urgentProcedures`), or the flag
    /// `directive16Intake` (online only, the urgent list on the other channels); neither means no restriction.
    static func intake(_ b: CommandBody, reference: ReferenceData) throws(LedgerError)
        -> ReferenceData.DutyPolicy.Intake?
    {
        let urgent = try b.strings("urgentProcedures")
        if let unknown = urgent.first(where: { reference.procedure($0) == nil }) {
            throw LedgerError(.badField, "body.urgentProcedures names \(unknown), which is no published procedure",
                              field: "body.urgentProcedures")
        }
        if b.fields["intakeChannels"] != nil {
            var channels = Set<Channel>()
            for name in try b.strings("intakeChannels") {
                guard let channel = Channel(name: name) else {
                    throw LedgerError(.badField, "body.intakeChannels lists \"\(name)\"; channels are direct, online "
                        + "and postal", field: "body.intakeChannels")
                }
                channels.insert(channel)
            }
            return .init(channels: channels, urgentProcedures: Set(urgent))
        }
        if try b.bool("directive16Intake") {
            return .init(channels: [.online], urgentProcedures: Set(urgent))
        }
        guard urgent.isEmpty else {
            throw LedgerError(.badField, "body.urgentProcedures needs an intake rule (intakeChannels or "
                + "directive16Intake) to be an exception to", field: "body.urgentProcedures")
        }
        return nil
    }
}
