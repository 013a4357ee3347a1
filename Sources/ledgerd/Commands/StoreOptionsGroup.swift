import ArgumentParser
import EventStore
import Foundation

/// `--store DIR` and `--key FILE`, shared by the subcommands that work on a store.
struct StoreLocation: ParsableArguments {
    @Option(name: .long, help: "The store directory.")
    var store: String

    @Option(name: .long, help: "The signing key file (default: <store>.key, beside the store directory).")
    var key: String?

    /// The signing key's path.
    var keyPath: String { key ?? Self.trimmed(store) + ".key" }

    /// The signing state kept beside the key.
    var statePath: String { keyPath + ".signed" }

    static func trimmed(_ path: String) -> String {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }

    /// Opens the store (read-only when asked).
    func open(readOnly: Bool = false) throws -> Store {
        var options = StoreOptions()
        options.readOnly = readOnly
        return try Store.open(at: store, options: options)
    }

    /// Reads the signing key.
    func signer() throws -> NoteSigner {
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
