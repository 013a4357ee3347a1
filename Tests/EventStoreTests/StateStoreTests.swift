import EventStore
import Foundation
import Testing

@Suite("State store")
struct StateStoreTests {
    struct Oops: Error {}

    @Test("named databases: put, get, delete, count, ordered iteration, clear")
    func basics() throws {
        let directory = TemporaryDirectory("state")
        defer { directory.remove() }
        let state = try StateStore(path: directory.sub("state"), databases: ["a", "b"], mapSize: 64 << 20)
        try state.write { txn in
            for k in ["k3", "k1", "k2"] { try txn.put(state["a"], key: Array(k.utf8), value: Array("v-\(k)".utf8)) }
            try txn.put(state["b"], key: [1], value: [9])
        }
        let (k2, missing, count, keys) = try state.read { txn in
            var keys = [String]()
            try txn.forEach(state["a"], from: Array("k2".utf8)) { key, _ in
                keys.append(String(decoding: key, as: UTF8.self))
                return true
            }
            return (try txn.get(state["a"], key: Array("k2".utf8)), try txn.get(state["b"], key: Array("k2".utf8)),
                    try txn.count(state["a"]), keys)
        }
        #expect(k2 == Array("v-k2".utf8))
        #expect(missing == nil)
        #expect(count == 3)
        #expect(keys == ["k2", "k3"])
        let deleted = try state.write { txn in
            defer { _ = try? txn.clear(state["b"]) }
            return (try txn.delete(state["a"], key: Array("k1".utf8)), try txn.delete(state["a"], key: Array("zz".utf8)))
        }
        #expect(deleted == (true, false))
        let counts = try state.read { txn in (try txn.count(state["a"]), try txn.count(state["b"])) }
        #expect(counts == (2, 0))
    }

    @Test("a write that throws leaves nothing behind")
    func atomicWrite() throws {
        let directory = TemporaryDirectory("state")
        defer { directory.remove() }
        let state = try StateStore(path: directory.sub("state"), databases: ["a"], mapSize: 64 << 20)
        #expect(throws: Oops.self) {
            try state.write { txn in
                try txn.put(state["a"], key: [1], value: [1])
                throw Oops()
            }
        }
        #expect(try state.read { try $0.count(state["a"]) } == 0)
    }

    @Test("state survives closing and reopening; a second open in the process is refused")
    func reopen() throws {
        let directory = TemporaryDirectory("state")
        defer { directory.remove() }
        var state: StateStore? = try StateStore(path: directory.sub("state"), databases: ["a"], mapSize: 64 << 20)
        try state!.write { try $0.put(state!["a"], key: [7], value: [42]) }
        let error = #expect(throws: StoreError.self) {
            try StateStore(path: directory.sub("state"), databases: ["a"], mapSize: 64 << 20)
        }
        #expect(error?.code == .alreadyOpen)
        state = nil
        let again = try StateStore(path: directory.sub("state"), databases: ["a"], mapSize: 64 << 20)
        #expect(try again.read { try $0.get(again["a"], key: [7]) } == [42])
    }
}
