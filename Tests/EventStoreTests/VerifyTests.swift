@testable import EventStore
import Foundation
import Synchronization
import Testing

@Suite("Verification", .serialized)
struct VerifyTests {
    /// A closed store with a signed checkpoint: the events, a raw (incompressible) facts part to find in the file,
    /// and the paths.
    struct Fixture {
        let directory: TemporaryDirectory
        let path: String
        let signer: NoteSigner
        let randomFacts: [UInt8]
        let leafOfTarget: TreeHash
        let checkpoint: SignedCheckpoint
    }

    static func makeFixture() async throws -> Fixture {
        let directory = TemporaryDirectory("verify")
        let path = directory.sub("log")
        let signer = try NoteSigner.generate(name: "ward.example/dossiers")
        var options = StoreOptions()
        options.dictionaryTrainingThreshold = 0
        let store = try Store.create(at: path, origin: "ward.example/dossiers", options: options)
        for i in 0..<300 {
            try await store.append(to: "d-\(i % 17)", [event("A.v1", "{\"i\":\(i)}", personal: i % 3 == 0 ? "Lê Thị \(i)" : nil)])
        }
        var randomFacts = [UInt8](repeating: 0, count: 200)
        for i in randomFacts.indices { randomFacts[i] = UInt8.random(in: 0...255) }
        let target = try await store.append(to: "d-x", [EventData(type: "Target.v1", facts: randomFacts,
                                                                  actor: "tamper-actor-0001")])
        for i in 0..<50 { try await store.append(to: "d-\(i % 5)", [event("B.v1", "{\"j\":\(i)}")]) }
        let checkpoint = try await store.signCheckpoint(with: signer, state: try SigningState(path: directory.sub("k.signed")))
        let leaf = try store.leafHash(at: target.positions[0])
        store.close()
        return Fixture(directory: directory, path: path, signer: signer, randomFacts: randomFacts, leafOfTarget: leaf,
                       checkpoint: checkpoint)
    }

    /// Copies the store, flips one byte in every occurrence of `needle` in its data file (LMDB keeps stale copies of
    /// pages it rewrote, so the live one is not always the first), and verifies the copy.
    static func tamper(_ fixture: Fixture, _ needle: [UInt8], offset: Int = 0, name: String) throws -> StoreError? {
        let copy = fixture.directory.sub("tampered-\(name)")
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture.path + "/data.mdb", toPath: copy + "/data.mdb")
        var data = try Data(contentsOf: URL(fileURLWithPath: copy + "/data.mdb"))
        let ranges = data.ranges(of: Data(needle))
        guard !ranges.isEmpty else {
            Issue.record("the \(name) bytes are not in the data file")
            return nil
        }
        for range in ranges { data[range.lowerBound + offset] ^= 0x01 }
        try data.write(to: URL(fileURLWithPath: copy + "/data.mdb"))
        var options = StoreOptions()
        options.readOnly = true
        let store = try Store.open(at: copy, options: options)
        defer { store.close() }
        do {
            _ = try store.verify(verifier: fixture.signer.verifier)
            return nil
        } catch let error as StoreError {
            return error
        }
    }

    @Test("an intact store verifies: tree, nodes, frontier, chains, commitments, checkpoint and signature")
    func intact() async throws {
        let fixture = try await Self.makeFixture()
        defer { fixture.directory.remove() }
        var options = StoreOptions()
        options.readOnly = true
        let store = try Store.open(at: fixture.path, options: options)
        defer { store.close() }
        let calls = Counter()
        let report = try store.verify(verifier: fixture.signer.verifier) { _, _ in calls.increment() }
        #expect(report.events == 351)
        #expect(report.partsVerified == 351 + 100)
        #expect(report.root == fixture.checkpoint.checkpoint.root)
        #expect(report.checkpointsVerified == 1 && report.signaturesVerified == 1)
        #expect(calls.value >= 1)
        let treeOnly = try store.verify(commitments: false)
        #expect(treeOnly.partsVerified == 0 && treeOnly.root == report.root)
        let stranger = try NoteSigner.generate(name: "ward.example/dossiers")
        let unsigned = #expect(throws: StoreError.self) { try store.verify(verifier: stranger.verifier) }
        #expect(unsigned?.message.contains("not signed by") == true)
    }

    @Test("a byte changed in a record, a payload part, a node or a checkpoint, in the files, is found and named")
    func tamperedFiles() async throws {
        let fixture = try await Self.makeFixture()
        defer { fixture.directory.remove() }
        let record = try Self.tamper(fixture, Array("tamper-actor-0001".utf8), offset: 7, name: "record")
        #expect(record?.code == .corrupt)
        #expect(record?.position == 300, "\(record?.message ?? "")")
        #expect(record?.message.contains("Merkle node") == true, "\(record?.message ?? "")")

        let payload = try Self.tamper(fixture, fixture.randomFacts, offset: 10, name: "payload")
        #expect(payload?.position == 300)
        #expect(payload?.message.contains("facts part does not match its commitment") == true, "\(payload?.message ?? "")")

        let node = try Self.tamper(fixture, fixture.leafOfTarget.bytes, offset: 3, name: "node")
        #expect(node?.position == 300)
        #expect(node?.message.contains("Merkle node") == true, "\(node?.message ?? "")")

        let rootText = Array(fixture.checkpoint.checkpoint.root.base64.utf8)
        let checkpoint = try Self.tamper(fixture, rootText, offset: 5, name: "checkpoint")
        #expect(checkpoint?.code == .corrupt || checkpoint?.code == .invalidArgument, "\(checkpoint?.message ?? "")")
        #expect(checkpoint?.message.contains("checkpoint") == true || checkpoint?.code == .invalidArgument,
                "\(checkpoint?.message ?? "")")
    }

    @Test("verification in small chunks stitches trees, chains and checkpoint roots exactly as one pass does",
          arguments: [0, 3, 6])
    func chunkedStitching(chunkLevel: Int) async throws {
        try await withStore(origin: "ward.example/dossiers") { store, directory in
            let signer = try NoteSigner.generate(name: "ward.example/dossiers")
            let state = try SigningState(path: directory.sub("k.signed"))
            var n = 0
            for size in [37, 64, 100, 129, 700] {
                while n < size {
                    try await store.append(to: "dossier-\(n % 11)", [event("A.v1", "{\"n\":\(n)}",
                                                                           personal: n % 5 == 0 ? "P \(n)" : nil)])
                    n += 1
                }
                _ = try await store.signCheckpoint(with: signer, state: state)
            }
            let whole = try store.verify(commitments: true, verifier: signer.verifier, chunkLevel: 20)
            let chunked = try store.verify(commitments: true, verifier: signer.verifier, chunkLevel: chunkLevel)
            let stored = try store.rootHash()
            #expect(chunked.root == whole.root && chunked.root == stored)
            #expect(chunked.checkpointsVerified == 5 && chunked.signaturesVerified == 5)
            #expect(chunked.partsVerified == whole.partsVerified && chunked.streams == 11)
        }
    }
}

/// A counter safe to bump from any thread.
final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
