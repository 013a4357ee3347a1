/// An event read back from the store: its record and, when asked for, its payload parts.
public struct RecordedEvent: Sendable, Hashable {
    /// The record (the Merkle leaf's content).
    public var record: EventRecord
    /// The facts part, when payloads were read.
    public var facts: [UInt8]?
    /// The personal part, when payloads were read and the event has one that was not erased.
    public var personal: [UInt8]?

    /// Creates a recorded event.
    public init(record: EventRecord, facts: [UInt8]?, personal: [UInt8]?) {
        self.record = record
        self.facts = facts
        self.personal = personal
    }

    /// The global position.
    public var position: UInt64 { record.position }
}

/// Which payload parts a read decodes, ordered from least to most (`.none < .facts < .all`).
public enum PayloadSelection: Sendable, Hashable, Comparable {
    /// Records only.
    case none
    /// Facts only.
    case facts
    /// Facts and personal parts.
    case all
}

/// Reading order.
public enum ReadDirection: Sendable, Hashable {
    /// Ascending positions or versions.
    case forward
    /// Descending positions or versions.
    case backward
}

/// What the store knows of one stream.
public struct StreamInfo: Sendable, Hashable {
    /// The stream's name.
    public var name: String
    /// Its sequential number (assigned when the stream was created).
    public var number: UInt64
    /// Its last version (= its number of events).
    public var version: UInt64
    /// Position of its first event.
    public var firstPosition: UInt64
    /// Position of its last event.
    public var lastPosition: UInt64
    /// When its first event was recorded (µs since the epoch).
    public var createdAt: Int64

    /// Number of events (versions are contiguous from 1).
    public var count: UInt64 { version }
}
