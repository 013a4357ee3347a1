/// Reference data as versioned events (domain.md §3.0, §6): the org chart, staff assignments, procedures, calendars
/// and duty policies. Each lives in its own stream (`agency-`, `unit-`, `staff-`, `procedure-`, `calendar-`,
/// `policy-`); a new version is a new event, and what was published never changes.
public enum ReferenceEvent: Hashable, Sendable {
    /// An agency (a department, a district or a ward's People's Committee, …).
    case agencyDefined(ReferenceData.Agency)
    /// A unit of an agency (a division, a one-stop desk).
    case unitDefined(ReferenceData.Unit)
    /// A staff member assigned to a unit from a date (a later assignment moves them).
    case staffAssigned(ReferenceData.Assignment)
    /// A staff member's latest assignment ended: `lastDay` is their last day in `unit` (they left the service, or
    /// are seconded out of the province).
    case staffAssignmentEnded(staff: String, unit: String, lastDay: CivilDate)
    /// A procedure version.
    case procedurePublished(ProcedureVersion, name: String)
    /// A calendar version: holidays, make-up days, office hours, the same-day cut-off.
    case calendarPublished(id: String, WorkingCalendar)
    /// A duty policy for an agency (or `*` for all).
    case dutyPolicyDeclared(ReferenceData.DutyPolicy)

    /// The stream the event belongs to.
    public var stream: String {
        switch self {
        case .agencyDefined(let a): "agency-\(a.id)"
        case .unitDefined(let u): "unit-\(u.id)"
        case .staffAssigned(let s): "staff-\(s.staff)"
        case .staffAssignmentEnded(let staff, _, _): "staff-\(staff)"
        case .procedurePublished(let p, _): "procedure-\(p.code)"
        case .calendarPublished(let id, _): "calendar-\(id)"
        case .dutyPolicyDeclared(let p): "policy-\(p.scope)"
        }
    }

    /// The categories of reference streams.
    public static let categories = ["agency", "unit", "staff", "procedure", "calendar", "policy"]

    /// The stored type.
    public var type: String {
        switch self {
        case .agencyDefined: "AgencyDefined.v1"
        case .unitDefined: "OrgUnitDefined.v1"
        case .staffAssigned: "StaffAssigned.v1"
        case .staffAssignmentEnded: "StaffAssignmentEnded.v1"
        case .procedurePublished: "ProcedureVersionPublished.v1"
        case .calendarPublished: "CalendarPublished.v1"
        case .dutyPolicyDeclared: "DutyPolicyDeclared.v2"
        }
    }

