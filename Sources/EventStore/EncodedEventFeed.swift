import Foundation

/// The encoded events of one append, filled in order by the caller while the writer may already be placing the
/// first ones: a large append's encoding (salts, commitments, compression) overlaps the writer's work on it instead
/// of preceding it.
///
/// `@unchecked Sendable`: every field is guarded by `condition`.
final class EncodedEventFeed: @unchecked Sendable {
    private let condition = NSCondition()
    private var events: [PreparedEvent]
    private var failure: StoreError?
    private var abandoned = false
    /// The number of events the writer will ask for.
    let count: Int

    /// A feed to be filled by ``publish(_:)``.
    init(count: Int) {
        self.count = count
        events = []
        events.reserveCapacity(count)
    }

    /// A feed holding every event already.
    init(complete events: [PreparedEvent]) {
        self.count = events.count
        self.events = events
    }

    /// Whether every event is here (an append prepared whole before it was queued).
    var isComplete: Bool { condition.withLock { events.count == count } }

    /// Adds the next events, in order, and wakes a writer waiting for them.
    func publish(_ next: [PreparedEvent]) {
        condition.withLock {
            events.append(contentsOf: next)
            condition.broadcast()
        }
    }

    /// Says the writer has settled the append (written or refused): an appender still encoding it stops.
    func abandon() { condition.withLock { abandoned = true } }

    /// Whether the writer settled the append before the appender finished encoding it.
    var isAbandoned: Bool { condition.withLock { abandoned } }

    /// Ends the feed with an error: a writer waiting for an event gets it (and aborts the append's transaction).
    func fail(_ error: StoreError) {
        condition.withLock {
            failure = error
            condition.broadcast()
        }
    }

    /// Takes the events out, once the append is settled (the writer reads none of them again), so the caller frees
    /// them on its own thread: the writer may still hold the feed, and whoever lets it go last would free them.
    func takeEvents() -> [PreparedEvent] {
        condition.withLock {
            defer { events = [] }
            return events
        }
    }

    /// The event at `index`, waiting until it was published.
    func event(_ index: Int) throws(StoreError) -> PreparedEvent {
        condition.lock()
        defer { condition.unlock() }
        while index >= events.count {
            if let failure { throw failure }
            condition.wait()
        }
        return events[index]
    }
}
