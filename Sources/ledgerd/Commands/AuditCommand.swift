import ArgumentParser
import EventStore
import Foundation

/// `ledgerd audit …`: artefacts for auditors.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Proofs for auditors.",
        subcommands: [Proof.self]
    )

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
