import ArgumentParser
import EventStore
import Foundation
import Projections

/// A running daemon for a store, if one answers on `--socket` or on the socket of the store's own config file (never
/// a default path, which could be another store's daemon): commands that write go through it.
func runningDaemon(_ location: StoreLocation, socket: String?) -> UnixHTTPClient? {
    guard let path = socket ?? (try? location.loadConfig())??.socketPath else { return nil }
    let client = UnixHTTPClient(socketPath: path)
    return ((try? client.probe()) ?? false) ? client : nil
}

/// Sends a request to the daemon and prints its answer; a non-2xx answer is an error.
func viaDaemon(_ client: UnixHTTPClient, _ method: String, _ path: String, body: String? = nil) throws {
    let response = try client.request(method, path, body: body.map { Data($0.utf8) })
    guard (200..<300).contains(response.status) else {
        throw ValidationError("the daemon answered \(response.status): \(response.text)")
    }
    print(response.text)
}

/// `ledgerd rebuild`: empties projections and folds the log again (through the daemon when it runs).
struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild", abstract: "Rebuild projections from the log (through a running daemon, if any).")
    @OptionGroup var location: StoreLocation
    @Option(help: "One projection (default: all): dossiers, work-items, attendance, audit.") var projection: String?
    @Option(help: "The state directory (default: <store>.state).") var state: String?
    @Option(help: "The daemon's socket (default: the config's).") var socket: String?

    func run() async throws {
        let names = projection.map { [$0] } ?? ReadModel.projections.map(\.name)
        guard names.allSatisfy({ n in ReadModel.projections.contains { $0.name == n } }) else {
            throw ValidationError("no projection \(projection ?? ""); they are "
                + ReadModel.projections.map(\.name).joined(separator: ", "))
        }
        if let daemon = runningDaemon(location, socket: socket) {
            for name in names { try viaDaemon(daemon, "POST", "/admin/projections/\(name)/rebuild") }
            return
        }
        var options = StoreOptions()
        options.readOnly = true
        let store = try Store.open(at: location.store, options: options)
        defer { store.close() }
        let model = try ReadModel(store: store, statePath: state ?? StoreLocation.trimmed(location.store) + ".state")
        for p in ReadModel.projections where names.contains(p.name) { try model.runner.reset(p) }
        let bar = ProgressBar(label: "rebuild")
        let head = try model.runner.catchUp { done, total in bar.update(done, of: total) }
        bar.finish()
        for p in ReadModel.projections where names.contains(p.name) {
            print("\(p.name) v\(p.version): \(head) events, digest \(try model.runner.digest(of: p))")
        }
    }
}

/// `ledgerd backup`: an online, compacted copy (through the daemon when it runs); `ledgerd restore` puts one back.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Write a consistent, compacted copy of the store to a new directory.",
        discussion: "Works while the daemon runs (it writes the copy). The signing key is not part of a backup.")
    @OptionGroup var location: StoreLocation
    @Option(help: "The new directory for the copy.") var to: String
    @Option(help: "The daemon's socket (default: the config's).") var socket: String?

    func run() async throws {
        let target = URL(fileURLWithPath: to).standardizedFileURL.path
        if let daemon = runningDaemon(location, socket: socket) {
            try viaDaemon(daemon, "POST", "/admin/backups", body: encodeJSONLine(["directory": target]))
            return
        }
        let store = try location.open()
        defer { store.close() }
        let size = try store.backup(to: target)
        print("backed up \(size) events to \(target)")
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Put a backup in the store's place (the daemon must be stopped).",
        discussion: """
            Moves the current store aside (<store>.before-restore-<time>), copies the backup into place, opens it and \
            runs the store's checks. A restored store older than the last signed checkpoint refuses to sign until \
            `ledgerd checkpoint rollback` records the break (see README, "Operating a store").
            """)
    @OptionGroup var location: StoreLocation
    @Option(help: "The backup directory.") var from: String

    func run() async throws {
        let fm = FileManager.default
        guard fm.fileExists(atPath: from + "/data.mdb") else { throw ValidationError("\(from) holds no backup (no data.mdb)") }
        let base = StoreLocation.trimmed(location.store)
        // A second restore within the same second gets its own names.
        let time = "\(Int(Date().timeIntervalSince1970))"
        var suffix = time
        var n = 1
        func taken(_ suffix: String) -> Bool {
            [base + ".before-restore-" + suffix, base + ".before-restore-" + suffix + ".state", base + ".restoring-" + suffix]
                .contains(where: fm.fileExists(atPath:))
        }
        while taken(suffix) {
            n += 1
            suffix = "\(time)-\(n)"
        }
        let aside = base + ".before-restore-" + suffix
        if fm.fileExists(atPath: location.store) {
            // The lock: a running daemon makes this fail before anything moves.
            let current = try location.open()
            current.close()
        }
        // The copy is made beside the store first: should it fail, the current store stays where it was.
        let staging = base + ".restoring-" + suffix
        do {
            try Store.copyForRestore(from: from, to: staging)
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
        if fm.fileExists(atPath: location.store) {
            try fm.moveItem(atPath: location.store, toPath: aside)
            print("moved the current store aside to \(aside)")
        }
        // The projections reflect the replaced log (or a log gone before): they go aside too and are rebuilt.
        if fm.fileExists(atPath: base + ".state") {
            try fm.moveItem(atPath: base + ".state", toPath: aside + ".state")
            print("moved the projections' state aside to \(aside).state")
        }
        try fm.moveItem(atPath: staging, toPath: location.store)
        let store = try location.open()
        defer { store.close() }
        let report = try store.check()
        print("restored \(store.head) events from \(from) into \(location.store); checks passed (\(report.streams) streams)")
    }
}
