public import EventStore

/// The reference data in force, folded from the reference streams (``ReferenceEvent``): what command decisions look
/// up — the org chart, who is in which unit on a date (the cap's headcount, design.md), procedures and calendars by
/// version, the duty policy of an agency on a date.
public struct ReferenceData: Sendable {
    /// An agency.
    public struct Agency: Hashable, Sendable {
        /// Its level in the 2020 three-tier structure.
        public enum Level: String, Hashable, Sendable, CaseIterable {
            case province, department, district, ward
        }
        /// Its id.
        public var id: String
        /// Its name.
        public var name: String
        /// Its level.
        public var level: Level
        /// The superior agency (whose head grants exceptions beyond the cap).
        public var superior: String?

        /// An agency.
        public init(id: String, name: String, level: Level, superior: String?) {
            self.id = id
            self.name = name
            self.level = level
            self.superior = superior
        }
    }

    /// A unit of an agency.
    public struct Unit: Hashable, Sendable {
        /// Its id.
        public var id: String
        /// The agency's id.
        public var agency: String
        /// Its name.
        public var name: String
        /// A one-stop desk (receives dossiers).
        public var isOneStopDesk: Bool
        /// The fields (sector codes) it handles; empty when not declared (then it may take any).
        public var fields: [String]

        /// A unit.
        public init(id: String, agency: String, name: String, isOneStopDesk: Bool, fields: [String] = []) {
            self.fields = fields
            self.id = id
            self.agency = agency
            self.name = name
            self.isOneStopDesk = isOneStopDesk
        }
    }

    /// A staff member's assignment to a unit from a date.
    public struct Assignment: Hashable, Sendable {
        /// The staff id.
        public var staff: String
        /// The unit's id.
        public var unit: String
        /// The position held.
        public var position: String

        /// The position of the agency's HR officer (who reports health incidents).
        public static let hrPosition = "hr officer"

        /// Whether the position is the HR officer's (in any case, `_` for a space).
        public var isHROfficer: Bool {
            position.lowercased().replacing("_", with: " ") == Self.hrPosition
        }
        /// A leader (agency head, deputy, unit head) for the leader-on-site rule.
        public var isLeader: Bool
        /// The direct head progress reports go to (`nil` for the agency head).
        public var directHead: String?
        /// The first day it applies.
        public var from: CivilDate
        /// The official's category, when given.
        public var kind: StaffKind?
        /// The fields (lĩnh vực) a one-stop desk officer handles, e.g. `HT` (civil status), `DD` (land).
        public var fields: [String]
        /// The last day it applies, once the official has left (`StaffAssignmentEnded.v1`); `nil` while in force.
        public var until: CivilDate?

        /// An assignment.
        public init(staff: String, unit: String, position: String, isLeader: Bool, directHead: String?,
                    from: CivilDate, kind: StaffKind? = nil, until: CivilDate? = nil, fields: [String] = []) {
            self.kind = kind
            self.fields = fields
            self.until = until
            self.staff = staff
            self.unit = unit
            self.position = position
            self.isLeader = isLeader
            self.directHead = directHead
            self.from = from
        }
    }

    /// A duty policy (Directive 16 mode) for an agency or for all (`*`).
    public struct DutyPolicy: Hashable, Sendable {
        /// The unit or agency it applies to, or `*`.
        public var scope: String
        /// The on-site ratio as a fraction.
        public var ratio: (numerator: Int, denominator: Int)
        /// Leaders required on site per working day.
        public var minimumLeaders: Int
        /// The first day in force.
        public var validFrom: CivilDate
        /// The last day in force.
        public var validTo: CivilDate
        /// Directive-16 intake, or `nil` when intake is bound only by each procedure's own channels.
        public var intake: Intake?
        /// The reasons for which someone may be on site beyond the roster (a duty exception's reason must be one).
        public var allowedOnsiteReasons: [String]
        /// Whether a one-stop desk's roster must put, every working day, an officer of each of the desk's fields on
        /// site (a ward halves its desk's staff on site but keeps every field served: domain.md §3.2, A0).
        public var deskFieldCoverage: Bool

