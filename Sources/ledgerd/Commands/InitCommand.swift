import ArgumentParser
import EventStore
import Foundation

/// `ledgerd init`: creates a store and its signing key, and prints the verifier key.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a store and its checkpoint signing key; print the verifier key to publish.",
        discussion: """
            The key is written to <store>.key (mode 0600), outside the store directory, so backups of the store \
            never carry it; the verifier key is printed and written to <store>.vkey. The config file <store>.toml \
            names the origin and the key, and maps the account running init to the admin role.
            """
    )

    @OptionGroup var location: StoreLocation

    @Option(help: "The log's origin, e.g. ledger.agency.example/dossiers (the checkpoint key's name too).")
    var origin: String

    func run() async throws {
        let keyPath = location.key ?? StoreLocation.trimmed(location.store) + ".key"
        guard !FileManager.default.fileExists(atPath: keyPath) else {
            throw ValidationError("a key already exists at \(keyPath); a store gets a new key of its own")
        }
        guard !FileManager.default.fileExists(atPath: location.configPath) else {
            throw ValidationError("a config already exists at \(location.configPath); init makes a new store only")
        }
        let signer = try Self.initialise(store: location.store, origin: origin, keyPath: keyPath,
                                         configPath: location.configPath)
        let vkeyPath = StoreLocation.trimmed(location.store) + ".vkey"
        print("created store \(location.store) (origin \(origin))")
        print("signing key: \(keyPath) (keep it secret; it is not part of any backup)")
        print("config: \(location.configPath) (uid \(getuid()) is admin)")
        print("verifier key (publish it; also in \(vkeyPath)):")
        print(signer.verifierKey)
    }

    /// Creates the store, the key (0600), the config (the running account as admin) and `<store>.vkey`.
    static func initialise(store path: String, origin: String, keyPath: String, configPath: String) throws -> NoteSigner {
        let store = try Store.create(at: path, origin: origin)
        store.close()
        let signer = try NoteSigner.generate(name: origin)
        guard FileManager.default.createFile(atPath: keyPath, contents: Data((signer.privateKeyText + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600])
        else { throw ValidationError("cannot write the key file \(keyPath)") }
        var config = LedgerConfig(origin: origin, key: URL(fileURLWithPath: keyPath).standardizedFileURL.path)
        config.roles[getuid()] = "admin"
        try config.text.write(toFile: configPath, atomically: true, encoding: .utf8)
        let vkeyPath = StoreLocation.trimmed(path) + ".vkey"
        try (signer.verifierKey + "\n").write(toFile: vkeyPath, atomically: true, encoding: .utf8)
        return signer
    }
}
