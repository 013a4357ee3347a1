import ArgumentParser
import EventStore
import Foundation

/// `ledgerd erase`: erases a data subject's personal parts.
struct EraseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase a data subject: destroy their key and personal parts, recording a SubjectErased entry.",
        discussion: "Records, the tree, checkpoints and proofs stay valid. Run `ledgerd compact` afterwards to remove "
            + "the bytes from the files."
    )

    @OptionGroup var location: StoreLocation

    @Option(help: "The subject's pseudonymous id (a UUID).")
    var subject: String

    @Option(help: "Why (recorded in the log).")
    var reason: String

    @Option(help: "A running daemon's socket (default: the store's config); the erasure goes through it when it answers.")
    var socket: String?

    func run() async throws {
        guard let id = UUID(uuidString: subject) else { throw ValidationError("--subject must be a UUID") }
        if let daemon = runningDaemon(location, socket: socket) {
            try viaDaemon(daemon, "POST", "/admin/erasures", body: encodeJSONLine(["subject": id.uuidString, "reason": reason]))
            return
        }
        let store = try location.open()
        defer { store.close() }
        let result = try await store.eraseSubject(id, reason: reason,
                                                  actor: ProcessInfo.processInfo.environment["USER"] ?? "")
        print("subject \(id.uuidString.lowercased()) erased (entry at position \(result.positions[0])); "
            + "run `ledgerd compact --store \(location.store)` to remove the bytes from the files")
    }
}

/// `ledgerd compact`: rewrites the store as a compacted copy (offline).
struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Rewrite the store compactly so erased bytes leave its files (the store must not be open)."
    )

    @OptionGroup var location: StoreLocation

    func run() async throws {
        try Store.compact(at: location.store)
        print("compacted \(location.store)")
    }
}
