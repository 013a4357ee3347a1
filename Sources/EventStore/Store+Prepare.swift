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
        let plan = try plan(appends, durability: durability, admin: admin)
        let encoded = try encode(plan.jobs[...], appends: appends, salts: plan.salts, correlation: plan.correlation,
                                 slices: 2)
        noteEncodedParts(plan.partCount)
        return plan.prepared(EncodedEventFeed(complete: encoded), streamed: false)
    }

    /// Appends at least this large are queued as soon as they are validated, and encoded while the writer places
    /// their first events.
    static let streamedAppendEvents = 256
    /// Events encoded between two hand-offs to the writer.
    static let streamedChunkEvents = 64

    /// Validates an append, queues it at once, then encodes its events in order into its feed, so the writer places
    /// the first events while the caller encodes the next ones. Returns after the commit, like ``append(_:durability:)``.
    func appendStreamed(_ appends: [StreamAppend], durability: Durability, writer: Writer) async throws
        -> AppendResult
    {
        let plan = try plan(appends, durability: durability, admin: false)
        let feed = EncodedEventFeed(count: plan.jobs.count)
        let prepared = plan.prepared(feed, streamed: true)
        // Emptied once resumed, as in ``commit(_:writer:)``: the events are freed here, not on the writer thread.
        defer { _ = feed.takeEvents() }
        return try await withCheckedThrowingContinuation { continuation in
            writer.enqueue(.append(prepared, { continuation.resume(with: $0.mapError { $0 as any Error }) }))
            let started = ContinuousClock.now
            defer { encodeNanoseconds.add((ContinuousClock.now - started).nanoseconds, ordering: .relaxed) }
            var start = 0
            while start < plan.jobs.count {
                // Refused before its events were all read (an expectation, a retry, a closed store): stop.
                if feed.isAbandoned { return }
                let end = min(start + Self.streamedChunkEvents, plan.jobs.count)
                do throws(StoreError) {
                    feed.publish(try encode(plan.jobs[start..<end], appends: appends, salts: plan.salts,
                                            correlation: plan.correlation, slices: 1))
                } catch {
                    feed.fail(error)
                    return
                }
                start = end
            }
            noteEncodedParts(plan.partCount)
        }
    }

    /// A validated append: its events named and given their salts, not yet encoded.
    struct AppendPlan {
        let appends: [StreamAppend]
        let jobs: [EncodingJob]
        let salts: [UInt8]
        let correlation: UUID?
        let durability: Durability
        /// Payload parts that are not empty (for dictionary training).
        let partCount: Int

        /// The append for the writer, its encoded events coming through `feed`.
        func prepared(_ feed: EncodedEventFeed, streamed: Bool) -> PreparedAppend {
            var ranges = [Range<Int>](repeating: 0..<0, count: appends.count)
            var index = 0
            for (share, append) in appends.enumerated() {
                ranges[share] = index..<(index + append.events.count)
                index += append.events.count
            }
            let streams = zip(appends, ranges).map { append, range in
                PreparedStream(stream: append.stream, key: StreamKey(append.stream), expected: append.expected,
                               category: EventRecord.category(of: append.stream), events: range)
            }
            return PreparedAppend(streams: streams, ids: jobs.map(\.id), subjects: jobs.map(\.subject), feed: feed,
                                  durability: durability, streamed: streamed)
        }
    }

    /// Validates an append and names its events (cheap, sequential).
    private func plan(_ appends: [StreamAppend], durability: Durability, admin: Bool) throws(StoreError)
        -> AppendPlan
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
        let total = appends.reduce(0) { $0 + $1.events.count }
        var seenStreams = Set<String>(minimumCapacity: appends.count)
        var seenIDs = Set<UUID>(minimumCapacity: total)
        var jobs = [EncodingJob]()
        jobs.reserveCapacity(total)
        var parts = 0
        for (share, append) in appends.enumerated() {
            try Self.validateStreamName(append.stream)
            guard seenStreams.insert(append.stream).inserted else {
                throw StoreError(.invalidArgument, "stream \"\(append.stream)\" is named twice in one append; "
                    + "put all its events and one expectation in a single StreamAppend", stream: append.stream)
            }
            for (offset, event) in append.events.enumerated() {
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
                jobs.append(EncodingJob(share: share, offset: offset, id: id, personal: personal, salt: parts,
                                        metadataSize: metadataSize, subject: personal == nil ? nil : subject))
                parts += personal == nil ? 1 : 2
            }
        }

        // 2. A salt for every part, from the kernel's CSPRNG (through the pool).
        var random = [UInt8](repeating: 0, count: parts * StoredPart.saltLength)
        random.withUnsafeMutableBytes { RandomPool.shared.fill($0) }
        return AppendPlan(
            appends: appends, jobs: jobs, salts: random, correlation: jobs.first?.id, durability: durability,
            partCount: jobs.reduce(0) {
                $0 + (appends[$1.share].events[$1.offset].facts.isEmpty ? 0 : 1) + ($1.personal == nil ? 0 : 1)
            })
    }

    /// One event to encode: where it belongs and where its salts start.
    struct EncodingJob: Sendable {
        /// The stream share, and the event's place in it (the event is read from the append, not copied).
        let share: Int
        let offset: Int
        let id: UUID
        let personal: [UInt8]?
        /// Index of its first salt in the append's salt buffer.
        let salt: Int
        let metadataSize: Int
        let subject: UUID?
    }

    /// Salts, commits and compresses the parts and encodes the records of `jobs`, on `slices` threads when there
    /// are enough of them.
    private func encode(_ jobs: ArraySlice<EncodingJob>, appends: [StreamAppend], salts: [UInt8], correlation: UUID?,
                        slices: Int) throws(StoreError) -> [PreparedEvent]
    {
        let codec = self.codec
        let origin = self.origin
        @Sendable func encode(_ job: EncodingJob) throws(StoreError) -> PreparedEvent {
            let stream = appends[job.share].stream
            let event = appends[job.share].events[job.offset]
            return try salts.withUnsafeBytes { all in Result { () throws(StoreError) in
                func salt(_ i: Int) -> UnsafeRawBufferPointer {
                    let start = (job.salt + i) * StoredPart.saltLength
                    return UnsafeRawBufferPointer(rebasing: all[start..<(start + StoredPart.saltLength)])
                }
                let facts = try StoredPart.encode(event.facts, salt: salt(0), codec: codec)
                let personal = try job.personal.map { (p) throws(StoreError) in try StoredPart.encode(p, salt: salt(1), codec: codec) }
                let record = EventRecord.template(
                    origin: origin, stream: stream, event: event, id: job.id,
                    correlationID: event.correlationID ?? correlation ?? job.id, metadataSize: job.metadataSize,
                    factsCommitment: facts.commitment, personalCommitment: personal?.commitment,
                    personalLength: job.personal?.count ?? 0)
                return PreparedEvent(
                    id: job.id, type: event.type, metadata: event.metadata, record: record.bytes,
                    offsets: record.offsets, facts: event.facts, personal: job.personal, factsStored: facts.stored,
                    personalStored: personal?.stored, subject: job.subject)
            } }.get()
        }
        guard jobs.count >= 64, slices > 1 else {
            var out = [PreparedEvent]()
            out.reserveCapacity(jobs.count)
            for job in jobs { out.append(try encode(job)) }
            return out
        }
        let results = Mutex<[Int: Result<[PreparedEvent], StoreError>]>([:])
        let base = jobs.startIndex
        DispatchQueue.concurrentPerform(iterations: slices) { slice in
            let range = (base + slice * jobs.count / slices)..<(base + (slice + 1) * jobs.count / slices)
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
        return try await commit(prepared, writer: writer)
    }

    /// Queues `prepared` on the writer and waits for its commit. Once resumed, the caller takes the events out of the
    /// feed, so their buffers are freed on its thread rather than on the writer's (freeing a 1 000-event append was
    /// 6 % of the writer thread's time).
    ///
    /// `counted`: the caller counted itself in ``Writer/preparing``; the count drops as the append is queued.
    func commit(_ prepared: PreparedAppend, writer: Writer, counted: Bool = false) async throws -> AppendResult {
        defer { _ = prepared.feed.takeEvents() }
        return try await withCheckedThrowingContinuation { continuation in
            writer.enqueue(.append(prepared, { continuation.resume(with: $0.mapError { $0 as any Error }) }),
                           wasPreparing: counted)
        }
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

/// Fills a buffer straight from the kernel's CSPRNG, for keys (salts, which must be unpredictable too, or a
/// low-entropy part could be guessed from its commitment, come through ``RandomPool``). The corresponding C function
/// is `arc4random_buf` (glibc: `getrandom` underneath).
func fillRandom(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress else { return }
    arc4random_buf(base, buffer.count)
}
