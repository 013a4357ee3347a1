public import EventStore
public import Ledger
import Foundation
import Synchronization

/// What users read (domain.md §4): the domain projections kept by a ``ProjectionRunner`` and the queries over them.
/// Time-dependent values (remaining working time, OVERDUE, DUE_SOON, open at a period's end) are computed at query
/// time from `asOf`, so the stored state never depends on the clock (design.md, "Clocks").
///
/// ```swift
/// let model = try ReadModel(store: store, statePath: dir + "/state")
/// try model.runner.catchUp()
/// let page = try model.queue(QueueFilter(agency: "HBC"), asOf: now)
/// ```
public final class ReadModel: Sendable {
    /// The projections every read model keeps.
    public static var projections: [any Projection] {
        [DossierRegister(), WorkItemRegister(), AttendanceRegister(), AuditTrail(), PortalSyncRegister()]
    }

    /// The runner that keeps them.
    public let runner: ProjectionRunner
    /// The log.
    public var store: Store { runner.store }
    /// The calendar dossiers are received under.
    public let calendarID: String
    private let cachedReference: Mutex<ReferenceData>

    /// Opens (or creates) the projection state at `statePath`.
    public init(store: Store, statePath: String, calendarID: String = "VN", batchSize: Int = 8_192) throws {
        runner = try ProjectionRunner(store: store, statePath: statePath, projections: Self.projections,
                                      batchSize: batchSize)
        self.calendarID = calendarID
        cachedReference = Mutex(ReferenceData())
    }

    /// The reference data in force (refreshed from the log).
    public func reference() throws -> ReferenceData {
        var copy = cachedReference.withLock { $0 }
        try copy.refresh(from: store)
        let fresh = copy
        cachedReference.withLock { if $0.position < fresh.position { $0 = fresh } }
        return copy
    }

    /// The working calendar of a calendar version (the latest when 0 or unknown).
    func calendar(_ reference: ReferenceData, version: Int = 0) -> WorkingCalendar {
        let versions = reference.calendars[calendarID] ?? []
        if versions.indices.contains(version - 1) { return versions[version - 1] }
        return versions.last ?? WorkingCalendar()
    }

    /// The databases of the version serving queries (the previous one while a new version rebuilds).
    func databases(_ projection: any Projection) -> ProjectionDatabases {
        runner.databases(of: projection, version: (try? runner.servingVersion(of: projection)) ?? nil)
    }

    /// Runs `body` in a read transaction of the state store that holds `projection`.
    func read<T>(_ projection: any Projection, _ body: (borrowing StateTransaction) throws -> T) throws -> T {
        try runner.state(of: projection).read(body)
    }

    /// Every dossier row, optionally of one agency, in id order.
    public func dossiers(agency: String? = nil) throws -> [DossierRow] {
        let db = databases(DossierRegister())["rows"]
        return try read(DossierRegister()) { txn in
            var rows = [DossierRow]()
            try txn.forEach(db) { _, value in
                let row = try DossierRow(bytes: value)
                if agency == nil || row.agency == agency { rows.append(row) }
                return true
            }
            return rows
        }
    }

    /// One dossier's row.
    public func dossier(_ id: String) throws -> DossierRow? {
        let db = databases(DossierRegister())["rows"]
        return try read(DossierRegister()) { txn in try txn.get(db, key: Array(id.lowercased().utf8)).map { try DossierRow(bytes: $0) } }
    }

    /// Rows of a projection's database whose key starts with `prefix`, decoded as field maps, with the key's rest.
    func rows(_ projection: any Projection, _ database: String, prefix: [UInt8], from: [UInt8] = [],
              through: [UInt8]? = nil) throws -> [(key: String, fields: [String: Facts.Value])]
    {
        let db = databases(projection)[database]
        return try read(projection) { txn in
            var out = [(String, [String: Facts.Value])]()
            try txn.forEach(db, from: prefix + from) { key, value in
                guard key.starts(with: prefix) else { return false }
                let rest = Array(key[prefix.count...])
                if let through, rest.lexicographicallyPrecedes(through) == false, rest != through { return false }
                out.append((String(decoding: rest, as: UTF8.self), try StateRows.decode(value)))
                return true
            }
            return out
        }
    }
}

/// A reporting period in Asia/Ho_Chi_Minh (design.md, "Times").
public enum Period: Hashable, Sendable, CustomStringConvertible {
    case day(CivilDate)
    case month(year: Int, month: Int)
    case quarter(year: Int, quarter: Int)
    case year(Int)
    /// An explicit range of days, both included.
    case days(CivilDate, CivilDate)

    /// The first and last local dates.
    public var dates: (first: CivilDate, last: CivilDate) {
        switch self {
        case .day(let d): return (d, d)
        case .month(let y, let m):
            let first = CivilDate(year: y, month: m, day: 1)!
            let next = m == 12 ? CivilDate(year: y + 1, month: 1, day: 1)! : CivilDate(year: y, month: m + 1, day: 1)!
            return (first, next.adding(days: -1))
        case .quarter(let y, let q):
            let first = CivilDate(year: y, month: 3 * (q - 1) + 1, day: 1)!
            let next = q == 4 ? CivilDate(year: y + 1, month: 1, day: 1)! : CivilDate(year: y, month: 3 * q + 1, day: 1)!
            return (first, next.adding(days: -1))
        case .year(let y): return (CivilDate(year: y, month: 1, day: 1)!, CivilDate(year: y, month: 12, day: 31)!)
        case .days(let a, let b): return (a, b)
        }
    }

    /// `[start, end)` as instants on `calendar`'s offset.
    public func bounds(_ calendar: WorkingCalendar) -> (start: Int64, end: Int64) {
        let (first, last) = dates
        return (calendar.instant(first, minute: 0), calendar.instant(last.adding(days: 1), minute: 0))
    }

    /// Parses `2020-04-03`, `2020-04`, `2020-Q2`, `2020`, or `2020-04-01..2020-04-15`.
    public init?(_ text: String) {
        if let r = text.range(of: "..") {
            guard let a = CivilDate(String(text[..<r.lowerBound])), let b = CivilDate(String(text[r.upperBound...])),
                  a <= b else { return nil }
            self = .days(a, b)
        } else if let d = CivilDate(text) {
            self = .day(d)
        } else if text.count == 7, let q = text.split(separator: "-Q").last.flatMap({ Int($0) }), text.contains("-Q"),
                  let y = Int(text.prefix(4)), (1...4).contains(q) {
            self = .quarter(year: y, quarter: q)
        } else if text.count == 7, let y = Int(text.prefix(4)), let m = Int(text.suffix(2)), (1...12).contains(m) {
            self = .month(year: y, month: m)
        } else if text.count == 4, let y = Int(text) {
            self = .year(y)
        } else {
            return nil
        }
    }

    /// A readable rendering.
    public var description: String {
        switch self {
        case .day(let d): "\(d)"
        case .month(let y, let m): "\(y)-\(m < 10 ? "0" : "")\(m)"
        case .quarter(let y, let q): "\(y)-Q\(q)"
        case .year(let y): "\(y)"
        case .days(let a, let b): "\(a)..\(b)"
        }
    }
}
