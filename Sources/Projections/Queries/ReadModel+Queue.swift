import EventStore
import Ledger

/// Which queue to read: an agency, optionally one unit, one officer, one tab.
public struct QueueFilter: Hashable, Sendable {
    /// The agency's id.
    public var agency: String
    /// The unit's id.
    public var unit: String?
    /// The staff id of the official who holds it ("" when nobody).
    public var assignee: String?
    /// The queue tab.
    public var tab: QueueTab?

    /// A filter.
    public init(agency: String, unit: String? = nil, assignee: String? = nil, tab: QueueTab? = nil) {
        self.agency = agency
        self.unit = unit
        self.assignee = assignee
        self.tab = tab
    }
}

/// The flags derived at query time (domain.md §4.1).
public enum QueueFlag: String, Hashable, Sendable, CaseIterable, Comparable {
    case overdue = "OVERDUE", dueSoon = "DUE_SOON", paused = "PAUSED", apologyIssued = "APOLOGY_ISSUED"
    case secondSupplement = "SECOND_SUPPLEMENT"
    /// State-secret material: handled on site only.
    case confidential = "CONFIDENTIAL"

    /// Orders by the key fields.
    public static func < (a: QueueFlag, b: QueueFlag) -> Bool { a.rawValue < b.rawValue }
}

/// One line of a work queue.
public struct QueueItem: Hashable, Sendable {
    /// The dossier.
    public var row: DossierRow
    /// Working minutes left until the due instant at `asOf` (negative when overdue; the pause counts at its start).
    public var remainingWorkingMinutes: Int?
    /// The flags at `asOf`.
    public var flags: [QueueFlag]
}

extension ReadModel {
    /// A page of a work queue, ordered by unit, tab and due instant; `cursor` is the opaque cursor of the previous
    /// page's end.
    public func queue(_ filter: QueueFilter, asOf: Int64, limit: Int = 50, cursor: String? = nil) throws
        -> (items: [QueueItem], next: String?)
    {
        let reference = try reference()
        let dbs = databases(DossierRegister())
        var prefix = Array(filter.agency.utf8) + [0]
        if let unit = filter.unit {
            prefix += Array(unit.utf8) + [0]
            if let tab = filter.tab { prefix += Array(tab.rawValue.utf8) + [0] }
        }
        let start = cursor.flatMap { Self.decodeCursor($0) }.map { $0 + [0] } ?? prefix
        var ids = [[UInt8]]()
        var last: [UInt8]?
        var more = false
        try read(DossierRegister()) { txn in
            try txn.forEach(dbs["queue"], from: start) { key, _ in
                guard key.starts(with: prefix) else { return false }
                let parts = key.split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count == 4 else { return true }
                if let tab = filter.tab, !parts[2].elementsEqual(tab.rawValue.utf8) { return true }
                if ids.count == limit {
                    more = true
                    return false
                }
                ids.append(Array(parts[3].dropFirst(8)))
                last = Array(key)
                return true
            }
        }
        var items = [QueueItem]()
        try read(DossierRegister()) { txn in
            for id in ids {
                guard let bytes = try txn.get(dbs["rows"], key: id) else { continue }
                let row = try DossierRow(bytes: bytes)
                if let a = filter.assignee, row.assignee != a { continue }
                items.append(item(row, asOf: asOf, calendar: calendar(reference, version: row.calendarVersion)))
            }
        }
        return (items, more ? last.map(Self.encodeCursor) : nil)
    }

    /// A row with its time-derived values at `asOf`.
    func item(_ row: DossierRow, asOf: Int64, calendar: WorkingCalendar) -> QueueItem {
        var flags = [QueueFlag]()
        var remaining: Int?
        if let due = row.dueAt, row.finishedAt == nil, row.receivedAt != nil {
            let at = row.pausedSince ?? asOf
            remaining = at <= due ? calendar.workingMinutes(from: at, to: due) : -calendar.workingMinutes(from: due, to: at)
            if at > due { flags.append(.overdue) } else if remaining! <= calendar.minutesPerDay { flags.append(.dueSoon) }
        }
        if row.pausedSince != nil { flags.append(.paused) }
        if row.apologyAt != nil { flags.append(.apologyIssued) }
        if row.secondSupplement { flags.append(.secondSupplement) }
        if row.securityLevel != nil { flags.append(.confidential) }
        return QueueItem(row: row, remainingWorkingMinutes: remaining, flags: flags.sorted())
    }

    static func encodeCursor(_ key: [UInt8]) -> String { key.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }

    static func decodeCursor(_ text: String) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        var i = text.startIndex
        while i < text.endIndex {
            let j = text.index(i, offsetBy: 2)
            guard let b = UInt8(text[i..<j], radix: 16) else { return nil }
            out.append(b)
            i = j
        }
        return out
    }
}
