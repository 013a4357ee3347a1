import Foundation

/// An event made ready for the writer on the caller's task: validated, salted, committed and compressed, so the
/// writer thread only places bytes.
struct PreparedEvent: Sendable {
    let id: UUID
    let type: String
    let actor: String
    let metadata: Metadata
    let metadataBytes: [UInt8]
    let correlationID: UUID?
    let causationID: UUID?
    let leafType: LeafType
    /// The original parts, kept to compare a retry's content with what is stored.
    let facts: [UInt8]
    let personal: [UInt8]?
    let factsStored: [UInt8]
    let factsCommitment: [UInt8]
    let personalStored: [UInt8]?
    let personalCommitment: [UInt8]?
}

/// One stream's share of a prepared append.
struct PreparedStream: Sendable {
    let stream: String
    let expected: ExpectedVersion
    let category: String
    let events: [PreparedEvent]
}

/// A validated, encoded append waiting for the writer.
struct PreparedAppend: Sendable {
    let streams: [PreparedStream]
    let eventCount: Int
    let durability: Durability
}
