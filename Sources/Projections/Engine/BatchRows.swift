import EventStore

/// The rows a projection changes while it folds one batch, kept decoded and written back once when the batch ends:
/// a dossier touched by five events in a batch is read and decoded once and encoded and written once, instead of five
/// times each. Reads through it see its own writes; anything read straight from the transaction must not be a row
/// it holds (a projection uses it for whole databases).
final class BatchRows<Row> {
    private struct Key: Hashable {
        let dbi: StateDatabase
        let key: [UInt8]

        func hash(into hasher: inout Hasher) {
            hasher.combine(dbi)
            key.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    private let decode: ([UInt8]) throws -> Row
    private let encode: (Row) -> [UInt8]
    private var rows: [Key: Row] = [:]
    private var dirty: [Key] = []

    init(decode: @escaping ([UInt8]) throws -> Row, encode: @escaping (Row) -> [UInt8]) {
        self.decode = decode
        self.encode = encode
    }

    /// The row under `key`: the batch's copy, else the stored one, else `nil`.
    func get(_ db: StateDatabase, _ key: [UInt8], _ txn: borrowing StateTransaction) throws -> Row? {
        if let row = rows[Key(dbi: db, key: key)] { return row }
        return try txn.get(db, key: key).map(decode)
    }

    /// Replaces the row under `key` until ``flush(_:)``.
    func set(_ db: StateDatabase, _ key: [UInt8], _ row: Row) {
        let k = Key(dbi: db, key: key)
        if rows.updateValue(row, forKey: k) == nil { dirty.append(k) }
    }

    /// Every row changed in the batch, in first-change order, as they stand now.
    var changed: [(db: StateDatabase, key: [UInt8], row: Row)] {
        dirty.map { ($0.dbi, $0.key, rows[$0]!) }
    }

    /// Writes every changed row and forgets them.
    func flush(_ txn: borrowing StateTransaction) throws {
        for k in dirty { try txn.put(k.dbi, key: k.key, value: encode(rows[k]!)) }
        rows.removeAll(keepingCapacity: true)
        dirty.removeAll(keepingCapacity: true)
    }
}