        /// Directive 16's reasons for being on site beyond the roster (domain.md §3.2).
        public static let directive16Reasons = ["CLASSIFIED", "ESSENTIAL", "URGENT_DOSSIER", "OTHER"]

        /// Which channels take dossiers while the policy is in force (domain.md §2.4): the open channels take any
        /// procedure (online only those published at level 3 or 4); the others take only urgent procedures — those
        /// whose version is flagged urgent, and those the policy lists.
        public struct Intake: Hashable, Sendable {
            /// Channels open to every procedure.
            public var channels: Set<Channel>
            /// Procedure codes the policy treats as urgent besides those flagged in their own versions.
            public var urgentProcedures: Set<String>

            /// An intake rule.
            public init(channels: Set<Channel>, urgentProcedures: Set<String> = []) {
                self.channels = channels
                self.urgentProcedures = urgentProcedures
            }

            /// Directive 16's rule: online for every level 3/4 procedure; counter and post only for the urgent ones.
            public static let directive16 = Intake(channels: [.online])

            /// Whether `procedure` is urgent under this rule.
            public func isUrgent(_ procedure: ProcedureVersion) -> Bool {
                procedure.urgentWhitelist || urgentProcedures.contains(procedure.code)
            }
        }

        /// A policy.
        public init(scope: String, ratio: (numerator: Int, denominator: Int), minimumLeaders: Int,
                    validFrom: CivilDate, validTo: CivilDate, intake: Intake?,
                    allowedOnsiteReasons: [String] = directive16Reasons, deskFieldCoverage: Bool = false) {
            self.allowedOnsiteReasons = allowedOnsiteReasons
            self.deskFieldCoverage = deskFieldCoverage
            self.scope = scope
            self.ratio = ratio
            self.minimumLeaders = minimumLeaders
            self.validFrom = validFrom
            self.validTo = validTo
            self.intake = intake
        }

        /// Equality of the fields that matter.
        public static func == (a: DutyPolicy, b: DutyPolicy) -> Bool {
            a.scope == b.scope && a.ratio == b.ratio && a.minimumLeaders == b.minimumLeaders
                && a.validFrom == b.validFrom && a.validTo == b.validTo && a.intake == b.intake
                && a.allowedOnsiteReasons == b.allowedOnsiteReasons && a.deskFieldCoverage == b.deskFieldCoverage
        }

        /// Hashes the identifying fields.
        public func hash(into hasher: inout Hasher) {
            hasher.combine(scope)
            hasher.combine(validFrom)
        }
    }

    /// Agencies by id.
    public private(set) var agencies: [String: Agency] = [:]
    /// Units by id.
    public private(set) var units: [String: Unit] = [:]
    /// Each staff member's assignments, oldest first.
    public private(set) var assignments: [String: [Assignment]] = [:]
    /// Everyone ever assigned to a unit.
    public private(set) var unitMembers: [String: Set<String>] = [:]
    /// Procedure versions by code (index = version − 1) and their names.
    public private(set) var procedures: [String: [ProcedureVersion]] = [:]
    /// Procedure names by code.
    public private(set) var procedureNames: [String: String] = [:]
    /// Calendar versions by id (index = version − 1).
    public private(set) var calendars: [String: [WorkingCalendar]] = [:]
    /// Policies by scope, in declaration order.
    public private(set) var policies: [String: [DutyPolicy]] = [:]
    /// Duty policies declared so far, in every scope: the version of the policies a roster is checked against, which
    /// it records (`policyVersion`), so an audit can replay its decision on the same policies.
    public private(set) var policyVersion = 0
    /// The next log position to fold.
    public private(set) var position: UInt64 = 0

    /// Nothing yet.
    public init() {}

