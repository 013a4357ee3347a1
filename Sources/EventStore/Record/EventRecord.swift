public import Foundation

/// One record of the log: the exact bytes that are stored and that become the Merkle leaf.
///
/// Layout (all integers big-endian; `b8`/`b16` are bytes with a u8/u16 length prefix), documented byte by byte in
/// ARCHITECTURE.md:
///
///     u8 format=1 · u8 leaf_type · b8 log_origin · u64 position · i64 recorded_at_µs · b8 stream ·
///     u64 stream_version · u64 previous_position_in_stream (2^64−1 if first) · b8 event_type · 16 event_id ·
///     b8 actor · 16 correlation_id · 16 causation_id (zeros if none) · b16 metadata (canonical TLV) ·
///     u8 commitment_alg=1 · 32 facts_commitment · u32 facts_length ·
///     32 personal_commitment · u32 personal_length (both zero if there is no personal part)
///
/// A commitment is `SHA-256(salt32 ‖ part bytes)`; the salts and parts are stored apart, so a personal part can be
/// erased without changing the record.
public struct EventRecord: Sendable, Hashable {
    /// The record format this code writes and reads.
    public static let format: UInt8 = 1
    /// The commitment algorithm: SHA-256 over a 32-byte salt and the part.
    public static let commitmentAlgorithm: UInt8 = 1
    /// `previous_position_in_stream` of a stream's first event.
    public static let noPreviousPosition = UInt64.max

    /// Entry kind in the tamper-evident log.
    public var leafType: LeafType
    /// The log's origin, fixed when the store was created.
    public var origin: String
    /// Global position, gapless from 0 (the Merkle leaf index).
    public var position: UInt64
    /// The server's clock at commit, microseconds since the Unix epoch; never decreasing within a store.
    public var recordedAt: Int64
    /// The stream's name.
    public var stream: String
    /// The event's version in its stream, from 1.
    public var streamVersion: UInt64
    /// Position of the stream's previous event, or `nil` for its first.
    public var previousPosition: UInt64?
    /// The event type, e.g. `DossierReceived.v1`.
    public var eventType: String
    /// The globally unique event id (idempotency key).
    public var eventID: UUID
    /// The acting official's pseudonymous id (never a name).
    public var actor: String
    /// Correlation id (the command or conversation the event belongs to).
    public var correlationID: UUID
    /// Causation id (the event or command that caused it), or `nil`.
    public var causationID: UUID?
    /// Canonical metadata.
    public var metadata: Metadata
    /// `SHA-256(salt ‖ facts)`.
    public var factsCommitment: [UInt8]
    /// Length of the facts part in bytes.
    public var factsLength: UInt32
    /// `SHA-256(salt ‖ personal)`, or `nil` when the event has no personal part.
    public var personalCommitment: [UInt8]?
    /// Length of the personal part (0 when there is none).
    public var personalLength: UInt32

    /// Creates a record from its fields.
    public init(
        leafType: LeafType, origin: String, position: UInt64, recordedAt: Int64, stream: String,
        streamVersion: UInt64, previousPosition: UInt64?, eventType: String, eventID: UUID, actor: String,
        correlationID: UUID, causationID: UUID?, metadata: Metadata, factsCommitment: [UInt8], factsLength: UInt32,
        personalCommitment: [UInt8]?, personalLength: UInt32
    ) {
        self.leafType = leafType
        self.origin = origin
        self.position = position
        self.recordedAt = recordedAt
        self.stream = stream
        self.streamVersion = streamVersion
        self.previousPosition = previousPosition
        self.eventType = eventType
        self.eventID = eventID
        self.actor = actor
        self.correlationID = correlationID
        self.causationID = causationID
        self.metadata = metadata
        self.factsCommitment = factsCommitment
        self.factsLength = factsLength
        self.personalCommitment = personalCommitment
        self.personalLength = personalLength
    }

    /// The category: the stream name before its first `-` (the whole name when it has none).
    public var category: String { Self.category(of: stream) }

    /// The category of a stream name.
    public static func category(of stream: String) -> String {
        if let dash = stream.utf8.firstIndex(of: UInt8(ascii: "-")) {
            return String(stream[..<dash])
        }
        return stream
    }

    // MARK: - Encoding

