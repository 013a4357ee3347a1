import EventStore
import Foundation
import TestSupport
import Testing

/// Keys for tests.
enum EventStoreKeys {
    static let witnessSeed = [UInt8](repeating: 9, count: 32)
    static func witness() throws -> NoteSigner { try NoteSigner(name: "audit-office.example/w1", seed: witnessSeed) }
}

/// Runs the built `ledgerd` with arguments; returns (exit status, standard output, standard error).
func ledgerd(_ arguments: String...) async throws -> (Int32, String, String) { try await ledgerd(arguments) }

/// Runs the built `ledgerd` with an argument array.
func ledgerd(_ arguments: [String]) async throws -> (Int32, String, String) {
    try await runProcess(builtExecutable("ledgerd"), arguments)
}

@Suite("ledgerd command line", .serialized)
struct CommandLineTests {
    @Test("init, checkpoint sign and cosign-add from the config, verify, audit export/verify/proof, erase, compact")
    func operatorFlow() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledgerd-cli-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = directory + "/store"

        let (initStatus, initOut, _) = try await ledgerd("init", "--store", store, "--origin", "ward.example/dossiers")
        #expect(initStatus == 0)
        let vkey = try String(contentsOfFile: store + ".vkey", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(initOut.contains(vkey))
        let keyMode = try FileManager.default.attributesOfItem(atPath: store + ".key")[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        let config = try String(contentsOfFile: store + ".toml", encoding: .utf8)
        #expect(config.contains("\(getuid()) = \"admin\""))
        let (again, _, againErr) = try await ledgerd("init", "--store", store, "--origin", "x.example/y")
        #expect(again != 0 && againErr.contains("already exists"))

        // Some events, written through the library (the domain's commands arrive with the Ledger issue).
        let log = try Store.open(at: store)
        for i in 0..<30 {
            var metadata = Metadata()
            metadata["subject"] = i == 3 ? "6f0b3a52-2f5e-4d0b-8d0e-3c2b1a000003" : nil
            try await log.append(to: "dossier-\(i % 4)", [EventData(
                type: "A.v1", facts: Array("{\"i\":\(i)}".utf8), personal: i == 3 ? Array("Đỗ Văn D".utf8) : nil,
                metadata: metadata)])
        }
        log.close()

        let (signStatus, signed, _) = try await ledgerd("checkpoint", "sign", "--store", store)
        #expect(signStatus == 0 && signed.hasPrefix("ward.example/dossiers\n30\n"))
        let note = directory + "/cosigned.note"
        var cosigned = try SignedNote(parsing: signed)
        try cosigned.cosign(name: "audit-office.example/w1", seed: EventStoreKeys.witnessSeed, time: 1_700_000_000)
        try cosigned.formatted.write(toFile: note, atomically: true, encoding: .utf8)
        let (noWitness, _, noWitnessErr) = try await ledgerd("checkpoint", "cosign-add", "--store", store, "--note", note)
        #expect(noWitness != 0 && noWitnessErr.contains("witness_keys"))
        try config.replacingOccurrences(of: "witness_keys = []", with: "witness_keys = [\"\(try EventStoreKeys.witness().cosignatureVerifierKey)\"]")
            .write(toFile: store + ".toml", atomically: true, encoding: .utf8)
        let (cosignStatus, cosignOut, cosignErr) = try await ledgerd("checkpoint", "cosign-add", "--store", store, "--note", note)
        #expect(cosignStatus == 0, "\(cosignErr)")
        #expect(cosignOut.contains("audit-office.example/w1"))

        let (verifyStatus, verifyOut, _) = try await ledgerd("verify", store, "--vkey", store + ".vkey", "--json")
        #expect(verifyStatus == 0 && verifyOut.contains("\"signatures_verified\":1"))
        let (proofStatus, proof, _) = try await ledgerd("audit", "proof", "--store", store, "--position", "7")
        #expect(proofStatus == 0 && proof.hasPrefix("c2sp.org/tlog-proof@v1\nextra ") && proof.contains("\nindex 7\n"))
        let (exportStatus, _, _) = try await ledgerd("audit", "export", "--store", store, "--out", directory + "/bundle")
        #expect(exportStatus == 0)
        let (bundleStatus, bundleOut, _) = try await ledgerd("audit", "verify", directory + "/bundle", "--vkey", vkey)
        #expect(bundleStatus == 0 && bundleOut.contains("30 entries"))

        let (unknown, _, unknownErr) = try await ledgerd("erase", "--store", store, "--subject",
                                                         "00000000-0000-4000-8000-000000000000", "--reason", "test")
        #expect(unknown == 1 && unknownErr.contains("no personal data"))
        let (erase, _, _) = try await ledgerd("erase", "--store", store, "--subject",
                                              "6f0b3a52-2f5e-4d0b-8d0e-3c2b1a000003", "--reason", "request of the subject")
        #expect(erase == 0)
        #expect(try await ledgerd("compact", "--store", store).0 == 0)
        let (after, afterOut, _) = try await ledgerd("verify", store, "--json")
        #expect(after == 0 && afterOut.contains("\"events\":31"))

        let (missing, _, missingErr) = try await ledgerd("verify", directory + "/nothing")
        #expect(missing == 1 && missingErr.contains("no store at"))
    }
}
