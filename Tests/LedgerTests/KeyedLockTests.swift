import Foundation
@testable import Ledger
import Synchronization
import Testing

/// What ran, in order, appended from several tasks.
private final class RunOrder: Sendable {
    private let names = Mutex<[String]>([])
    func append(_ name: String) { names.withLock { $0.append(name) } }
    var all: [String] { names.withLock { $0 } }
}

@Suite("Keyed lock", .timeLimit(.minutes(1)))
struct KeyedLockTests {
    @Test("a waiter whose task is cancelled leaves the queue with CancellationError; the key then goes to the next")
    func cancelledWaiter() async throws {
        let lock = KeyedLock()
        let order = RunOrder()
        let (held, holding) = AsyncStream.makeStream(of: Void.self)
        let (release, releasing) = AsyncStream.makeStream(of: Void.self)
        // A holds the key until told to release it.
        let a = Task {
            try await lock.withLock("citizen:1") {
                holding.yield()
                for await _ in release { break }
                order.append("A")
            }
        }
        var heldIterator = held.makeAsyncIterator()
        _ = await heldIterator.next()
        let b = Task { try await lock.withLock("citizen:1") { order.append("B") } }
        try await Task.sleep(for: .milliseconds(50))
        b.cancel()
        let bResult = await b.result
        #expect(throws: CancellationError.self) { try bResult.get() }
        let c = Task { try await lock.withLock("citizen:1") { order.append("C") } }
        // Another key is free meanwhile.
        try await lock.withLock("citizen:2") { order.append("other key") }
        releasing.yield()
        try await a.value
        try await c.value
        #expect(order.all == ["other key", "A", "C"], "B never ran, and C got the key after A")
    }

    @Test("a task cancelled before it asks for a held key is refused at once")
    func cancelledBeforeAsking() async throws {
        let lock = KeyedLock()
        let (release, releasing) = AsyncStream.makeStream(of: Void.self)
        let (held, holding) = AsyncStream.makeStream(of: Void.self)
        let a = Task {
            try await lock.withLock("k") {
                holding.yield()
                for await _ in release { break }
            }
        }
        var heldIterator = held.makeAsyncIterator()
        _ = await heldIterator.next()
        let b = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await lock.withLock("k") { 1 }
        }
        let result = await b.result
        #expect(throws: CancellationError.self) { try result.get() }
        releasing.yield()
        try await a.value
        #expect(try await lock.withLock("k") { 2 } == 2, "the key is free after A")
    }
}