    /// The record's bytes, exactly as stored and hashed.
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` when a field does not fit its length prefix.
    public func encoded() throws(StoreError) -> [UInt8] {
        try Self.checkLength(origin, "log origin", 1)
        try Self.checkLength(stream, "stream name", 1)
        try Self.checkLength(eventType, "event type", 1)
        try Self.checkLength(actor, "actor", 0)
        guard factsCommitment.count == 32, personalCommitment?.count ?? 32 == 32 else {
            throw StoreError(.invalidArgument, "a commitment must be 32 bytes")
        }
        let metadataSize = try metadata.validate()
        var w = ByteWriter(capacity: 200 + stream.utf8.count + eventType.utf8.count + metadataSize)
        w.u8(Self.format)
        w.u8(leafType.rawValue)
        w.b8(origin)
        w.u64(position)
        w.i64(recordedAt)
        w.b8(stream)
        w.u64(streamVersion)
        w.u64(previousPosition ?? Self.noPreviousPosition)
        w.b8(eventType)
        w.uuid(eventID)
        w.b8(actor)
        w.uuid(correlationID)
        w.uuid(causationID ?? .zero)
        metadata.write(into: &w, size: metadataSize)
        w.u8(Self.commitmentAlgorithm)
        w.raw(factsCommitment)
        w.u32(factsLength)
        if let personalCommitment { w.raw(personalCommitment) } else { w.zeros(32) }
        w.u32(personalCommitment == nil ? 0 : personalLength)
        return w.bytes
    }

    /// Encodes a record to be appended, with zeros where the writer fills in position, recorded_at, stream version
    /// and previous position; returns the bytes and the offsets of those fields. The caller validated the lengths.
    static func template(
        origin: String, stream: String, event: EventData, id: UUID, correlationID: UUID, metadataSize: Int,
        factsCommitment: [UInt8], personalCommitment: [UInt8]?, personalLength: Int
    ) -> (bytes: [UInt8], offsets: (position: Int, version: Int)) {
        var w = ByteWriter(capacity: 200 + stream.utf8.count + event.type.utf8.count + metadataSize)
        w.u8(format)
        w.u8(event.leafType.rawValue)
        w.b8(origin)
        w.zeros(16)
        w.b8(stream)
        w.zeros(16)
        w.b8(event.type)
        w.uuid(id)
        w.b8(event.actor)
        w.uuid(correlationID)
        w.uuid(event.causationID ?? .zero)
        event.metadata.write(into: &w, size: metadataSize)
        w.u8(commitmentAlgorithm)
        w.raw(factsCommitment)
        w.u32(UInt32(event.facts.count))
        if let personalCommitment { w.raw(personalCommitment) } else { w.zeros(32) }
        w.u32(UInt32(personalLength))
        return (w.bytes, writerOffsets(originLength: origin.utf8.count, streamLength: stream.utf8.count))
    }

    /// Byte offsets of the fields the writer fills in (position, then recorded_at; stream version, then previous
    /// position) in a record whose origin and stream have these UTF-8 lengths.
    static func writerOffsets(originLength: Int, streamLength: Int) -> (position: Int, version: Int) {
        let position = 3 + originLength
        return (position, position + 16 + 1 + streamLength)
    }

    /// Fills the writer's fields into an encoded record (see ``writerOffsets(originLength:streamLength:)``).
    static func patch(_ bytes: inout [UInt8], offsets: (position: Int, version: Int), position: UInt64,
                      recordedAt: Int64, streamVersion: UInt64, previousPosition: UInt64?) {
        bytes.withUnsafeMutableBytes { b in
            b.storeBytes(of: position.bigEndian, toByteOffset: offsets.position, as: UInt64.self)
            b.storeBytes(of: recordedAt.bigEndian, toByteOffset: offsets.position + 8, as: Int64.self)
            b.storeBytes(of: streamVersion.bigEndian, toByteOffset: offsets.version, as: UInt64.self)
            b.storeBytes(of: (previousPosition ?? noPreviousPosition).bigEndian, toByteOffset: offsets.version + 8,
                         as: UInt64.self)
        }
    }

    private static func checkLength(_ value: String, _ what: String, _ minimum: Int) throws(StoreError) {
        let count = value.utf8.count
        guard count >= minimum, count <= 255 else {
            throw StoreError(.invalidArgument, "\(what) must be \(minimum)–255 bytes of UTF-8, not \(count)")
        }
    }

    // MARK: - Decoding

    /// Parses stored record bytes.
    ///
    /// - Throws: ``StoreError/Code/corrupt`` naming the field when the bytes are not a well-formed record of a
    ///   known format.
    public init(bytes: [UInt8]) throws(StoreError) {
        self = try bytes.withUnsafeBytes { buffer in
            Result { () throws(StoreError) in try EventRecord(buffer: buffer) }
        }.get()
    }

    init(buffer: UnsafeRawBufferPointer, expectedPosition: UInt64? = nil) throws(StoreError) {
        do throws(ByteReader.Malformed) {
            var r = ByteReader(buffer)
            let format = try r.u8("format")
            guard format == Self.format else {
                throw ByteReader.Malformed(what: "format \(format) (this program reads format \(Self.format))",
                                           offset: 0)
            }
            let leaf = try r.u8("leaf type")
            guard let leafType = LeafType(rawValue: leaf) else {
                throw ByteReader.Malformed(what: "leaf type \(leaf)", offset: 1)
            }
            self.leafType = leafType
            origin = try r.string8("log origin")
            position = try r.u64("position")
            recordedAt = try r.i64("recorded_at")
            stream = try r.string8("stream")
            streamVersion = try r.u64("stream version")
            let previous = try r.u64("previous position")
            previousPosition = previous == Self.noPreviousPosition ? nil : previous
            eventType = try r.string8("event type")
            eventID = UUID(bytes: try r.bytes(16, "event id"))
            actor = try r.string8("actor")
            correlationID = UUID(bytes: try r.bytes(16, "correlation id"))
            let causation = UUID(bytes: try r.bytes(16, "causation id"))
            causationID = causation == .zero ? nil : causation
            metadata = try Metadata(canonical: try r.b16("metadata"))
            let alg = try r.u8("commitment algorithm")
            guard alg == Self.commitmentAlgorithm else {
                throw ByteReader.Malformed(what: "commitment algorithm \(alg)", offset: r.offset - 1)
            }
            factsCommitment = Array(try r.bytes(32, "facts commitment"))
            factsLength = try r.u32("facts length")
            let personal = Array(try r.bytes(32, "personal commitment"))
            personalLength = try r.u32("personal length")
            personalCommitment = personal.allSatisfy { $0 == 0 } && personalLength == 0 ? nil : personal
            guard r.isAtEnd else { throw ByteReader.Malformed(what: "trailing bytes", offset: r.offset) }
        } catch {
            throw StoreError(corrupt: "record", position: expectedPosition,
                             detail: "\(error.what) at byte \(error.offset)")
        }
    }
}
