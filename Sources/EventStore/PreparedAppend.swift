import Foundation

/// An event made ready for the writer on the caller's task: validated, salted, committed and compressed, so the
/// writer thread only places bytes. A class, so the writer's loops pass one reference instead of a dozen.
final class PreparedEvent: Sendable {
    let id: UUID
    let type: String
    let metadata: Metadata
    /// The encoded record with zeros where the writer fills in position, time, version and previous position.
    let record: [UInt8]
    let offsets: (position: Int, version: Int)
    /// The original parts, kept to compare a retry's content with what is stored.
    let facts: [UInt8]
    let personal: [UInt8]?
    /// The stored parts (header, salt, body).
    let factsStored: [UInt8]
    let personalStored: [UInt8]?
    /// The data subject whose key encrypts the personal part (metadata `subject`), if any.
    let subject: UUID?

    init(id: UUID, type: String, metadata: Metadata, record: [UInt8], offsets: (position: Int, version: Int),
         facts: [UInt8], personal: [UInt8]?, factsStored: [UInt8], personalStored: [UInt8]?, subject: UUID?) {
        self.id = id
        self.type = type
        self.metadata = metadata
        self.record = record
        self.offsets = offsets
        self.facts = facts
        self.personal = personal
        self.factsStored = factsStored
        self.personalStored = personalStored
        self.subject = subject
    }
}

/// One stream's share of a prepared append.
struct PreparedStream: Sendable {
    let stream: String
    /// The name as the writer's cache key.
    let key: StreamKey
    let expected: ExpectedVersion
    let category: String
    /// Indexes of its events in the append's ``PreparedAppend/feed`` (and `ids`, `subjects`).
    let events: Range<Int>
}

/// A validated append waiting for the writer, its events encoded already or being encoded into its feed.
struct PreparedAppend: Sendable {
    let streams: [PreparedStream]
    /// Every event's id and personal-data subject, known before any is encoded: the writer checks retries and
    /// erased subjects before it waits for the encoded events.
    let ids: [UUID]
    let subjects: [UUID?]
    let feed: EncodedEventFeed
    var eventCount: Int { ids.count }
    let durability: Durability
    /// Whether the events are still being encoded when the append is queued: the writer then gives it a
    /// transaction of its own, so a failure to encode it fails it alone.
    let streamed: Bool
    /// For an erasure: the subject whose key and personal parts go in the same transaction.
    var erasure: UUID? = nil
}
