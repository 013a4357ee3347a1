import ArgumentParser
import EventStore
import Foundation

/// `ledgerd checkpoint …`: sign, show, add witness cosignatures, record a rollback.
struct CheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Signed checkpoints of the log (C2SP tlog-checkpoint).",
        subcommands: [Sign.self, Show.self, CosignAdd.self, Rollback.self]
    )

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign a checkpoint of the whole log now.")
        @OptionGroup var location: StoreLocation
        @Option(help: "A running daemon's socket (default: the store's config); signing goes through it when it answers.")
        var socket: String?

        func run() async throws {
            if let daemon = runningDaemon(location, socket: socket) {
                try viaDaemon(daemon, "POST", "/admin/checkpoints")
                return
            }
            let store = try location.open()
            defer { store.close() }
            let signed = try await store.signCheckpoint(with: try location.signer(),
                                                        state: try SigningState(path: try location.statePath()))
            print(signed.note.formatted, terminator: "")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the latest checkpoint (or one by size).")
        @OptionGroup var location: StoreLocation
        @Option(help: "The checkpoint's tree size (default: the latest).")
        var size: UInt64?

        func run() async throws {
            let store = try location.open(readOnly: true)
            defer { store.close() }
            let all = try store.checkpoints()
            guard let found = size.map({ s in all.first { $0.checkpoint.size == s } }) ?? all.last else {
                throw ValidationError(size.map { "no checkpoint of size \($0)" } ?? "no checkpoint signed yet")
            }
            print(found.note.formatted, terminator: "")
        }
    }

    struct CosignAdd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cosign-add",
            abstract: "Store a witness's cosignatures on a checkpoint, after verifying them."
        )
        @OptionGroup var location: StoreLocation
        @Option(help: "The cosigned checkpoint note (a file).")
        var note: String
        @Option(name: .customLong("witness-key"),
                help: "A witness verifier key (type 0x04) besides the config's witness_keys; repeatable.")
        var witnessKeys: [String] = []
        @Option(help: "A running daemon's socket (default: the store's config); the note goes through it when it answers.")
        var socket: String?

        func run() async throws {
            if let daemon = runningDaemon(location, socket: socket) {
                guard witnessKeys.isEmpty else {
                    throw ValidationError("a daemon is running: it verifies against the config's witness_keys only; add "
                        + "the key there and restart it, or pass no --witness-key")
                }
                try viaDaemon(daemon, "POST", "/admin/checkpoints/cosignatures",
                              body: try String(contentsOfFile: note, encoding: .utf8))
                return
            }
            let witnesses = (try location.loadConfig()?.witnessVerifiers() ?? []) + (try witnessKeys.map(verifierKey))
            guard !witnesses.isEmpty else {
                throw ValidationError("no witness keys: list them in witness_keys of \(location.configPath), or pass "
                    + "--witness-key")
            }
            let text = try String(contentsOfFile: note, encoding: .utf8)
            let store = try location.open()
            defer { store.close() }
            let stored = try await store.addCosignatures(text, witnesses: witnesses)
            print(stored.note.formatted, terminator: "")
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that the log no longer extends the last signed checkpoint (after a restore).",
            discussion: "Every later verification reports the break. Only for a store restored from an older backup."
        )
        @OptionGroup var location: StoreLocation
        @Option(help: "Why (recorded in the log).")
        var reason: String
        @Option(help: "A running daemon's socket (default: the store's config); the entry goes through it when it answers.")
        var socket: String?

        func run() async throws {
            if let daemon = runningDaemon(location, socket: socket) {
                try viaDaemon(daemon, "POST", "/admin/checkpoints/rollbacks", body: encodeJSONLine(["reason": reason]))
                return
            }
            let store = try location.open()
            defer { store.close() }
            let result = try await store.recordRollback(reason: reason, state: try SigningState(path: try location.statePath()),
                                                        actor: ProcessInfo.processInfo.environment["USER"] ?? "")
            print("rollback recorded at position \(result.positions[0]); signing may resume")
        }
    }
}