    /// The facts part.
    public var facts: [UInt8] {
        var w = Facts.Writer()
        switch self {
        case .agencyDefined(let a):
            w.field("id", a.id)
            w.field("name", a.name)
            w.field("level", a.level.rawValue)
            if let s = a.superior { w.field("superior", s) }
        case .unitDefined(let u):
            w.field("id", u.id)
            w.field("agency", u.agency)
            w.field("name", u.name)
            w.field("desk", u.isOneStopDesk)
            if !u.fields.isEmpty { w.field("fields", u.fields) }
        case .staffAssigned(let s):
            w.field("staff", s.staff)
            w.field("unit", s.unit)
            w.field("position", s.position)
            w.field("leader", s.isLeader)
            if let head = s.directHead { w.field("head", head) }
            w.field("from", s.from.description)
            if let kind = s.kind { w.field("kind", kind.rawValue) }
            if !s.fields.isEmpty { w.field("fields", s.fields) }
        case .staffAssignmentEnded(let staff, let unit, let lastDay):
            w.field("staff", staff)
            w.field("unit", unit)
            w.field("lastDay", lastDay.description)
        case .procedurePublished(let p, let name):
            w.field("code", p.code)
            w.field("version", p.version)
            w.field("name", name)
            w.field("field", p.fieldCode)
            w.field("channels", p.channels.map(\.rawValue).sorted().map(String.init))
            w.field("onlineLevel", p.onlineLevel)
            switch p.duration {
            case .sameDay: w.field("durationUnit", "sameDay")
            case .workingDays(let d):
                w.field("durationUnit", "workingDays")
                w.field("duration", d)
            case .workingHours(let h):
                w.field("durationUnit", "workingHours")
                w.field("duration", h)
            }
            w.field("urgent", p.urgentWhitelist)
            // Added later, optional (a version without them requires nothing, charges nothing, is in force at once).
            if !p.requiredComponents.isEmpty { w.field("requiredComponents", p.requiredComponents) }
            if !p.fees.isEmpty {
                w.field("fees", maps: p.fees.map { fee in
                    var m = Facts.Writer()
                    m.field("code", fee.code)
                    m.field("amount", fee.amount)
                    return m
                })
            }
            if let from = p.effectiveFrom { w.field("effectiveFrom", from.description) }
            if let basis = p.legalBasis { w.field("legalBasis", basis) }
        case .calendarPublished(let id, let c):
            w.field("id", id)
            w.field("holidays", c.holidays.sorted().map(\.description))
            w.field("makeUpDays", c.makeUpDays.sorted().map(\.description))
            w.field("sessions", c.sessions.map { "\($0.start)-\($0.end)" })
            w.field("utcOffset", c.utcOffset)
            w.field("sameDayCutoff", c.sameDayCutoff)
        case .dutyPolicyDeclared(let p):
            w.field("scope", p.scope)
            w.field("ratioNumerator", p.ratio.numerator)
            w.field("ratioDenominator", p.ratio.denominator)
            w.field("minLeaders", p.minimumLeaders)
            w.field("validFrom", p.validFrom.description)
            w.field("validTo", p.validTo.description)
            if let intake = p.intake {
                w.field("intakeChannels", intake.channels.sorted { $0.rawValue < $1.rawValue }.map(\.name))
                w.field("urgentProcedures", intake.urgentProcedures.sorted())
            }
            w.field("allowedOnsiteReasons", p.allowedOnsiteReasons)
            if p.deskFieldCoverage { w.field("deskFieldCoverage", true) }
        }
        return w.finish()
    }

