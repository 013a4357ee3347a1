import EventStore
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

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

    @Test("a full disk is a disk_full error with nothing written, not a SIGBUS from the write map; writes resume once space is freed")
    func diskFull() throws {
        let directory = TemporaryDirectory("state-enospc")
        defer { directory.remove() }
        let mountPoint = directory.sub("small")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard mount("tmpfs", mountPoint, "tmpfs", 0, "size=4m") == 0 else {
            print("skipped: cannot mount a 4 MiB tmpfs here (\(String(cString: strerror(errno)))); the test needs root")
            return
        }
        defer { umount2(mountPoint, Int32(MNT_DETACH)) }
        let filler = mountPoint + "/filler"
        #expect(FileManager.default.createFile(atPath: filler, contents: Data(count: 1 << 20)))
        // A 64 MiB map on a 4 MiB disk: the sparse file promises pages the disk cannot give.
        let state = try StateStore(path: mountPoint + "/state", databases: ["d"], mapSize: 64 << 20, reserve: 512 << 10)
        var written = 0
        var failure: StoreError?
        while failure == nil && written < 4_000 {
            do {
                try state.write { txn in
                    for i in written..<(written + 16) {
                        try txn.put(state["d"], key: withUnsafeBytes(of: UInt32(i).bigEndian, Array.init),
                                    value: [UInt8](repeating: UInt8(i % 251), count: 4_000))
                    }
                }
                written += 16
            } catch let error as StoreError {
                failure = error
            }
        }
        let error = try #require(failure, "the 4 MiB disk never filled")
        #expect(error.code == .diskFull, "\(error)")
        #expect(try state.read { txn in try txn.count(state["d"]) } == written, "the refused transaction wrote nothing")
        try FileManager.default.removeItem(atPath: filler)
        try state.write { txn in try txn.put(state["d"], key: [0xFF], value: [1]) }
        #expect(try state.read { txn in try txn.count(state["d"]) } == written + 1)
    }
}
