import ArgumentParser
import EventStore
import Foundation

/// `ledgerd verify`: recomputes the tree from the records and checks everything the log commits to.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a store read-only (it may run beside the daemon).",
        discussion: """
            Recomputes the Merkle tree from the records and compares every stored node, the frontier and every \
            checkpoint; checks every stream's versions and previous-position chain and every payload part's \
            commitment. Exits 1 naming the first inconsistency.
            """
    )

    @Argument(help: "The store directory.")
    var store: String

    @Option(help: "The log's verifier key (text or file); checkpoint signatures are checked when given.")
    var vkey: String?

    @Flag(help: "Tree and chains only: skip decoding payload parts.")
    var treeOnly = false

    @Flag(help: "Print the result as one JSON object on the last line.")
    var json = false

    func run() async throws {
        var options = StoreOptions()
        options.readOnly = true
        let log = try Store.open(at: store, options: options)
        defer { log.close() }
        let verifier = try vkey.map(verifierKey)
        let bar = ProgressBar(label: "verify")
        let clock = ContinuousClock()
        let start = clock.now
        let report = try log.verify(commitments: !treeOnly, verifier: verifier) { done, total in
            bar.update(done, of: total)
        }
        bar.finish()
        let seconds = (clock.now - start).seconds
        print("verified \(report.events) events in \(report.streams) streams: root \(report.root.hex)")
        print("  payload parts checked: \(report.partsVerified)\(treeOnly ? " (tree only)" : "")")
        print("  checkpoints matching the tree: \(report.checkpointsVerified); signatures verified: "
            + "\(report.signaturesVerified)\(verifier == nil ? " (no --vkey given)" : "")")
        for rollback in report.rollbacks {
            print("  BREAK: rollback at position \(rollback.position) abandons checkpoint \(rollback.abandonedSize): "
                + rollback.reason)
        }
        print(String(format: "  %.2f s, %.0f events/s", seconds, Double(report.events) / max(seconds, 1e-9)))
        if json {
            print(encodeJSONLine(VerifyResult(
                events: report.events, root: report.root.hex, partsVerified: report.partsVerified,
                checkpointsVerified: report.checkpointsVerified, signaturesVerified: report.signaturesVerified,
                rollbacks: report.rollbacks.count, seconds: seconds,
                eventsPerSec: Double(report.events) / max(seconds, 1e-9))))
        }
    }
}

/// `verify --json`.
struct VerifyResult: Encodable {
    var events: UInt64
    var root: String
    var partsVerified: Int
    var checkpointsVerified: Int
    var signaturesVerified: Int
    var rollbacks: Int
    var seconds: Double
    var eventsPerSec: Double

    enum CodingKeys: String, CodingKey {
        case events, root, rollbacks, seconds
        case partsVerified = "parts_verified"
        case checkpointsVerified = "checkpoints_verified"
        case signaturesVerified = "signatures_verified"
        case eventsPerSec = "events_per_sec"
    }
}
