@testable import EventStore
import Foundation
import Testing

@Suite("Opening and closing")
struct StoreLifecycleTests {
    @Test("a reopened store keeps its origin, positions, streams and payloads")
    func reopen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.sub("log")
        var store: Store? = try Store.create(at: path, origin: "ward.example/dossiers")
        try await store!.append(to: "d-1", [event("A.v1", "{\"a\":1}", personal: "Lê Văn Nam")])
        store!.close()
        store = nil
        let reopened = try Store.open(at: path)
        defer { reopened.close() }
        #expect(reopened.origin == "ward.example/dossiers")
        #expect(reopened.head == 1)
        let next = try await reopened.append(to: "d-1", expected: .exact(1), [event("B.v1")])
        #expect(next.positions == [1])
        #expect(try reopened.readStream("d-1").map(\.record.previousPosition) == [nil, 0])
        #expect(try reopened.event(at: 0)?.personal == Array("Lê Văn Nam".utf8))
    }

    @Test("open needs a store, create refuses an existing one, and the origin is validated")
    func createAndOpenErrors() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let missing = #expect(throws: StoreError.self) { try Store.open(at: directory.sub("none")) }
        #expect(missing?.code == .notFound)
        let store = try Store.create(at: directory.sub("log"), origin: "o")
        store.close()
        let again = #expect(throws: StoreError.self) { try Store.create(at: directory.sub("log"), origin: "o") }
        #expect(again?.code == .alreadyExists)
        let badOrigin = #expect(throws: StoreError.self) { try Store.create(at: directory.sub("x"), origin: "") }
        #expect(badOrigin?.code == .invalidArgument)
    }

    @Test("a store is never opened twice in one process")
    func openTwiceInProcess() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try Store.create(at: directory.sub("log"), origin: "o")
        let error = #expect(throws: StoreError.self) { try Store.open(at: directory.sub("log")) }
        #expect(error?.code == .alreadyOpen)
        var readOnly = StoreOptions()
        readOnly.readOnly = true
        #expect(throws: StoreError.self) { try Store.open(at: directory.sub("log"), options: readOnly) }
        store.close()
        let reopened = try Store.open(at: directory.sub("log"))
        reopened.close()
    }

    @Test("a store of a newer format is refused with a clear error")
    func newerFormat() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.sub("log")
        let store = try Store.create(at: path, origin: "o")
        try store.env.write { txn in
            try Array("format".utf8).withUnsafeBytes { key in
                try withUnsafeBytes(of: UInt32(99).bigEndian) { try txn.put(store.dbs.meta, key, $0) }
            }
        }
        store.close()
        let error = #expect(throws: StoreError.self) { try Store.open(at: path) }
        #expect(error?.code == .unsupportedFormat)
        #expect(error?.message.contains("format 99") == true)
    }

    @Test("the log environment is durable: no NOSYNC, NOMETASYNC or MAPASYNC")
    func durableFlags() async throws {
        try await withStore { store, _ in
            #expect(store.isDurable)
            try await store.append(to: "d-1", [event()], durability: .relaxed)
            #expect(store.isDurable)
        }
    }

    @Test("a closed store refuses work with a clear error")
    func closedStore() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try Store.create(at: directory.sub("log"), origin: "o")
        store.close()
        store.close()
        let error = await #expect(throws: StoreError.self) { try await store.append(to: "d-1", [event()]) }
        #expect(error?.code == .closed)
        #expect(throws: StoreError.self) { try store.read() }
    }

    @Test("a read-only store reads what the writer wrote and refuses appends")
    func readOnlyOpen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try Store.create(at: directory.sub("log"), origin: "o")
        try await store.append(to: "d-1", [event("A.v1", "{\"k\":1}")])
        store.close()
        var options = StoreOptions()
        options.readOnly = true
        let reader = try Store.open(at: directory.sub("log"), options: options)
        defer { reader.close() }
        #expect(reader.head == 1)
        #expect(try reader.event(at: 0)?.factsText == "{\"k\":1}")
        let error = await #expect(throws: StoreError.self) { try await reader.append(to: "d-1", [event()]) }
        #expect(error?.code == .readOnly)
    }
}
