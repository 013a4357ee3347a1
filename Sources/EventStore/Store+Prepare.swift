import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension Store {
    /// Validates an append and encodes its records and payload parts on the calling task (both cores for a
    /// large append), so the writer thread only patches positions in and puts bytes.
    func prepare(_ appends: [StreamAppend], durability: Durability, admin: Bool = false) throws(StoreError)
        -> PreparedAppend
    {
        guard !appends.isEmpty else { throw StoreError(.invalidArgument, "an append names no stream") }
        if !admin {
            // Admin entries (rollbacks, erasures) and attestations come only from the store's own operations.
            for append in appends {
                guard !Self.reservedStreams.contains(append.stream) else {
                    throw StoreError(.invalidArgument, "stream \"\(append.stream)\" is reserved for the store's own "
                        + "admin entries", stream: append.stream)
                }
                guard append.events.allSatisfy({ $0.leafType == .event }) else {
                    throw StoreError(.invalidArgument, "admin entries and attestations (leaf types 2 and 3) are written "
                        + "only by the store's own operations (erasure, rollback, attest)", stream: append.stream)
                }
            }
        }
        // 1. Validate everything and name the events (cheap, sequential).
        var seenStreams = Set<String>()
        var seenIDs = Set<UUID>()
        var jobs = [EncodingJob]()
        var parts = 0
        for (share, append) in appends.enumerated() {
            try Self.validateStreamName(append.stream)
            guard seenStreams.insert(append.stream).inserted else {
                throw StoreError(.invalidArgument, "stream \"\(append.stream)\" is named twice in one append; "
                    + "put all its events and one expectation in a single StreamAppend", stream: append.stream)
            }
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
                let metadataSize = try event.metadata.validate()
                var subject: UUID?
                if let text = event.metadata["subject"] {
                    guard let id = UUID(uuidString: text) else {
                        throw StoreError(.invalidArgument, "metadata subject \"\(text.prefix(40))\" is not a UUID; data "
                            + "subjects are named by pseudonymous UUIDs", stream: append.stream)
                    }
                    subject = id
                }
                jobs.append(EncodingJob(share: share, event: event, id: id, personal: personal, salt: parts,
                                        metadataSize: metadataSize, subject: personal == nil ? nil : subject))
                parts += personal == nil ? 1 : 2
            }
        }

        // 2. Salt, commit and compress every part and encode every record (two threads for large appends).
        var random = [UInt8](repeating: 0, count: parts * StoredPart.saltLength)
        random.withUnsafeMutableBytes { fillRandom($0) }
        let salts = random
        let correlation = jobs.first?.id
        let encoded = try encode(jobs, appends: appends, salts: salts, correlation: correlation)
        noteEncodedParts(jobs.reduce(0) { $0 + ($1.event.facts.isEmpty ? 0 : 1) + ($1.personal == nil ? 0 : 1) })

        // 3. Group the events by stream share.
        var byShare = [[PreparedEvent]](repeating: [], count: appends.count)
        for (job, event) in zip(jobs, encoded) { byShare[job.share].append(event) }
        let streams = zip(appends, byShare).map { append, events in
            PreparedStream(stream: append.stream, expected: append.expected,
                           category: EventRecord.category(of: append.stream), events: events)
        }
        return PreparedAppend(streams: streams, eventCount: jobs.count, durability: durability)
    }

    /// One event to encode: where it belongs and where its salts start.
    private struct EncodingJob: Sendable {
        let share: Int
        let event: EventData
        let id: UUID
        let personal: [UInt8]?
        /// Index of its first salt in the append's salt buffer.
        let salt: Int
        let metadataSize: Int
        let subject: UUID?
    }

    private func encode(_ jobs: [EncodingJob], appends: [StreamAppend], salts: [UInt8], correlation: UUID?)
        throws(StoreError) -> [PreparedEvent]
    {
        let codec = self.codec
        let origin = self.origin
        @Sendable func encode(_ job: EncodingJob) throws(StoreError) -> PreparedEvent {
            let stream = appends[job.share].stream
            return try salts.withUnsafeBytes { all in Result { () throws(StoreError) in
                func salt(_ i: Int) -> UnsafeRawBufferPointer {
                    let start = (job.salt + i) * StoredPart.saltLength
                    return UnsafeRawBufferPointer(rebasing: all[start..<(start + StoredPart.saltLength)])
                }
                let facts = try StoredPart.encode(job.event.facts, salt: salt(0), codec: codec)
                let personal = try job.personal.map { (p) throws(StoreError) in try StoredPart.encode(p, salt: salt(1), codec: codec) }
                let record = EventRecord.template(
                    origin: origin, stream: stream, event: job.event, id: job.id,
                    correlationID: job.event.correlationID ?? correlation ?? job.id, metadataSize: job.metadataSize,
                    factsCommitment: facts.commitment, personalCommitment: personal?.commitment,
                    personalLength: job.personal?.count ?? 0)
                return PreparedEvent(
                    id: job.id, type: job.event.type, metadata: job.event.metadata, record: record.bytes,
                    offsets: record.offsets, facts: job.event.facts, personal: job.personal, factsStored: facts.stored,
                    personalStored: personal?.stored, subject: job.subject)
            } }.get()
        }
        guard jobs.count >= 64 else {
            var out = [PreparedEvent]()
            out.reserveCapacity(jobs.count)
            for job in jobs { out.append(try encode(job)) }
            return out
        }
        let slices = 2
        let results = Mutex<[Int: Result<[PreparedEvent], StoreError>]>([:])
        DispatchQueue.concurrentPerform(iterations: slices) { slice in
            let range = (slice * jobs.count / slices)..<((slice + 1) * jobs.count / slices)
            let result = Result { () throws(StoreError) in try range.map { (i) throws(StoreError) in try encode(jobs[i]) } }
            results.withLock { $0[slice] = result }
        }
        var out = [PreparedEvent]()
        out.reserveCapacity(jobs.count)
        for slice in 0..<slices {
            guard let result = results.withLock({ $0[slice] }) else { continue }
            out.append(contentsOf: try result.get())
        }
        return out
    }

    /// Streams only the store's own operations write.
    static let reservedStreams: Set<String> = [rollbackStream, erasureStream, attestationStream]

    /// Appends admin entries (the store's own operations).
    func appendAdmin(_ append: StreamAppend) async throws -> AppendResult {
        try checkOpen()
        guard let writer else { throw StoreError(.readOnly, "a read-only store cannot record admin entries") }
        let prepared = try prepare([append], durability: .durable, admin: true)
        return try await withCheckedThrowingContinuation { writer.enqueue(.append(prepared, $0)) }
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