    /// Folds one reference event.
    public mutating func apply(_ event: ReferenceEvent) {
        switch event {
        case .agencyDefined(let a): agencies[a.id] = a
        case .unitDefined(let u): units[u.id] = u
        case .staffAssigned(let s):
            assignments[s.staff, default: []].append(s)
            unitMembers[s.unit, default: []].insert(s.staff)
        case .staffAssignmentEnded(let staff, let unit, let lastDay):
            // It ends the assignment in force on the last day, when that is the one it names; a move recorded to begin
            // after it never takes effect (the handler decides on the stream it read). Events recorded before moves
            // were cancelled so only ever ended the latest assignment, which this reads the same.
            guard var list = assignments[staff], let i = list.lastIndex(where: { $0.from <= lastDay }),
                  list[i].unit == unit else { break }
            list[i].until = lastDay
            list.removeSubrange((i + 1)...)
            assignments[staff] = list
        case .procedurePublished(let p, let name):
            procedures[p.code, default: []].append(p)
            procedureNames[p.code] = name
        case .calendarPublished(let id, let c): calendars[id, default: []].append(c)
        case .dutyPolicyDeclared(let p):
            policies[p.scope, default: []].append(p)
            policyVersion += 1
        }
    }

    /// The stream counting reference-data changes: each reference command appends one `ReferenceChanged.v1` to it,
    /// and every other command's append expects the count its decision was made under.
    public static let changesStream = "referencelog"

    /// Folds the reference events the store gained since the last refresh.
    public mutating func refresh(from store: Store) throws {
        let head = store.head
        guard head > position else { return }
        var events = [RecordedEvent]()
        for category in ReferenceEvent.categories {
            events += try store.readCategory(category, from: position, limit: .max, payloads: .facts)
        }
        events.sort { $0.position < $1.position }
        // Only below the head read first: an event appended meanwhile is folded by the next refresh, never twice.
        for e in events where e.position >= position && e.position < head {
            do {
                guard let decoded = try ReferenceEvent(type: e.record.eventType, facts: e.facts ?? []) else { continue }
                apply(decoded)
            } catch {
                throw StoreError(.corrupt, "reference event at \(e.position): \(error)", position: e.position)
            }
        }
        position = head
    }

    // MARK: - Lookups

    /// A staff member's assignment in force on `date` (none after the last day of an ended one).
    public func assignment(of staff: String, on date: CivilDate) -> Assignment? {
        guard let a = assignments[staff]?.last(where: { $0.from <= date }), a.until.map({ date <= $0 }) ?? true
        else { return nil }
        return a
    }

    /// The officials whose service in `unit` ended (they left, not moved) on a day from `start` up to, not
    /// including, `end`, and who are not on its staff on `end`, sorted: a period's evaluation still counts their
    /// work. (Someone whose last day is `end` is still on the staff that day; someone taken on again later is found
    /// by the assignment that ended.)
    public func departed(from unit: String, between start: CivilDate, and end: CivilDate) -> [Assignment] {
        (unitMembers[unit] ?? []).sorted().compactMap { person in
            guard assignment(of: person, on: end)?.unit != unit else { return nil }
            return assignments[person]?.last { a in
                a.unit == unit && a.until.map { start <= $0 && $0 < end } == true
            }
        }
    }

    /// The staff assigned to `unit` on `date` (the cap's headcount), sorted.
    public func staff(of unit: String, on date: CivilDate) -> [Assignment] {
        (unitMembers[unit] ?? []).sorted().compactMap { person in
            assignment(of: person, on: date).flatMap { $0.unit == unit ? $0 : nil }
        }
    }

    /// The units of an agency, sorted by id.
    public func units(of agency: String) -> [Unit] {
        units.values.filter { $0.agency == agency }.sorted { $0.id < $1.id }
    }

    /// The agency of a unit.
    public func agency(ofUnit unit: String) -> String? { units[unit]?.agency }

    /// The duty policy for a unit on a date: its own (a policy declared with the unit's id as scope), else its
    /// agency's, else the general one — the latest declared in the first scope that has one in force. A unit's own
    /// policy sets its cap ratio, its on-site reasons and its desk's field coverage; the leader minimum and intake are
    /// the agency's (``policy(for:on:)``).
    public func policy(forUnit unit: String, on date: CivilDate) -> DutyPolicy? {
        if let p = policies[unit]?.last(where: { $0.validFrom <= date && date <= $0.validTo }) { return p }
        return agency(ofUnit: unit).flatMap { policy(for: $0, on: date) }
    }

