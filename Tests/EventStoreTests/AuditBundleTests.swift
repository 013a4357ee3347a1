import Crypto
import EventStore
import Foundation
import TestSupport
import Testing

@Suite("Audit bundles", .serialized)
struct AuditBundleTests {
    static let repository = URL(fileURLWithPath: fixturesDirectory).deletingLastPathComponent().path

    /// Runs the independent Python verifier; returns (exit status, output).
    static func python(_ bundle: String, vkey: String, trusted: String? = nil) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repository + "/tools/verify-bundle.py", bundle, "--vkey", vkey]
            + (trusted.map { ["--trusted", $0] } ?? [])
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        try pipe.fileHandleForWriting.close()
        let output = await readToEnd(pipe.fileHandleForReading)
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// Copies a bundle, changes one byte of `file` at `offset` (from the end when negative), and optionally
    /// rewrites the manifest's hash as a forger would.
    static func forge(_ bundle: String, _ file: String, offset: Int, rehash: Bool, into copy: String) throws {
        try FileManager.default.copyItem(atPath: bundle, toPath: copy)
        let url = URL(fileURLWithPath: copy + "/" + file)
        var data = try Data(contentsOf: url)
        data[offset >= 0 ? offset : data.count + offset] ^= 0x01
        try data.write(to: url)
        guard rehash else { return }
        let manifestURL = URL(fileURLWithPath: copy + "/manifest.json")
        var manifest = try JSONDecoder().decode(AuditBundle.Manifest.self, from: Data(contentsOf: manifestURL))
        manifest.files[file] = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        try JSONEncoder().encode(manifest).write(to: manifestURL)
    }

    @Test("a bundle verifies with both verifiers; a changed byte in entries, parts or checkpoints fails both")
    func exportAndVerify() async throws {
        try await withStore(origin: "ward.example/dossiers") { store, directory in
            let signer = try NoteSigner.generate(name: "ward.example/dossiers")
            let state = try SigningState(path: directory.sub("k.signed"))
            var sizes = [UInt64]()
            for round in 0..<3 {
                for i in 0..<[40, 60, 150][round] {
                    try await store.append(to: "dossier-\(i % 9)", [
                        event("A.v1", "{\"round\":\(round),\"i\":\(i)}", personal: i % 4 == 0 ? "Võ Văn \(i)" : nil),
                    ])
                }
                sizes.append(try await store.signCheckpoint(with: signer, state: state).checkpoint.size)
            }
            #expect(sizes == [40, 100, 250])
            let vkey = signer.verifierKey
            let full = directory.sub("bundle-full")
            let manifest = try AuditBundle.export(from: store, into: full, verifierKey: vkey)
            #expect(manifest.checkpoints == [40, 100, 250] && manifest.fromSize == 0 && manifest.toSize == 250)
            let report = try AuditBundle.verify(directory: full, verifier: signer.verifier)
            #expect(report.entries == 250 && report.checkpoints == 3 && report.consistencyProofs == 2)
            #expect(report.partsVerified == 250 + 10 + 15 + 38)  // every fourth event of each round has a personal part
            let (status, output) = try await Self.python(full, vkey: vkey)
            #expect(status == 0, "\(output)")
            #expect(output.contains("250 entries"))

            // From a size the auditor trusts.
            let trustedNote = directory.sub("trusted-40.note")
            try store.checkpoints()[0].note.formatted.write(toFile: trustedNote, atomically: true, encoding: .utf8)
            let partial = directory.sub("bundle-40")
            _ = try AuditBundle.export(from: store, into: partial, from: 40, verifierKey: vkey)
            let trusted = try SignedCheckpoint(parsing: try String(contentsOfFile: trustedNote, encoding: .utf8))
            #expect(try AuditBundle.verify(directory: partial, verifier: signer.verifier, trusted: trusted).entries == 210)
            #expect(try await Self.python(partial, vkey: vkey, trusted: trustedNote).0 == 0)

            // Forgeries: a raw change, and changes with the manifest rehashed.
            let cases: [(String, String, Int, Bool)] = [
                ("raw-entry", "entries.bin", 100, false), ("entry", "entries.bin", 100, true),
                ("part", "payloads.bin", -3, true), ("checkpoint", "checkpoints/100.note", 5, true),
                ("consistency", "consistency/40-100.txt", 3, true),
            ]
            for (name, file, offset, rehash) in cases {
                let copy = directory.sub("forged-\(name)")
                try Self.forge(full, file, offset: offset, rehash: rehash, into: copy)
                #expect(throws: StoreError.self, "\(name)") {
                    try AuditBundle.verify(directory: copy, verifier: signer.verifier)
                }
                let (code, text) = try await Self.python(copy, vkey: vkey)
                #expect(code == 1, "\(name): the Python verifier accepted a forged bundle: \(text)")
                #expect(text.contains("FAILED"), "\(name): \(text)")
            }

            // A withheld facts part: payloads.bin without its first part (rehashed), claimed as "erased".
            let withheld = directory.sub("forged-withheld")
            try FileManager.default.copyItem(atPath: full, toPath: withheld)
            let payloadsURL = URL(fileURLWithPath: withheld + "/payloads.bin")
            var payloads = try Data(contentsOf: payloadsURL)
            let firstLength = Int(payloads[41]) << 24 | Int(payloads[42]) << 16 | Int(payloads[43]) << 8 | Int(payloads[44])
            payloads.removeSubrange(0..<(45 + firstLength))
            try payloads.write(to: payloadsURL)
            let manifestURL = URL(fileURLWithPath: withheld + "/manifest.json")
            var forgedManifest = try JSONDecoder().decode(AuditBundle.Manifest.self, from: Data(contentsOf: manifestURL))
            forgedManifest.files["payloads.bin"] = SHA256.hash(data: payloads).map { String(format: "%02x", $0) }.joined()
            try JSONEncoder().encode(forgedManifest).write(to: manifestURL)
            let withheldError = #expect(throws: StoreError.self) {
                try AuditBundle.verify(directory: withheld, verifier: signer.verifier)
            }
            #expect(withheldError?.message.contains("cannot have been erased") == true)
            let (withheldCode, withheldText) = try await Self.python(withheld, vkey: vkey)
            #expect(withheldCode == 1 && withheldText.contains("cannot have been erased"), "\(withheldText)")

            // Another key is refused.
            let stranger = try NoteSigner.generate(name: "ward.example/dossiers")
            #expect(throws: StoreError.self) { try AuditBundle.verify(directory: full, verifier: stranger.verifier) }
            #expect(try await Self.python(full, vkey: stranger.verifierKey).0 == 1)
        }
    }

    @Test("export refuses sizes that were not signed")
    func unsignedSizes() async throws {
        try await withStore(origin: "o.example/log") { store, directory in
            let signer = try NoteSigner.generate(name: "o.example/log")
            try await store.append(to: "a-1", (0..<10).map { _ in event() })
            #expect(throws: StoreError.self) { try AuditBundle.export(from: store, into: directory.sub("b0")) }
            _ = try await store.signCheckpoint(with: signer, state: try SigningState(path: directory.sub("k.signed")))
            let error = #expect(throws: StoreError.self) {
                try AuditBundle.export(from: store, into: directory.sub("b1"), from: 3)
            }
            #expect(error?.message.contains("signed size") == true)
        }
    }
}
