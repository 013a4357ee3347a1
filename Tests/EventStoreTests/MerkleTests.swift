import Crypto
@testable import EventStore
import Foundation
import Testing

/// The naive RFC 9162 definitions, straight from the text, to check the store's incremental tree against.
enum NaiveMerkle {
    static func mth(_ leaves: ArraySlice<TreeHash>) -> TreeHash {
        if leaves.isEmpty { return .empty }
        if leaves.count == 1 { return leaves.first! }
        let k = Int(TreeMath.split(UInt64(leaves.count)))
        return TreeHash.node(mth(leaves.prefix(k)), mth(leaves.dropFirst(k)))
    }

    static func path(_ m: Int, _ leaves: ArraySlice<TreeHash>) -> [TreeHash] {
        if leaves.count <= 1 { return [] }
        let k = Int(TreeMath.split(UInt64(leaves.count)))
        if m < k { return path(m, leaves.prefix(k)) + [mth(leaves.dropFirst(k))] }
        return path(m - k, leaves.dropFirst(k)) + [mth(leaves.prefix(k))]
    }

    static func proof(_ m: Int, _ leaves: ArraySlice<TreeHash>) -> [TreeHash] { subproof(m, leaves, true) }

    static func subproof(_ m: Int, _ leaves: ArraySlice<TreeHash>, _ b: Bool) -> [TreeHash] {
        if m == leaves.count { return b ? [] : [mth(leaves)] }
        let k = Int(TreeMath.split(UInt64(leaves.count)))
        if m <= k { return subproof(m, leaves.prefix(k), b) + [mth(leaves.dropFirst(k))] }
        return subproof(m - k, leaves.dropFirst(k), false) + [mth(leaves.prefix(k))]
    }
}

@Suite("Merkle tree")
struct MerkleTests {
    struct InclusionVector: Decodable {
        var leafIdx: UInt64
        var treeSize: UInt64
        var root: String?
        var leafHash: String?
        var proof: [String]?
        var desc: String
        var wantErr: Bool
    }

    struct ConsistencyVector: Decodable {
        var size1: UInt64
        var size2: UInt64
        var root1: String?
        var root2: String?
        var proof: [String]?
        var desc: String
        var wantErr: Bool
    }

