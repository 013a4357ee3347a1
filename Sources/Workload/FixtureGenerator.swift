public import Foundation
public import Ledger


/// Writes the command stream of a simulated Directive-16 period (domain.md §5.2): reference data, weekly rosters and
/// the leader-duty roster, check-ins, progress reports, leave, duty exceptions, dossiers through intake, processing,
/// supplements, fees, approvals with returns and rejections, apologies, withdrawals and results, work items, the
/// scheduler's deadline and end-of-day checks, and commands that must be refused.
///
/// Deterministic: the same profile, days and seed give the same commands, byte for byte (a seeded generator, no
/// wall clock, no unordered iteration).
public struct FixtureGenerator {
    /// The profile.
    public let profile: Profile
    /// Working days simulated.
    public let days: Int
    /// The seed.
    public let seed: UInt64
    /// The first day.
    public let start: CivilDate
    /// The calendar.
    public let calendar: WorkingCalendar

    /// A generator for `days` working days from `start` (1 April 2020, the first day of Directive 16).
    public init(profile: Profile, days: Int, seed: UInt64, start: CivilDate = CivilDate(year: 2020, month: 4, day: 1)!) {
        self.profile = profile
        self.days = days
        self.seed = seed
        self.start = start
        self.calendar = WorkingCalendar(holidays: Set(Catalogue.holidays2020.compactMap { CivilDate($0) }))
    }

    // MARK: - The organisation

    struct Person {
        var id: String
        var unit: String
        var agency: String
        var position: String
        var leader: Bool
        var head: String?
    }

    struct UnitModel {
        var id: String
        var agency: String
        var name: String
        var desk: Bool
        var members: [String]
        var head: String
        var cap: Int
    }

    struct AgencyModel {
        var spec: Profile.Agency
        var board: UnitModel
        var desk: UnitModel?
        var divisions: [UnitModel]
        var director: String
        var units: [UnitModel] { [board] + (desk.map { [$0] } ?? []) + divisions }
    }

    /// Builds the org chart of the profile.
    func organisation() -> (agencies: [AgencyModel], people: [String: Person]) {
        var people = [String: Person]()
        var agencies = [AgencyModel]()
        for spec in profile.agencies {
            var n = 0
            func next() -> String {
                n += 1
                return "\(spec.id.lowercased())-\(n < 10 ? "00" : n < 100 ? "0" : "")\(n)"
            }
            func cap(_ size: Int) -> Int { max(1, size * spec.ratio.0 / spec.ratio.1) }
            let director = next()
            let deputies = [next(), next()]
            people[director] = Person(id: director, unit: "\(spec.id).LD", agency: spec.id, position: "director",
                                      leader: true, head: nil)
            for d in deputies {
                people[d] = Person(id: d, unit: "\(spec.id).LD", agency: spec.id, position: "deputy", leader: true,
                                   head: director)
            }
            let board = UnitModel(id: "\(spec.id).LD", agency: spec.id, name: "Lãnh đạo", desk: false,
                                  members: [director] + deputies, head: director, cap: cap(3))
            var desk: UnitModel?
            if spec.deskSize > 0 {
                let members = (0..<spec.deskSize).map { _ in next() }
                for (i, m) in members.enumerated() {
                    people[m] = Person(id: m, unit: "\(spec.id).MC", agency: spec.id, position: "one-stop officer",
                                       leader: false, head: i == 0 ? director : members[0])
                }
                desk = UnitModel(id: "\(spec.id).MC", agency: spec.id, name: "Bộ phận một cửa", desk: true,
                                 members: members, head: director, cap: cap(members.count))
            }
            var divisions = [UnitModel]()
            for (i, division) in spec.divisions.enumerated() {
                let id = "\(spec.id).P\(i + 1)"
                let members = (0..<division.size).map { _ in next() }
                for (j, m) in members.enumerated() {
                    people[m] = Person(id: m, unit: id, agency: spec.id, position: j == 0 ? "head" : "specialist",
                                       leader: j == 0, head: j == 0 ? director : members[0])
                }
                divisions.append(UnitModel(id: id, agency: spec.id, name: division.name, desk: false, members: members,
                                           head: members[0], cap: cap(members.count)))
            }
            agencies.append(AgencyModel(spec: spec, board: board, desk: desk, divisions: divisions, director: director))
        }
        return (agencies, people)
    }

    // MARK: - Generation

    /// The working days simulated.
    public var workingDays: [CivilDate] {
        var out = [CivilDate]()
        var d = start
        while out.count < days {
            if calendar.isWorkingDay(d) { out.append(d) }
            d = d.adding(days: 1)
        }
        return out
    }

    /// Every command, in time order.
    public func generate() -> [GeneratedCommand] {
        var run = Run(generator: self)
        run.generate()
        return run.commands.sorted { ($0.at, $0.seq) < ($1.at, $1.seq) }
    }

    /// The commands as NDJSON (one envelope per line, with its expectation).
    public func ndjson() -> Data {
        var out = Data()
        for c in generate() {
            out.append(contentsOf: c.jsonLine(utcOffset: calendar.utcOffset).utf8)
            out.append(0x0A)
        }
        return out
    }
}