    /// Decodes a stored reference event, or `nil` for a type that is not reference data.
    public init?(type: String, facts: [UInt8]) throws(Facts.DecodingError) {
        func date(_ text: String, _ key: String) throws(Facts.DecodingError) -> CivilDate {
            guard let d = CivilDate(text) else { throw Facts.DecodingError(what: "\(key) \(text) is not a date", offset: 0) }
            return d
        }
        let decoded: ReferenceEvent? = try Facts.decode(facts) { r throws(Facts.DecodingError) -> ReferenceEvent? in
            switch type {
            case "AgencyDefined.v1":
                guard let level = ReferenceData.Agency.Level(rawValue: try r.string("level")) else {
                    throw Facts.DecodingError(what: "level", offset: 0)
                }
                return .agencyDefined(.init(id: try r.string("id"), name: try r.string("name"), level: level,
                                            superior: try r.optionalString("superior")))
            case "OrgUnitDefined.v1", "UnitDefined.v1":  // the former name, read as today's
                return .unitDefined(.init(id: try r.string("id"), agency: try r.string("agency"),
                                          name: try r.string("name"), isOneStopDesk: try r.bool("desk") ?? false,
                                          fields: r.contains("fields") ? try r.strings("fields") : []))
            case "StaffAssigned.v1":
                return .staffAssigned(.init(staff: try r.string("staff"), unit: try r.string("unit"),
                                            position: try r.string("position"), isLeader: try r.bool("leader") ?? false,
                                            directHead: try r.optionalString("head"),
                                            from: try date(try r.string("from"), "from"),
                                            kind: try r.optionalChoice("kind", StaffKind.self),
                                            fields: r.contains("fields") ? try r.strings("fields") : []))
            case "StaffAssignmentEnded.v1":
                return .staffAssignmentEnded(staff: try r.string("staff"), unit: try r.string("unit"),
                                             lastDay: try date(try r.string("lastDay"), "lastDay"))
            case "ProcedureVersionPublished.v1":
                let duration: ProcedureVersion.Duration
                switch try r.string("durationUnit") {
                case "sameDay": duration = .sameDay
                case "workingDays": duration = .workingDays(Int(try r.int("duration")))
                case "workingHours": duration = .workingHours(Int(try r.int("duration")))
                case let other: throw Facts.DecodingError(what: "duration unit \(other)", offset: 0)
                }
                var channels = Set<Channel>()
                for c in try r.strings("channels") {
                    guard let n = Int(c), let channel = Channel(rawValue: n) else {
                        throw Facts.DecodingError(what: "channel \(c)", offset: 0)
                    }
                    channels.insert(channel)
                }
                var fees = [ProcedureVersion.Fee]()
                if r.contains("fees") {
                    for m in try r.maps("fees") { fees.append(.init(code: try m.string("code"), amount: try m.int("amount"))) }
                }
                var effective: CivilDate?
                if let text = try r.optionalString("effectiveFrom") { effective = try date(text, "effectiveFrom") }
                return .procedurePublished(
                    ProcedureVersion(code: try r.string("code"), version: Int(try r.int("version")),
                                     fieldCode: try r.string("field"), channels: channels,
                                     onlineLevel: Int(try r.int("onlineLevel")), duration: duration,
                                     urgentWhitelist: try r.bool("urgent") ?? false,
                                     requiredComponents: r.contains("requiredComponents")
                                         ? try r.strings("requiredComponents") : [],
                                     fees: fees, effectiveFrom: effective, legalBasis: try r.optionalString("legalBasis")),
                    name: try r.string("name"))
            case "CalendarPublished.v1":
                var holidays = Set<CivilDate>(), makeUps = Set<CivilDate>()
                for d in try r.strings("holidays") { holidays.insert(try date(d, "holidays")) }
                for d in try r.strings("makeUpDays") { makeUps.insert(try date(d, "makeUpDays")) }
                var sessions = [WorkingCalendar.Session]()
                for s in try r.strings("sessions") {
                    let parts = s.split(separator: "-").compactMap { Int($0) }
                    guard parts.count == 2 else { throw Facts.DecodingError(what: "session \(s)", offset: 0) }
                    sessions.append(.init(start: parts[0], end: parts[1]))
                }
                guard !sessions.isEmpty else { throw Facts.DecodingError(what: "a calendar without sessions", offset: 0) }
                return .calendarPublished(id: try r.string("id"), WorkingCalendar(
                    holidays: holidays, makeUpDays: makeUps, sessions: sessions,
                    utcOffset: Int(try r.int("utcOffset")), sameDayCutoff: Int(try r.int("sameDayCutoff"))))
            case "DutyPolicyDeclared.v1", "DutyPolicyDeclared.v2":
                // v1 had a flag for Directive 16's intake rule; v2 lists the open channels and urgent procedures.
                var intake: ReferenceData.DutyPolicy.Intake?
                if type == "DutyPolicyDeclared.v1" {
                    intake = try r.bool("directive16Intake") == true ? .directive16 : nil
                } else if r.contains("intakeChannels") {
                    var channels = Set<Channel>()
                    for name in try r.strings("intakeChannels") {
                        guard let channel = Channel(name: name) else {
                            throw Facts.DecodingError(what: "intake channel \(name)", offset: 0)
                        }
                        channels.insert(channel)
                    }
                    intake = .init(channels: channels, urgentProcedures: Set(try r.strings("urgentProcedures")))
                }
                return .dutyPolicyDeclared(.init(
                    scope: try r.string("scope"),
                    ratio: (Int(try r.int("ratioNumerator")), Int(try r.int("ratioDenominator"))),
                    minimumLeaders: Int(try r.int("minLeaders")),
                    validFrom: try date(try r.string("validFrom"), "validFrom"),
                    validTo: try date(try r.string("validTo"), "validTo"),
                    intake: intake,
                    // Policies declared before the field existed allowed Directive 16's reasons.
                    allowedOnsiteReasons: r.contains("allowedOnsiteReasons")
                        ? try r.strings("allowedOnsiteReasons") : ReferenceData.DutyPolicy.directive16Reasons,
                    deskFieldCoverage: try r.bool("deskFieldCoverage") ?? false))
            default:
                return nil
            }
        }
        guard let decoded else { return nil }
        self = decoded
    }
}
