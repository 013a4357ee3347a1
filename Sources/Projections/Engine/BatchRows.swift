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
    /// Each row as it was stored before the batch (`nil` when absent), for those read from the transaction.
    private var stored: [Key: Row?] = [:]
    private var dirty: [Key] = []

    init(decode: @escaping ([UInt8]) throws -> Row, encode: @escaping (Row) -> [UInt8]) {
        self.decode = decode
        self.encode = encode
    }

    /// The row under `key`: the batch's copy, else the stored one, else `nil`.
    func get(_ db: StateDatabase, _ key: [UInt8], _ txn: borrowing StateTransaction) throws -> Row? {
        let k = Key(dbi: db, key: key)
        if let row = rows[k] { return row }
        if let row = stored[k] { return row }
        let row = try txn.get(db, key: key).map(decode)
        stored[k] = .some(row)
        return row
    }

    /// Replaces the row under `key` until ``flush(_:)``.
    func set(_ db: StateDatabase, _ key: [UInt8], _ row: Row) {
        let k = Key(dbi: db, key: key)
        if rows.updateValue(row, forKey: k) == nil { dirty.append(k) }
    }

    /// Every row changed in the batch, in first-change order: as it was stored before the batch (`nil` when new)
    /// and as it stands now.
    var changed: [(db: StateDatabase, key: [UInt8], before: Row?, row: Row)] {
        dirty.map { ($0.dbi, $0.key, stored[$0] ?? nil, rows[$0]!) }
    }

    /// Writes every changed row and forgets them.
    func flush(_ txn: borrowing StateTransaction) throws {
        for k in dirty { try txn.put(k.dbi, key: k.key, value: encode(rows[k]!)) }
        rows.removeAll(keepingCapacity: true)
        stored.removeAll(keepingCapacity: true)
        dirty.removeAll(keepingCapacity: true)
    }
}
