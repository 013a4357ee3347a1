/// What a subscription delivers.
public enum SubscriptionFilter: Sendable, Hashable {
    /// Every event.
    case all
    /// Events of streams in a category (the stream name before its first `-`).
    case category(String)
    /// Events of one type.
    case type(String)
}

/// Events from a position onwards: first those already in the log (catch-up), then each new one as it is
/// committed (live), as one `AsyncSequence`.
///
/// Every event comes from the log itself, read by position in short read transactions, so the switch from
/// catch-up to live can neither skip nor repeat an event. The sequence is pulled: it reads a page only when the
/// consumer asks for more, so a slow consumer is simply paused and holds at most one page in memory; with
/// ``maximumLag`` it is cut off instead, with ``StoreError/Code/subscriberTooSlow``. It ends when the store
/// closes or the task is cancelled.
///
/// ```swift
/// for try await event in store.subscribe(from: checkpoint, filter: .category("dossier")) {
///     try fold(event)
/// }
/// ```
public struct EventSubscription: AsyncSequence, Sendable {
    /// The element type.
    public typealias Element = RecordedEvent

    let store: Store
    let start: UInt64
    let filter: SubscriptionFilter
    let payloads: PayloadSelection
    let pageSize: Int
    /// Events the subscriber may fall behind the head before it is cut off; `nil` pauses it instead.
    public let maximumLag: UInt64?

    /// The iterator.
    public func makeAsyncIterator() -> Iterator {
        Iterator(subscription: self, next: start)
    }

    /// Pulls events page by page, waiting for commits once caught up.
    public struct Iterator: AsyncIteratorProtocol {
        let subscription: EventSubscription
        var next: UInt64
        var page: [RecordedEvent] = []
        var index = 0
        /// Pages in a row that came back empty while the log was ahead of the index (for the back-off).
        var idle = 0

        init(subscription: EventSubscription, next: UInt64) {
            self.subscription = subscription
            self.next = next
        }

        /// The next value.
        public mutating func next() async throws -> RecordedEvent? {
            let store = subscription.store
            while true {
                if index < page.count {
                    defer { index += 1 }
                    return page[index]
                }
                if Task.isCancelled { return nil }
                let events: [RecordedEvent]
                let scanned: UInt64
                do {
                    (events, scanned) = try store.page(subscription.filter, from: next, limit: subscription.pageSize,
                                                       payloads: subscription.payloads)
                } catch let error as StoreError where error.code == .closed {
                    return nil  // the store closed: the subscription ends
                }
                next = scanned
                if !events.isEmpty {
                    idle = 0
                    page = events
                    index = 0
                    if let limit = subscription.maximumLag, store.head > next + limit {
                        throw StoreError(.subscriberTooSlow, "the subscriber is \(store.head - next) events behind "
                            + "the head (limit \(limit)); resubscribe from position \(next) and read faster",
                            position: next)
                    }
                    continue
                }
                if store.head > next {
                    // The log is ahead of the index this page came from (its commit follows the log's by a moment,
                    // or a reader's index trails): wait a little, longer each time (2 ms up to 50 ms).
                    try? await Task.sleep(for: .milliseconds(Swift.min(2 << Swift.min(idle, 5), 50)))
                    idle += 1
                    continue
                }
                idle = 0
                guard try await store.waitForEvent(at: next) else { return nil }
            }
        }
    }
}

extension Store {
    /// Subscribes to the log from `position` (inclusive), catch-up then live.
    ///
    /// - Parameters:
    ///   - position: The first position to deliver; a projection passes its checkpoint.
    ///   - filter: ``SubscriptionFilter/all``, a category or a type.
    ///   - payloads: Which payload parts to decode.
    ///   - pageSize: Events read per read transaction (the most buffered at once).
    ///   - maximumLag: Cut the subscriber off once it is this many events behind the head; `nil` (default) pauses
    ///     a slow subscriber instead.
    public func subscribe(from position: UInt64 = 0, filter: SubscriptionFilter = .all,
                          payloads: PayloadSelection = .all, pageSize: Int = 256, maximumLag: UInt64? = nil)
        -> EventSubscription
    {
        EventSubscription(store: self, start: position, filter: filter, payloads: payloads,
                          pageSize: max(1, pageSize), maximumLag: maximumLag)
    }

    /// One page of a subscription: the matching events from `position`, and the position up to which the log was
    /// examined (the next position to read), taken in one read transaction.
    func page(_ filter: SubscriptionFilter, from position: UInt64, limit: Int, payloads: PayloadSelection) throws
        -> ([RecordedEvent], UInt64)
    {
        switch filter {
        case .all:
            let events = try read(from: position, limit: limit, payloads: payloads)
            return (events, events.last.map { $0.position + 1 } ?? position)
        case .category(let name):
            return try postingsPage(\.categoryNames, \.categoryEvents, name, position, limit, payloads)
        case .type(let name):
            return try postingsPage(\.typeNames, \.typeEvents, name, position, limit, payloads)
        }
    }

    /// Waits until the log holds an event at `position` (its head is beyond it); `false` when the store closed or
    /// the task was cancelled. In the writing process commits wake the waiter; a read-only process polls.
    public func waitForEvent(atPosition position: UInt64) async -> Bool {
        (try? await waitForEvent(at: position)) ?? false
    }

    /// Waits until an event exists at `position`; `false` when the store closed or the task was cancelled.
    ///
    /// In the writing process the writer's commits wake the waiter; a read-only process polls every 50 ms.
    func waitForEvent(at position: UInt64) async throws -> Bool {
        if writer != nil {
            return await commits.wait(untilBeyond: position) != nil
        }
        while head <= position {
            try checkOpen()
            do { try await Task.sleep(for: .milliseconds(50)) } catch { return false }
        }
        return true
    }
}
