public import Foundation

/// A parsed record that borrows its bytes: the fields are located (and the layout checked) once, nothing is copied
/// until asked for. The hot paths (scans, verification, projection folds) use it instead of ``EventRecord``.
///
/// Valid only inside the closure that received it: the bytes point into the memory map.
///
/// ```swift
/// try store.scanRecords(from: 0) { view, facts, personal in
///     if view.eventTypeBytes.elementsEqual("DossierReceived.v1".utf8) { … }
///     return true
/// }
/// ```
public struct RecordView {
    /// The record's bytes (the Merkle leaf's content).
    public let bytes: UnsafeRawBufferPointer
    private let originAt: Int, streamAt: Int, typeAt: Int, actorAt: Int, metadataAt: Int, commitmentsAt: Int

    /// Locates every field and checks the layout: lengths, format, leaf type, commitment algorithm, no trailing
    /// bytes, and UTF-8 in the text fields.
    ///
    /// - Throws: ``StoreError/Code/corrupt`` naming the field.
    public init(_ bytes: UnsafeRawBufferPointer, position: UInt64? = nil) throws(StoreError) {
        self.bytes = bytes
        func fail(_ what: String, _ at: Int) -> StoreError {
            StoreError(corrupt: "record", position: position, detail: "\(what) at byte \(at)")
        }
        let n = bytes.count
        guard n >= 2 else { throw fail("format", 0) }
        guard bytes[0] == EventRecord.format else { throw fail("format \(bytes[0])", 0) }
        guard LeafType(rawValue: bytes[1]) != nil else { throw fail("leaf type \(bytes[1])", 1) }
        var at = 2
        func string8(_ what: String) throws(StoreError) -> Int {
            guard at < n, at + 1 + Int(bytes[at]) <= n else { throw fail(what, at) }
            let start = at
            at += 1 + Int(bytes[at])
            guard UTF8Text.isValid(UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<at]))
            else { throw fail(what, start) }
            return start
        }
        func skip(_ count: Int, _ what: String) throws(StoreError) {
            guard at + count <= n else { throw fail(what, at) }
            at += count
        }
        originAt = try string8("log origin")
        try skip(16, "position")
        streamAt = try string8("stream")
        try skip(16, "stream version")
        typeAt = try string8("event type")
        try skip(16, "event id")
        actorAt = try string8("actor")
        try skip(32, "correlation and causation ids")
        metadataAt = at
        guard at + 2 <= n else { throw fail("metadata", at) }
        let metadataLength = Int(bytes[at]) << 8 | Int(bytes[at + 1])
        try skip(2 + metadataLength, "metadata")
        commitmentsAt = at
        guard at + 73 == n else { throw fail(at + 73 < n ? "trailing bytes" : "commitments", at) }
        guard bytes[at] == EventRecord.commitmentAlgorithm else { throw fail("commitment algorithm \(bytes[at])", at) }
    }

    /// Where the fields lie, as located by ``init(_:position:)``: enough to view a byte-for-byte copy of the record
    /// without locating and checking them again (``init(copy:layout:)``).
    public struct Layout: Sendable, Hashable {
        let count: Int, originAt: Int, streamAt: Int, typeAt: Int, actorAt: Int, metadataAt: Int, commitmentsAt: Int
    }

    /// This record's layout.
    public var layout: Layout {
        Layout(count: bytes.count, originAt: originAt, streamAt: streamAt, typeAt: typeAt, actorAt: actorAt,
               metadataAt: metadataAt, commitmentsAt: commitmentsAt)
    }

    /// Views a copy of a record already parsed (e.g. copied out of its read transaction) with the layout found
    /// then: nothing is located or checked again. `copy` must be that record's bytes, byte for byte.
    public init(copy: UnsafeRawBufferPointer, layout: Layout) {
        precondition(copy.count == layout.count, "a record copy of \(copy.count) bytes, not \(layout.count)")
        bytes = copy
        originAt = layout.originAt
        streamAt = layout.streamAt
        typeAt = layout.typeAt
        actorAt = layout.actorAt
        metadataAt = layout.metadataAt
        commitmentsAt = layout.commitmentsAt
    }

    private func u64(_ at: Int) -> UInt64 { UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
    private func u32(_ at: Int) -> UInt32 { UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    private func field(_ at: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[(at + 1)..<(at + 1 + Int(bytes[at]))])
    }

    /// The kind of log entry.
    public var leafType: LeafType { LeafType(rawValue: bytes[1])! }
    /// The log origin's bytes.
    public var originBytes: UnsafeRawBufferPointer { field(originAt) }
    /// The global position.
    public var position: UInt64 { u64(streamAt - 16) }
    /// Microseconds since the epoch at commit.
    public var recordedAt: Int64 { Int64(bitPattern: u64(streamAt - 8)) }
    /// The stream name's bytes.
    public var streamBytes: UnsafeRawBufferPointer { field(streamAt) }
    /// The stream name.
    public var stream: String { String(decoding: streamBytes, as: UTF8.self) }
    /// The stream's category's bytes: the name up to its first `-` (``EventRecord/category(of:)``), without a copy.
    public var categoryBytes: UnsafeRawBufferPointer {
        let name = streamBytes
        return UnsafeRawBufferPointer(rebasing: name[..<(name.firstIndex(of: UInt8(ascii: "-")) ?? name.endIndex)])
    }
    /// The version in the stream.
    public var streamVersion: UInt64 { u64(typeAt - 16) }
    /// Position of the stream's previous event, or `nil`.
    public var previousPosition: UInt64? {
        let p = u64(typeAt - 8)
        return p == EventRecord.noPreviousPosition ? nil : p
    }
    /// The event type's bytes.
    public var eventTypeBytes: UnsafeRawBufferPointer { field(typeAt) }
    /// The event type.
    public var eventType: String { String(decoding: eventTypeBytes, as: UTF8.self) }
    /// The event id.
    public var eventID: UUID { UUID(bytes: UnsafeRawBufferPointer(rebasing: bytes[(actorAt - 16)..<actorAt])) }
    /// The actor's bytes.
    public var actorBytes: UnsafeRawBufferPointer { field(actorAt) }
    /// The canonical metadata bytes (without their length prefix).
    public var metadataBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[(metadataAt + 2)..<commitmentsAt])
    }
    /// The value of a metadata key as text, or `nil`.
    public func metadataValue(_ key: String) -> String? {
        let tlv = metadataBytes
        var at = 0
        while at < tlv.count {
            let k = Int(tlv[at])
            guard at + 3 + k <= tlv.count else { return nil }
            let keyBytes = UnsafeRawBufferPointer(rebasing: tlv[(at + 1)..<(at + 1 + k)])
            let v = Int(tlv[at + 1 + k]) << 8 | Int(tlv[at + 2 + k])
            let valueAt = at + 3 + k
            guard valueAt + v <= tlv.count else { return nil }
            if keyBytes.elementsEqual(key.utf8) {
                return String(decoding: UnsafeRawBufferPointer(rebasing: tlv[valueAt..<(valueAt + v)]), as: UTF8.self)
            }
            at = valueAt + v
        }
        return nil
    }

    /// `SHA-256(salt ‖ facts)`.
    public var factsCommitment: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[(commitmentsAt + 1)..<(commitmentsAt + 33)])
    }
    /// Length of the facts part.
    public var factsLength: UInt32 { u32(commitmentsAt + 33) }
    /// `SHA-256(salt ‖ personal)`, or `nil` without a personal part.
    public var personalCommitment: UnsafeRawBufferPointer? {
        let c = UnsafeRawBufferPointer(rebasing: bytes[(commitmentsAt + 37)..<(commitmentsAt + 69)])
        return personalLength == 0 && c.allSatisfy({ $0 == 0 }) ? nil : c
    }
    /// Length of the personal part (0 without one).
    public var personalLength: UInt32 { u32(commitmentsAt + 69) }

    /// The fully decoded record (copies every field).
    public func record() throws(StoreError) -> EventRecord { try EventRecord(buffer: bytes, expectedPosition: position) }
}
