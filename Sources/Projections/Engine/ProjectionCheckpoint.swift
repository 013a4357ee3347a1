public import EventStore

/// Where a projection stands in the log, kept in the state store in the same transaction as the projection's
/// state, so a crash can neither skip nor double-apply an event.
///
/// ```swift
/// try state.write { txn in
///     // … fold events into the projection's databases …
///     try ProjectionCheckpoint(name: "queues", version: 1, position: last + 1).save(in: state["checkpoints"], txn)
/// }
/// ```
public struct ProjectionCheckpoint: Sendable, Hashable {
    /// The projection's name.
    public var name: String
    /// The projection's code version; a new version rebuilds from zero.
    public var version: UInt32
    /// The next log position to fold (= number of events applied).
    public var position: UInt64

    /// Creates a checkpoint.
    public init(name: String, version: UInt32, position: UInt64) {
        self.name = name
        self.version = version
        self.position = position
    }

    /// Writes the checkpoint in `txn` (the caller's state transaction).
    public func save(in db: StateDatabase, _ txn: borrowing StateTransaction) throws {
        var value = [UInt8]()
        withUnsafeBytes(of: version.bigEndian) { value.append(contentsOf: $0) }
        withUnsafeBytes(of: position.bigEndian) { value.append(contentsOf: $0) }
        try txn.put(db, key: Array(name.utf8), value: value)
    }

    /// Reads the checkpoint of `name`, or `nil` when the projection never ran.
    public static func load(_ name: String, in db: StateDatabase, _ txn: borrowing StateTransaction) throws
        -> ProjectionCheckpoint?
    {
        guard let value = try txn.get(db, key: Array(name.utf8)) else { return nil }
        guard value.count == 12 else {
            throw StoreError(.corrupt, "the checkpoint of projection \(name) is \(value.count) bytes, not 12; "
                + "rebuild the projection")
        }
        let version = value[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let position = value[4..<12].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return ProjectionCheckpoint(name: name, version: version, position: position)
    }
}
