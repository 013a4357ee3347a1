import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension Store {
    /// Validates an append and encodes its records and payload parts on the calling task (both cores for a
    /// large append), so the writer thread only patches positions in and puts bytes.
    func prepare(_ appends: [StreamAppend], durability: Durability) throws(StoreError) -> PreparedAppend {
        guard !appends.isEmpty else { throw StoreError(.invalidArgument, "an append names no stream") }
        // 1. Validate, name the events, and list the parts to encode.
        var seenStreams = Set<String>()
        var seenIDs = Set<UUID>()
        var ids = [[UUID]]()
        var parts = [[UInt8]]()
        var personalFlags = [Bool]()
        for append in appends {
            try Self.validateStreamName(append.stream)
            guard seenStreams.insert(append.stream).inserted else {
                throw StoreError(.invalidArgument, "stream \"\(append.stream)\" is named twice in one append; "
                    + "put all its events and one expectation in a single StreamAppend", stream: append.stream)
            }
            var streamIDs = [UUID]()
            for event in append.events {
                let id = event.id ?? UUID.v7()
                guard seenIDs.insert(id).inserted else {
                    throw StoreError(.idempotencyConflict, "event id \(id) appears twice in one append; "
                        + "give every event its own id", stream: append.stream)
                }
                streamIDs.append(id)
                try Self.validateName(event.type, "event type", minimum: 1)
                try Self.validateName(event.actor, "actor", minimum: 0)
                let personal = event.personal.flatMap { $0.isEmpty ? nil : $0 }
                for (part, name) in [(event.facts, "facts"), (personal ?? [], "personal")]
                where part.count > options.maxPartBytes {
                    throw StoreError(.eventTooLarge, "the \(name) part of a \(event.type) event is \(part.count) bytes; "
                        + "the limit is \(options.maxPartBytes) bytes per part", stream: append.stream)
                }
                parts.append(event.facts)
                personalFlags.append(personal != nil)
                if let personal { parts.append(personal) }
            }
            ids.append(streamIDs)
        }

        // 2. Salt, commit and compress every part.
        let encoded = try encodeParts(parts)
        noteEncodedParts(parts.reduce(0) { $0 + ($1.isEmpty ? 0 : 1) })

        // 3. Assemble the records.
        let correlation = ids.first { !$0.isEmpty }?.first
        var prepared = [PreparedStream]()
        prepared.reserveCapacity(appends.count)
        var partIndex = 0
        var eventIndex = 0
        var total = 0
        let originLength = origin.utf8.count
        for (append, streamIDs) in zip(appends, ids) {
            let offsets = EventRecord.writerOffsets(originLength: originLength, streamLength: append.stream.utf8.count)
            var events = [PreparedEvent]()
            events.reserveCapacity(append.events.count)
            for (event, id) in zip(append.events, streamIDs) {
                let facts = encoded[partIndex]
                let personal = personalFlags[eventIndex] ? encoded[partIndex + 1] : nil
                partIndex += personal == nil ? 1 : 2
                eventIndex += 1
                let record = EventRecord(
                    leafType: event.leafType, origin: origin, position: 0, recordedAt: 0, stream: append.stream,
                    streamVersion: 0, previousPosition: 0, eventType: event.type, eventID: id, actor: event.actor,
                    correlationID: event.correlationID ?? correlation ?? id, causationID: event.causationID,
                    metadata: event.metadata, factsCommitment: facts.commitment, factsLength: UInt32(event.facts.count),
                    personalCommitment: personal?.commitment, personalLength: UInt32(event.personal?.count ?? 0))
                events.append(PreparedEvent(
                    id: id, type: event.type, actor: event.actor, metadata: event.metadata, leafType: event.leafType,
                    record: try record.encoded(), offsets: offsets, facts: event.facts,
                    personal: personal == nil ? nil : event.personal, factsStored: facts.stored,
                    factsCommitment: facts.commitment, personalStored: personal?.stored,
                    personalCommitment: personal?.commitment))
            }
            total += events.count
            prepared.append(PreparedStream(
                stream: append.stream, expected: append.expected, category: EventRecord.category(of: append.stream),
                events: events))
        }
        return PreparedAppend(streams: prepared, eventCount: total, durability: durability)
    }

    /// Encodes parts with fresh salts, splitting large appends over two threads.
    private func encodeParts(_ parts: [[UInt8]]) throws(StoreError) -> [(stored: [UInt8], commitment: [UInt8])] {
        var random = [UInt8](repeating: 0, count: parts.count * StoredPart.saltLength)
        random.withUnsafeMutableBytes { fillRandom($0) }
        let salts = random
        let codec = self.codec
        @Sendable func encode(_ i: Int) throws(StoreError) -> (stored: [UInt8], commitment: [UInt8]) {
            let start = i * StoredPart.saltLength
            return try StoredPart.encode(parts[i], salt: Array(salts[start..<(start + StoredPart.saltLength)]),
                                         codec: codec)
        }
        guard parts.count >= 128 else {
            var out = [(stored: [UInt8], commitment: [UInt8])]()
            out.reserveCapacity(parts.count)
            for i in parts.indices { out.append(try encode(i)) }
            return out
        }
        let slices = 2
        let results = Mutex<[Int: Result<[(stored: [UInt8], commitment: [UInt8])], StoreError>]>([:])
        DispatchQueue.concurrentPerform(iterations: slices) { slice in
            let range = (slice * parts.count / slices)..<((slice + 1) * parts.count / slices)
            let result = Result { () throws(StoreError) in try range.map { (i) throws(StoreError) in try encode(i) } }
            results.withLock { $0[slice] = result }
        }
        var out = [(stored: [UInt8], commitment: [UInt8])]()
        out.reserveCapacity(parts.count)
        for slice in 0..<slices {
            guard let result = results.withLock({ $0[slice] }) else { continue }
            out.append(contentsOf: try result.get())
        }
        return out
    }

    static func validateStreamName(_ name: String) throws(StoreError) {
        try validateName(name, "stream name", minimum: 1)
        // C0 controls, DEL, and C1 controls (UTF-8 C2 80…C2 9F).
        var previous: UInt8 = 0
        let hasControl = name.utf8.contains { byte in
            defer { previous = byte }
            return byte < 0x20 || byte == 0x7F || (previous == 0xC2 && (0x80...0x9F).contains(byte))
        }
        guard !hasControl else {
            throw StoreError(.invalidArgument, "stream name \"\(name)\" contains a control character", stream: name)
        }
        guard !name.hasPrefix("-") else {
            throw StoreError(.invalidArgument, "stream name \"\(name)\" starts with \"-\", leaving its category "
                + "empty; name it <category>-<id>", stream: name)
        }
    }

    static func validateName(_ value: String, _ what: String, minimum: Int) throws(StoreError) {
        let count = value.utf8.count
        guard count >= minimum, count <= 255 else {
            throw StoreError(.invalidArgument, "\(what) must be \(minimum)–255 bytes of UTF-8; \"\(value.prefix(40))\" "
                + "is \(count) bytes")
        }
    }
}

/// Fills a buffer from the kernel's CSPRNG (salts must be unpredictable, or a low-entropy part could be guessed
/// from its commitment). The corresponding C function is `arc4random_buf` (glibc: `getrandom` underneath).
func fillRandom(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress else { return }
    arc4random_buf(base, buffer.count)
}
