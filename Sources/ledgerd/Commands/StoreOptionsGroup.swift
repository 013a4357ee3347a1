import ArgumentParser
import EventStore
import Foundation

/// `--store DIR`, `--config FILE` and `--key FILE`, shared by the subcommands that work on a store.
struct StoreLocation: ParsableArguments {
    @Option(name: .long, help: "The store directory.")
    var store: String

    @Option(name: .long, help: "The config file (default: <store>.toml, beside the store directory).")
    var config: String?

    @Option(name: .long, help: "The signing key file (default: the config's key, else <store>.key).")
    var key: String?

    /// The config file's path.
    var configPath: String { config ?? LedgerConfig.defaultPath(store: store) }

    /// The config, or `nil` when none was given and the default file does not exist.
    func loadConfig() throws -> LedgerConfig? {
        if config == nil && !FileManager.default.fileExists(atPath: configPath) { return nil }
        return try LedgerConfig(path: configPath)
    }

    /// The signing key's path: `--key`, else the config's `key`, else `<store>.key`.
    func keyPath() throws -> String {
        if let key { return key }
        return try loadConfig()?.key ?? Self.trimmed(store) + ".key"
    }

    /// The signing state kept beside the key.
    func statePath() throws -> String { try keyPath() + ".signed" }

    static func trimmed(_ path: String) -> String {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }

    /// Opens the store (read-only when asked), reporting on stderr the progress of an index catch-up that has a
    /// long way to go (a rebuild after a system crash, a restored backup, a store from an older version).
    func open(readOnly: Bool = false) throws -> Store {
        var options = StoreOptions()
        options.readOnly = readOnly
        options.indexProgress = Self.reportIndexProgress
        return try Store.open(at: store, options: options)
    }

    /// Prints index catch-up progress at every tenth of a long catch-up.
    static let reportIndexProgress: @Sendable (UInt64, UInt64) -> Void = { indexed, head in
        guard head >= 100_000 else { return }
        let step = head / 10
        if indexed == head || indexed % step < 8_192 {
            FileHandle.standardError.write(Data("indexing the log: \(indexed) of \(head) events\n".utf8))
        }
    }

    /// Reads the signing key.
    func signer() throws -> NoteSigner {
        let keyPath = try keyPath()
        guard let text = try? String(contentsOfFile: keyPath, encoding: .utf8) else {
            throw StoreError(.notFound, "no signing key at \(keyPath); create the store with `ledgerd init`, or pass --key")
        }
        return try NoteSigner(privateKeyText: text)
    }
}

/// Reads a verifier key given inline or as a file.
func verifierKey(_ value: String) throws -> NoteVerifier {
    if let text = try? String(contentsOfFile: value, encoding: .utf8) {
        return try NoteVerifier(verifierKey: text)
    }
    return try NoteVerifier(verifierKey: value)
}