    /// The duty policy for an agency on a date (its own, else the general one), the latest declared.
    public func policy(for agency: String, on date: CivilDate) -> DutyPolicy? {
        for scope in [agency, "*"] {
            if let p = policies[scope]?.last(where: { $0.validFrom <= date && date <= $0.validTo }) { return p }
        }
        return nil
    }

    /// The latest version of a calendar, with its version number.
    public func calendar(_ id: String) -> (calendar: WorkingCalendar, version: Int)? {
        guard let versions = calendars[id], let last = versions.last else { return nil }
        return (last, versions.count)
    }

    /// A procedure version (the latest when `version` is `nil`).
    public func procedure(_ code: String, version: Int? = nil) -> ProcedureVersion? {
        guard let versions = procedures[code] else { return nil }
        guard let version else { return versions.last }
        return versions.indices.contains(version - 1) ? versions[version - 1] : nil
    }

    /// The version of a procedure dossiers are received under on `date`: the latest published whose `effectiveFrom`
    /// has come (a version without one is in force from its publication).
    public func procedure(_ code: String, inForceOn date: CivilDate) -> ProcedureVersion? {
        procedures[code]?.last { ($0.effectiveFrom ?? date) <= date }
    }

    /// The head of an agency on a date: its leader without a direct head; while that post is empty after the head
    /// left (`staff.end`), the deputy acting for them (a leader of the head's unit who reported to them), else
    /// nobody.
    public func head(of agency: String, on date: CivilDate) -> String? {
        let leaders = units(of: agency).flatMap { staff(of: $0.id, on: date) }.filter(\.isLeader)
        if let head = leaders.first(where: { $0.directHead == nil }) { return head.staff }
        // The post is empty (the head left the service): a deputy of theirs on the same leadership unit acts for
        // them, the first by staff id; without one, nobody heads the agency until a new head is assigned.
        guard let departed = lastHead(of: agency, before: date) else { return nil }
        return leaders.filter { $0.unit == departed.unit && $0.directHead == departed.staff }.map(\.staff).min()
    }

    /// The agency's last head whose headship ended before `date` (the latest to go): by `staff.end`, or by a move
    /// (a later assignment of the same official, which ends the headship the day before it begins). Only the
    /// agency's units' members are read.
    private func lastHead(of agency: String, before date: CivilDate) -> (staff: String, unit: String)? {
        let units = Set(units(of: agency).map(\.id))
        var last: (end: CivilDate, staff: String, unit: String)?
        for staff in Set(units.flatMap { unitMembers[$0] ?? [] }) {
            let list = assignments[staff] ?? []
            for (i, a) in list.enumerated() where a.isLeader && a.directHead == nil && units.contains(a.unit) {
                guard let end = a.until ?? (i + 1 < list.count ? list[i + 1].from.adding(days: -1) : nil), end < date
                else { continue }
                if last.map({ ($0.end, $0.staff) < (end, staff) }) ?? true { last = (end, staff, a.unit) }
            }
        }
        return last.map { ($0.staff, $0.unit) }
    }

    /// Whether `staff` heads `unit` on `date`: a leader assigned to it, or the head of its agency.
    public func leads(_ unit: String, staff: String, on date: CivilDate) -> Bool {
        if let mine = assignment(of: staff, on: date), mine.isLeader, mine.unit == unit { return true }
        return agency(ofUnit: unit).flatMap { head(of: $0, on: date) } == staff
    }

    /// The head of a unit: a leader of the unit whose direct head is outside it, else the agency head.
    public func head(ofUnit unit: String, on date: CivilDate) -> String? {
        let members = staff(of: unit, on: date)
        let ids = Set(members.map(\.staff))
        if let h = members.first(where: { $0.isLeader && !ids.contains($0.directHead ?? "") }) { return h.staff }
        return agency(ofUnit: unit).flatMap { head(of: $0, on: date) }
    }
}
