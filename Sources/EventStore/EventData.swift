public import Foundation

/// An event to append: what the caller decides; the store adds position, version, time and commitments.
///
/// ```swift
/// let event = EventData(type: "DossierReceived.v1", facts: factsBytes, personal: nameBytes,
///                       actor: "staff-0042", metadata: Metadata(["principal": "clerk01", "role": "clerk"]))
/// ```
public struct EventData: Sendable, Hashable {
    /// The idempotency key. Send a UUIDv7; the store makes one when `nil`.
    public var id: UUID?
    /// The event type, 1–255 bytes of UTF-8, e.g. `DossierReceived.v1`.
    public var type: String
    /// Business fields (never erased).
    public var facts: [UInt8]
    /// What identifies a data subject, or `nil`; the only part erasure removes. An empty part counts as none.
    public var personal: [UInt8]?
    /// The acting official's pseudonymous id, 0–255 bytes.
    public var actor: String
    /// Canonical metadata (principal, role, unit, …).
    public var metadata: Metadata
    /// The correlation id; `nil` uses the id of the append's first event.
    public var correlationID: UUID?
    /// The causation id, or `nil`.
    public var causationID: UUID?
    /// The kind of log entry (domain events by default).
    public var leafType: LeafType

    /// Creates an event to append.
    public init(
        id: UUID? = nil, type: String, facts: [UInt8], personal: [UInt8]? = nil, actor: String = "",
        metadata: Metadata = Metadata(), correlationID: UUID? = nil, causationID: UUID? = nil,
        leafType: LeafType = .event
    ) {
        self.id = id
        self.type = type
        self.facts = facts
        self.personal = personal
        self.actor = actor
        self.metadata = metadata
        self.correlationID = correlationID
        self.causationID = causationID
        self.leafType = leafType
    }
}

/// One stream's share of an atomic append: its expectation and its events (possibly none, to guard an
/// invariant that only read the stream).
public struct StreamAppend: Sendable, Hashable {
    /// The stream name: 1–255 bytes of UTF-8 without control characters. Its category is the part before the
    /// first `-`.
    public var stream: String
    /// What the stream's version must be for the append to happen.
    public var expected: ExpectedVersion
    /// The events to append to it, in order.
    public var events: [EventData]

    /// Creates one stream's share of an append.
    public init(stream: String, expected: ExpectedVersion = .any, events: [EventData]) {
        self.stream = stream
        self.expected = expected
        self.events = events
    }
}

/// How an append is made durable (design.md).
public enum Durability: Sendable, Hashable {
    /// Acknowledged after the commit's fsync: survives a power cut.
    case durable
    /// Acknowledged after the commit without fsync: survives `kill -9`, not a power cut; ``Store/sync()`` makes
    /// everything before it durable.
    case relaxed
}

/// What an append wrote.
public struct AppendResult: Sendable, Hashable {
    /// Positions of the appended events, in the order they were given (stream by stream).
    public var positions: [UInt64]
    /// True when every event id was already stored with the same content: nothing was written and the original
    /// positions are returned.
    public var wasRetry: Bool
    /// The commit time recorded in the events.
    public var recordedAt: Int64
    /// Each touched stream's version, in the append's order. Kept as a list so the writer thread, which builds it,
    /// hashes no stream names; ``streamVersions`` makes the dictionary on the reader's side.
    var versionList: [(stream: String, version: UInt64)]

    /// Each touched stream's version after the append (including streams named without events).
    public var streamVersions: [String: UInt64] {
        get { Dictionary(versionList, uniquingKeysWith: { $1 }) }
        set { versionList = newValue.map { (stream: $0.key, version: $0.value) } }
    }

    /// Creates a result.
    public init(positions: [UInt64], streamVersions: [String: UInt64], wasRetry: Bool, recordedAt: Int64) {
        self.init(positions: positions, versionList: streamVersions.map { (stream: $0.key, version: $0.value) },
                  wasRetry: wasRetry, recordedAt: recordedAt)
    }

    init(positions: [UInt64], versionList: [(stream: String, version: UInt64)], wasRetry: Bool, recordedAt: Int64) {
        self.positions = positions
        self.versionList = versionList
        self.wasRetry = wasRetry
        self.recordedAt = recordedAt
    }

    public static func == (a: AppendResult, b: AppendResult) -> Bool {
        a.positions == b.positions && a.wasRetry == b.wasRetry && a.recordedAt == b.recordedAt
            && a.streamVersions == b.streamVersions
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(positions)
        hasher.combine(wasRetry)
        hasher.combine(recordedAt)
        hasher.combine(streamVersions)
    }
}
