import EventStore
import Ledger

/// Small helpers the registers share: keys of `name 0 date`, rows as facts maps read and rewritten in place.
enum StateRows {
    /// `part 0 part 0 …` as key bytes.
    static func key(_ parts: String...) -> [UInt8] {
        var out = [UInt8]()
        for (i, p) in parts.enumerated() {
            if i > 0 { out.append(0) }
            out += Array(p.utf8)
        }
        return out
    }

    /// Reads the row under `key` as a dictionary of values, changes it and writes it back (fields in sorted key
    /// order, so equal states are equal bytes).
    static func update(_ db: StateDatabase, _ key: [UInt8], _ txn: borrowing StateTransaction,
                       _ change: (inout [String: Facts.Value]) -> Void) throws {
        var fields = try read(db, key, txn)
        change(&fields)
        try txn.put(db, key: key, value: encode(fields))
    }

    /// The row under `key` (empty when absent).
    static func read(_ db: StateDatabase, _ key: [UInt8], _ txn: borrowing StateTransaction) throws
        -> [String: Facts.Value]
    {
        guard let bytes = try txn.get(db, key: key) else { return [:] }
        return try decode(bytes)
    }

    static func decode(_ bytes: [UInt8]) throws -> [String: Facts.Value] {
        let entries = try Facts.decode(bytes) { r throws(Facts.DecodingError) in try r.entries() }
        return Dictionary(entries, uniquingKeysWith: { a, _ in a })
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> [String: Facts.Value] {
        try decode(Array(bytes))
    }

    static func encode(_ fields: [String: Facts.Value]) -> [UInt8] {
        var w = Facts.Writer()
        for (k, v) in fields.sorted(by: { $0.key < $1.key }) { w.field(k, value: v) }
        return w.finish()
    }
}

extension Dictionary where Key == String, Value == Facts.Value {
    /// An integer field (0 when absent).
    func int(_ key: String) -> Int {
        switch self[key] {
        case .int(let v)?: Int(v)
        case .instant(let v)?: Int(v)
        default: 0
        }
    }

    /// An instant field.
    func instant(_ key: String) -> Int64? {
        if case .instant(let v)? = self[key] { return v }
        return nil
    }

    /// A string field ("" when absent).
    func string(_ key: String) -> String {
        if case .string(let v)? = self[key] { return v }
        return ""
    }

    /// A boolean field (false when absent).
    func bool(_ key: String) -> Bool {
        if case .bool(let v)? = self[key] { return v }
        return false
    }

    /// A string-array field.
    func strings(_ key: String) -> [String] {
        guard case .array(let items)? = self[key] else { return [] }
        return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
    }

    /// Adds `n` to an integer field.
    mutating func add(_ key: String, _ n: Int = 1) { self[key] = .int(Int64(int(key) + n)) }
}

extension BatchRows where Row == [String: Facts.Value] {
    /// Field-map rows (``StateRows``): absent rows read as empty.
    convenience init() {
        self.init(decode: { try StateRows.decode($0) }, encode: StateRows.encode)
    }

    /// Reads the row under `key` (empty when absent), changes it and keeps it for the batch's end.
    func update(_ db: StateDatabase, _ key: [UInt8], _ txn: borrowing StateTransaction,
                _ change: (inout [String: Facts.Value]) -> Void) throws {
        var fields = try get(db, key, txn) ?? [:]
        change(&fields)
        set(db, key, fields)
    }
}
