import ArgumentParser
import EventStore
import Foundation
import Projections

/// `ledgerd attest`: records each projection's state digest in the log (leaf type 3), through the daemon when it
/// runs; `--check` rebuilds every recorded attestation's projection to its position and compares.
struct AttestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attest",
        abstract: "Record projection state digests in the log, or check the recorded ones against a rebuild.",
        discussion: """
            Without --check: catches the projections up and appends, per projection, a ProjectionAttested.v1 entry \
            (leaf type 3: projection, version, position, SHA-256 of the state) to projection-attestations; the next \
            signed checkpoint commits to it. With --check (read-only, beside a daemon): folds each attested \
            projection from zero to the attested position in a private directory and compares digests; exits 1 \
            naming the first that differs.
            """)
    @OptionGroup var location: StoreLocation
    @Option(help: "One projection (default: all): dossiers, work-items, attendance, audit.") var projection: String?
    @Flag(help: "Check the recorded attestations against a rebuild instead of recording new ones.") var check = false
    @Option(help: "The state directory (default: <store>.state).") var state: String?
    @Option(help: "The daemon's socket (default: the config's).") var socket: String?

    func run() async throws {
        let chosen = ReadModel.projections.filter { projection == nil || $0.name == projection }
        guard !chosen.isEmpty else {
            throw ValidationError("no projection \(projection ?? ""); they are "
                + ReadModel.projections.map(\.name).joined(separator: ", "))
        }
        if check { return try checkAttestations(chosen.map(\.name)) }
        if let daemon = runningDaemon(location, socket: socket) {
            for p in chosen { try viaDaemon(daemon, "POST", "/admin/projections/\(p.name)/attestations") }
            return
        }
        let store = try Store.open(at: location.store)
        defer { store.close() }
        let model = try ReadModel(store: store, statePath: state ?? StoreLocation.trimmed(location.store) + ".state")
        try model.runner.catchUp()
        for p in chosen {
            let attestation = try model.runner.attestation(of: p)
            let result = try await store.attest(attestation, actor: "ledgerd")
            print("\(p.name) v\(attestation.version) at \(attestation.position): \(attestation.digest) "
                + "(log position \(result.positions[0]))")
        }
    }

    private func checkAttestations(_ names: [String]) throws {
        var options = StoreOptions()
        options.readOnly = true
        let store = try Store.open(at: location.store, options: options)
        defer { store.close() }
        let recorded = try store.attestations().filter { names.contains($0.attestation.projection) }
        guard !recorded.isEmpty else { return print("no attestations recorded") }
        let erasures = try store.readStream(Store.erasureStream, limit: .max, payloads: .none).map(\.position)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ledgerd-attest-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // One rebuild per projection, folded forward through its attestations in log order.
        for name in Set(recorded.map(\.attestation.projection)).sorted() {
            guard let p = ReadModel.projections.first(where: { $0.name == name }) else { continue }
            let runner = try ProjectionRunner(store: store, statePath: scratch + "/" + name, projections: [p])
            for (recordedAt, a) in recorded where a.projection == name {
                let since = erasures.filter { $0 > recordedAt }.count
                if p.keepsPersonalData && since > 0 {
                    print("\(name) v\(a.version) at \(a.position): not comparable, \(since) subject erasure(s) since took "
                        + "personal fields it keeps out of the log")
                    continue
                }
                guard a.version == p.version else {
                    print("\(name) at \(a.position): attested under version \(a.version), this build has \(p.version); skipped")
                    continue
                }
                try runner.catchUp(until: a.position)
                let digest = try runner.digest(of: p)
                guard digest == a.digest else {
                    FileHandle.standardError.write(Data(("\(name) v\(a.version) at position \(a.position): the log "
                        + "rebuilds to \(digest), the attestation says \(a.digest)\n").utf8))
                    throw ExitCode(1)
                }
                print("\(name) v\(a.version) at \(a.position): \(digest) matches")
            }
        }
    }
}
