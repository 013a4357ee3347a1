import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension Store {
    /// Validates an append and encodes its payloads on the calling task.
    func prepare(_ appends: [StreamAppend], durability: Durability) throws(StoreError) -> PreparedAppend {
        guard !appends.isEmpty else { throw StoreError(.invalidArgument, "an append names no stream") }
        var seenStreams = Set<String>()
        var seenIDs = Set<UUID>()
        var prepared = [PreparedStream]()
        prepared.reserveCapacity(appends.count)
        var total = 0
        let partCount = appends.reduce(0) { $0 + $1.events.count * 2 }
        var salts = [UInt8](repeating: 0, count: partCount * StoredPart.saltLength)
        salts.withUnsafeMutableBytes { fillRandom($0) }
        var saltIndex = 0
        func nextSalt() -> [UInt8] {
            defer { saltIndex += 1 }
            let start = saltIndex * StoredPart.saltLength
            return Array(salts[start..<(start + StoredPart.saltLength)])
        }
        var plainParts = 0
        for append in appends {
            try Self.validateStreamName(append.stream)
            guard seenStreams.insert(append.stream).inserted else {
                throw StoreError(.invalidArgument, "stream \"\(append.stream)\" is named twice in one append; "
                    + "put all its events and one expectation in a single StreamAppend", stream: append.stream)
            }
            var events = [PreparedEvent]()
            events.reserveCapacity(append.events.count)
            for event in append.events {
                let id = event.id ?? UUID.v7()
                guard seenIDs.insert(id).inserted else {
                    throw StoreError(.idempotencyConflict, "event id \(id) appears twice in one append; "
                        + "give every event its own id", stream: append.stream)
                }
                try Self.validateName(event.type, "event type", minimum: 1)
                try Self.validateName(event.actor, "actor", minimum: 0)
                let personal = event.personal.flatMap { $0.isEmpty ? nil : $0 }
                for (part, name) in [(event.facts, "facts"), (personal ?? [], "personal")]
                where part.count > options.maxPartBytes {
                    throw StoreError(.eventTooLarge, "the \(name) part of a \(event.type) event is \(part.count) bytes; "
                        + "the limit is \(options.maxPartBytes) bytes per part", stream: append.stream)
                }
                let metadataBytes = try event.metadata.encoded()
                let facts = try StoredPart.encode(event.facts, salt: nextSalt(), codec: codec)
                let personalPart = try personal.map { (p) throws(StoreError) in
                    try StoredPart.encode(p, salt: nextSalt(), codec: codec)
                }
                if codec.currentDictionary == nil { plainParts += personal == nil ? 1 : 2 }
                events.append(PreparedEvent(
                    id: id, type: event.type, actor: event.actor, metadata: event.metadata,
                    metadataBytes: metadataBytes, correlationID: event.correlationID, causationID: event.causationID,
                    leafType: event.leafType, facts: event.facts, personal: personal, factsStored: facts.stored,
                    factsCommitment: facts.commitment, personalStored: personalPart?.stored,
                    personalCommitment: personalPart?.commitment))
            }
            total += events.count
            prepared.append(PreparedStream(
                stream: append.stream, expected: append.expected, category: EventRecord.category(of: append.stream),
                events: events))
        }
        if plainParts > 0 { noteUndictionariedParts(plainParts) }
        return PreparedAppend(streams: prepared, eventCount: total, durability: durability)
    }

    static func validateStreamName(_ name: String) throws(StoreError) {
        try validateName(name, "stream name", minimum: 1)
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
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