    static func files(_ kind: String) -> [URL] {
        let root = URL(fileURLWithPath: fixturesDirectory + "/merkle/" + kind)
        let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }
    }

    static func b64(_ s: String?) -> [UInt8] { s.flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? [] }

    @Test("all RFC 9162 inclusion and consistency vectors, negative cases included (196 files)")
    func vectors() throws {
        let inclusion = Self.files("inclusion")
        let consistency = Self.files("consistency")
        #expect(inclusion.count + consistency.count == 196)
        for file in inclusion {
            let v = try JSONDecoder().decode(InclusionVector.self, from: Data(contentsOf: file), file: file)
            let ok = MerkleVerification.verifyInclusion(
                index: v.leafIdx, size: v.treeSize, leafHash: Self.b64(v.leafHash),
                proof: (v.proof ?? []).map(Self.b64), root: Self.b64(v.root))
            #expect(ok == !v.wantErr, "\(file.lastPathComponent) in \(file.deletingLastPathComponent().lastPathComponent): \(v.desc)")
        }
        for file in consistency {
            let v = try JSONDecoder().decode(ConsistencyVector.self, from: Data(contentsOf: file), file: file)
            let ok = MerkleVerification.verifyConsistency(
                size1: v.size1, size2: v.size2, root1: Self.b64(v.root1), root2: Self.b64(v.root2),
                proof: (v.proof ?? []).map(Self.b64))
            #expect(ok == !v.wantErr, "\(file.lastPathComponent) in \(file.deletingLastPathComponent().lastPathComponent): \(v.desc)")
        }
    }

    @Test("RFC 6962 hasher known answers")
    func knownAnswers() {
        #expect(TreeHash.empty.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(TreeHash.leaf([]).hex == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        #expect(TreeHash.leaf(Array("L123456".utf8)).hex
            == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
        var hasher = SHA256()
        hasher.update(data: [0x01] + Array("N123".utf8) + Array("N456".utf8))
        #expect(hex(hasher.finalize()) == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb")
    }

    @Test("the reference tree's roots for sizes 0–8, incrementally and naively")
    func referenceTree() {
        let leaves = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                      "606162636465666768696a6b6c6d6e6f"].map { TreeHash.leaf(bytes(hex: $0)) }
        let prefixes = ["e3b0c442", "6e340b9c", "fac54203", "aeb6bcfe", "d37ee418", "4e3bbb1f", "76e67dad",
                        "ddb89be4", "5dc9da79"]
        var builder = MerkleVerification.RootBuilder()
        #expect(builder.root.hex.hasPrefix(prefixes[0]))
        for (i, leaf) in leaves.enumerated() {
            builder.append(leafHash: leaf)
            #expect(builder.root.hex.hasPrefix(prefixes[i + 1]), "size \(i + 1)")
            #expect(NaiveMerkle.mth(leaves.prefix(i + 1)) == builder.root)
        }
        #expect(builder.root.hex == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
    }

    @Test("post-order positions: leaves and parents land at growing keys, 2n − popcount(n) nodes")
    func postOrder() {
        var frontier = Frontier()
        var keys = [UInt64]()
        for i in 0..<1_000 {
            frontier.append(TreeHash.leaf([UInt8(i & 0xFF)])) { key, _ in keys.append(key) }
            #expect(UInt64(keys.count) == TreeMath.perfectNodes(size: UInt64(i + 1)))
        }
        #expect(keys == Array(0..<UInt64(keys.count)), "positions must be exactly 0, 1, 2, … (tail appends)")
    }

    @Test("the store's incremental tree, roots and proofs agree with the naive definitions for random sizes",
          arguments: [1, 2, 3] as [UInt64])
    func storeTreeProperty(seed: UInt64) async throws {
        var rng = ModelBasedTests.Generator(state: seed)
        try await withStore { store, _ in
            let total = Int.random(in: 1_000...5_000, using: &rng)
            var n = 0
            while n < total {
                let count = min(total - n, Int.random(in: 1...300, using: &rng))
                try await store.append(to: "t-\(n % 13)", (0..<count).map { i in event("T.v1", "{\"n\":\(n + i)}") })
                n += count
            }
            var leaves = [TreeHash]()
            try store.scanRecords(payloads: .none) { view, _, _ in
                leaves.append(TreeHash.leaf(view.bytes))
                return true
            }
            #expect(leaves.count == total)
            #expect(try store.rootHash() == NaiveMerkle.mth(leaves[...]))
            for _ in 0..<25 {
                let size = Int.random(in: 1...total, using: &rng)
                let root = NaiveMerkle.mth(leaves.prefix(size))
                #expect(try store.rootHash(size: UInt64(size)) == root)
                let index = Int.random(in: 0..<size, using: &rng)
                let proof = try store.inclusionProof(position: UInt64(index), size: UInt64(size))
                #expect(proof == NaiveMerkle.path(index, leaves.prefix(size)))
                #expect(MerkleVerification.verifyInclusion(index: UInt64(index), size: UInt64(size),
                                                           leafHash: leaves[index].bytes, proof: proof.map(\.bytes),
                                                           root: root.bytes))
                let older = Int.random(in: 1...size, using: &rng)
                let consistency = try store.consistencyProof(from: UInt64(older), to: UInt64(size))
                #expect(consistency == NaiveMerkle.proof(older, leaves.prefix(size)))
                let olderRoot = NaiveMerkle.mth(leaves.prefix(older))
                #expect(MerkleVerification.verifyConsistency(size1: UInt64(older), size2: UInt64(size),
                                                             root1: olderRoot.bytes, root2: root.bytes,
                                                             proof: consistency.map(\.bytes)))
                // One flipped bit fails.
                if var first = consistency.first?.bytes {
                    first[0] ^= 1
                    #expect(!MerkleVerification.verifyConsistency(
                        size1: UInt64(older), size2: UInt64(size), root1: olderRoot.bytes, root2: root.bytes,
                        proof: [first] + consistency.dropFirst().map(\.bytes)))
                }
            }
            let nodes = try store.readTransaction { try $0.count(store.dbs.nodes) }
            #expect(UInt64(nodes) == TreeMath.perfectNodes(size: UInt64(total)))
        }
    }

    @Test("a store created without a tree says so when asked for proofs")
    func noTree() async throws {
        var options = StoreOptions()
        options.merkleTree = false
        try await withStore(options: options) { store, _ in
            try await store.append(to: "a-1", [event(), event()])
            #expect(!store.keepsMerkleTree)
            let error = #expect(throws: StoreError.self) { try store.rootHash() }
            #expect(error?.message.contains("without a tree") == true)
        }
    }
}

extension JSONDecoder {
    /// Decodes, naming the file when it fails.
    func decode<T: Decodable>(_ type: T.Type, from data: Data, file: URL) throws -> T {
        do { return try decode(type, from: data) } catch {
            Issue.record("\(file.path): \(error)")
            throw error
        }
    }
}
