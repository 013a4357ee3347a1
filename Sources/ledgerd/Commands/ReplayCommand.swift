import ArgumentParser
import EventStore
import Foundation
import Ledger

/// `ledgerd replay`: the auditor's view of one stream (a dossier, a person, an approval, a work item): each event with
/// the state after it, optionally as of a time or a position. Read-only; runs beside a daemon.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay one stream (or one person's stream) with the state after each event.")

    @Option(help: "The store.") var store: String
    @Option(help: "The stream, e.g. dossier-<uuid> or approval-<uuid>.") var stream: String?
    @Option(help: "A staff id: replays person-<staff>.") var person: String?
    @Option(help: "Stop at this domain time (RFC 3339).") var asOf: String?
    @Option(help: "Stop at this log position (included).") var position: UInt64?

    func run() async throws {
        guard let name = stream ?? person.map({ "person-\($0)" }) else {
            throw ValidationError("name --stream or --person")
        }
        let limit = try asOf.map { text -> Int64 in
            guard let t = Instant.parse(text) else { throw ValidationError("--as-of \(text) is not an RFC 3339 instant") }
            return t
        }
        var options = StoreOptions()
        options.readOnly = true
        let log = try Store.open(at: store, options: options)
        defer { log.close() }
        let events = try log.readStream(name, limit: .max).filter { position == nil || $0.position <= position! }
        guard !events.isEmpty else { throw ValidationError("the store has no stream \(name)") }
        var shown = 0
        for step in try ReplayState.replay(events) {
            if let limit, let at = step.occurredAt, at > limit { break }
            shown += 1
            let e = step.event
            let when = step.occurredAt.map { Instant.format($0, utcOffset: 7 * 3600) } ?? "-"
            print("#\(e.position) v\(e.record.streamVersion) \(when) \(e.record.eventType) by \(e.record.actor)"
                + (e.record.metadata["principal"].map { " (\($0))" } ?? ""))
            print("    → \(step.state)")
        }
        print("\(shown) of \(events.count) events of \(name)")
    }
}
