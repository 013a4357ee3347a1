import ArgumentParser
import EventStore
import Foundation

/// `ledgerd audit …`: artefacts for auditors.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Proofs for auditors.",
        subcommands: [Export.self, Verify.self, Proof.self]
    )

    /// An audit bundle between two signed sizes.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an audit bundle: checkpoints, consistency proofs, records and payload parts.",
            discussion: "The layout is documented in ARCHITECTURE.md (\"Audit bundles\"); tools/verify-bundle.py checks one."
        )
        @OptionGroup var location: StoreLocation
        @Option(help: "The bundle directory to create.")
        var out: String
        @Option(help: "A signed size the auditor already trusts (default 0).")
        var fromSize: UInt64 = 0
        @Option(help: "A signed size (default: the latest checkpoint).")
        var toSize: UInt64?

        func run() async throws {
            let store = try location.open(readOnly: true)
            defer { store.close() }
            let vkeyPath = StoreLocation.trimmed(location.store) + ".vkey"
            let vkey = (try? String(contentsOfFile: vkeyPath, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let bar = ProgressBar(label: "export")
            let manifest = try AuditBundle.export(from: store, into: out, from: fromSize, to: toSize, verifierKey: vkey) {
                bar.update($0, of: $1)
            }
            bar.finish()
            print("bundle \(out): entries \(manifest.fromSize)..<\(manifest.toSize), checkpoints "
                + manifest.checkpoints.map(String.init).joined(separator: ", "))
        }
    }

    /// Verifies a bundle without a store.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify an audit bundle offline (never opens a store).",
            discussion: "Exits 1 naming what failed. Pin the log's verifier key out of band: the bundle's log.vkey is informative."
        )
        @Argument(help: "The bundle directory.")
        var bundle: String
        @Option(help: "The log's verifier key (text or file).")
        var vkey: String
        @Option(help: "A checkpoint note you kept earlier; the bundle must prove consistency with it.")
        var trusted: String?

        func run() async throws {
            let trustedCheckpoint = try trusted.map {
                try SignedCheckpoint(parsing: try String(contentsOfFile: $0, encoding: .utf8))
            }
            let report = try AuditBundle.verify(directory: bundle, verifier: try verifierKey(vkey), trusted: trustedCheckpoint)
            print("bundle verified: \(report.entries) entries, \(report.checkpoints) checkpoints, "
                + "\(report.consistencyProofs) consistency proofs, \(report.partsVerified) payload parts")
            if !report.missingParts.isEmpty {
                print("  absent (erased) parts: \(report.missingParts.joined(separator: ", "))")
            }
        }
    }

    /// A C2SP tlog-proof of one event against the latest checkpoint.
    struct Proof: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a c2sp.org/tlog-proof@v1 of one event against the latest checkpoint.",
            discussion: "The extra line carries the record (the leaf's bytes) in base64."
        )
        @OptionGroup var location: StoreLocation
        @Option(help: "The event's position.")
        var position: UInt64
        @Option(help: "Write the proof here instead of standard output.")
        var out: String?

        func run() async throws {
            let store = try location.open(readOnly: true)
            defer { store.close() }
            guard let checkpoint = try store.latestCheckpoint() else {
                throw ValidationError("no checkpoint signed yet: run `ledgerd checkpoint sign` first")
            }
            guard position < checkpoint.checkpoint.size else {
                throw ValidationError("position \(position) is not in the latest checkpoint (size \(checkpoint.checkpoint.size))")
            }
            guard let event = try store.event(at: position, payloads: .none) else {
                throw ValidationError("no event at position \(position)")
            }
            let proof = try store.inclusionProof(position: position, size: checkpoint.checkpoint.size)
            var text = "c2sp.org/tlog-proof@v1\n"
            text += "extra \(Data(try event.record.encoded()).base64EncodedString())\n"
            text += "index \(position)\n"
            text += proof.map { $0.base64 + "\n" }.joined()
            text += "\n" + checkpoint.note.formatted
            if let out {
                try text.write(toFile: out, atomically: true, encoding: .utf8)
            } else {
                print(text, terminator: "")
            }
        }
    }
}
