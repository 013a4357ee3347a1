import EventStore
import Foundation
import Ledger
import Projections
import TestSupport
import Testing

@Suite("ledgerd replay, rebuild, backup/restore, query and submit", .serialized)
struct ToolTests {
    @Test("offline: replay shows the state after each event (and stops as of a time); rebuild; backup and restore")
    func offline() async throws {
        let dir = temporaryPath("tools")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/store"
        _ = try await ledgerd("import", "--store", store, "--commands", fixtureURL("sample/commands.ndjson").path)
        let log = try Store.open(at: store, options: { var o = StoreOptions(); o.readOnly = true; return o }())
        let resolved = try #require(try log.readType("DossierResolved.v1", limit: 1).first?.record.stream)
        log.close()
        let (status, out, err) = try await ledgerd("replay", "--store", store, "--stream", resolved)
        #expect(status == 0, "\(err)")
        #expect(out.contains("→ status received (2)") && out.contains("→ status resolved (9)"))
        let early = try await ledgerd("replay", "--store", store, "--stream", resolved, "--as-of", "2020-04-01T00:00:00Z")
        #expect(early.1.contains("0 of"))
        #expect(try await ledgerd("replay", "--store", store, "--stream", "dossier-none").0 != 0)

        let rebuilt = try await ledgerd("rebuild", "--store", store, "--socket", dir + "/no.sock")
        #expect(rebuilt.0 == 0 && rebuilt.1.split(separator: "\n").count == ReadModel.projections.count, "\(rebuilt.2)")
        let again = try await ledgerd("rebuild", "--store", store, "--socket", dir + "/no.sock")
        #expect(again.1 == rebuilt.1, "a rebuild gives the same digests")

        let unknown = try await ledgerd("rebuild", "--store", store, "--projection", "weather", "--socket", dir + "/no.sock")
        #expect(unknown.0 != 0 && unknown.2.contains("no projection weather"))
        #expect(try await ledgerd("backup", "--store", store, "--to", dir + "/backup", "--socket", dir + "/no.sock").0 == 0)
        let twice = try await ledgerd("backup", "--store", store, "--to", dir + "/backup", "--socket", dir + "/no.sock")
        #expect(twice.0 != 0 && twice.2.contains("already holds a store"), "\(twice.2)")
        let notBackup = try await ledgerd("restore", "--store", store, "--from", dir)
        #expect(notBackup.0 != 0 && notBackup.2.contains("holds no backup"))
        let restore = try await ledgerd("restore", "--store", store, "--from", dir + "/backup")
        #expect(restore.0 == 0 && restore.1.contains("checks passed"), "\(restore.2)")
        let aside = try #require(try FileManager.default.contentsOfDirectory(atPath: dir)
            .first { $0.hasPrefix("store.before-restore-") && !$0.hasSuffix(".state") })
        #expect(FileManager.default.fileExists(atPath: store + "/index/data.mdb"), "a backup's compact index is copied")
        // Restoring from a store's own directory (the one moved aside): its index is a sparse file of the map's size,
        // left behind and rebuilt from the log rather than written out whole.
        let fromStore = try await ledgerd("restore", "--store", store, "--from", dir + "/" + aside)
        #expect(fromStore.0 == 0 && fromStore.1.contains("checks passed"), "\(fromStore.2)")
        let index = try FileManager.default.attributesOfItem(atPath: store + "/index/data.mdb")
        let logSize = try FileManager.default.attributesOfItem(atPath: store + "/data.mdb")[.size] as? Int ?? 0
        #expect((index[.size] as? Int ?? 0) > 0 && logSize < 1 << 30, "the copied log is its pages, not a map's size")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter {
            $0.hasPrefix("store.before-restore-") && !$0.hasSuffix(".state")
        }.count == 2, "a second restore in the same second moves the store aside under its own name")
    }

    @Test("an exact export imported into a new store gives the same projection digests; a re-run adds nothing")
    func exportImport() async throws {
        let dir = temporaryPath("reimport")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try await ledgerd("import", "--store", dir + "/a", "--commands", fixtureURL("sample/commands.ndjson").path)
        let export = try await ledgerd("export", "events", "--store", dir + "/a", "--exact", "--out", dir + "/all.ndjson")
        #expect(export.0 == 0, "\(export.2)")
        let first = try await ledgerd("import", "--store", dir + "/b", "--events", dir + "/all.ndjson")
        #expect(first.0 == 0 && first.1.contains("(0 already present)"), "\(first.2)")
        let rerun = try await ledgerd("import", "--store", dir + "/b", "--events", dir + "/all.ndjson")
        #expect(rerun.0 == 0 && rerun.1.contains("imported 0 events"), "\(rerun.1)")
        let plain = try await ledgerd("export", "events", "--store", dir + "/a", "--out", dir + "/plain.ndjson")
        #expect(plain.0 == 0)
        let refused = try await ledgerd("import", "--store", dir + "/c", "--events", dir + "/plain.ndjson")
        #expect(refused.0 != 0 && refused.2.contains("--exact"))

        func digests(_ name: String) throws -> [String] {
            let store = try Store.open(at: dir + "/" + name, options: { var o = StoreOptions(); o.readOnly = true; return o }())
            defer { store.close() }
            let model = try ReadModel(store: store, statePath: dir + "/state-" + name)
            try model.runner.catchUp()
            return try ReadModel.projections.map { try model.runner.digest(of: $0) }
        }
        #expect(try digests("a") == digests("b"))
    }

    @Test("through a daemon: submit, query, rebuild and backup go over its socket")
    func throughDaemon() async throws {
        let d = try await RunningDaemon(lines: 600)
        let command = ServeTests.command(UUID(), dossier: UUID(), name: "Hồ Văn Submit")
        let submitted = try await ledgerd("submit", "dossier.submit", "--socket", d.socket, "--data", command)
        #expect(submitted.0 == 0 && submitted.1.contains("positions"), "\(submitted.2)")
        let queue = try await ledgerd("query", "queue", "--socket", d.socket, "--agency", "HBC", "--tab", "new",
                                      "--as-of", "2020-04-03T10:00:00+07:00")
        #expect(queue.0 == 0 && queue.1.contains("Hồ Văn Submit"), "\(queue.2)")
        // An import while the daemon holds the store goes through its socket, expectations checked.
        let sample = try String(contentsOf: fixtureURL("sample/commands.ndjson"), encoding: .utf8).split(separator: "\n")
        try sample[600..<900].joined(separator: "\n").write(toFile: d.dir + "/more.ndjson", atomically: true, encoding: .utf8)
        let more = try await ledgerd("import", "--store", d.dir + "/store", "--commands", d.dir + "/more.ndjson",
                                     "--socket", d.socket)
        #expect(more.0 == 0 && more.1.contains("through the daemon"), "\(more.1)\(more.2)")
        let refused = try await ledgerd("submit", "dossier.submit", "--socket", d.socket, "--data", command)
        #expect(refused.0 == 0 && refused.1.contains("\"retry\":true"), "the same command again is a retry")
        let invalid = try await ledgerd("submit", "dossier.submit", "--socket", d.socket, "--data",
                                        ServeTests.command(UUID(), dossier: UUID()).replacingOccurrences(of: "1.001193", with: "0.000"))
        #expect(invalid.0 != 0 && invalid.2.contains("404") && invalid.2.contains("no procedure"))
        let bad = try await ledgerd("query", "weather", "--socket", d.socket, "--agency", "HBC")
        #expect(bad.0 != 0 && bad.2.contains("unknown query"))
        let rebuild = try await ledgerd("rebuild", "--store", d.dir + "/store", "--socket", d.socket, "--projection", "audit")
        #expect(rebuild.0 == 0 && rebuild.1.contains("digest"), "\(rebuild.2)")
        // Writes of the operator's commands go through the daemon too: sign, erase.
        let signed = try await ledgerd("checkpoint", "sign", "--store", d.dir + "/store", "--socket", d.socket)
        #expect(signed.0 == 0 && signed.1.contains("serve.example/log"), "\(signed.2)")
        // A new citizen, with the subject the portal gives (an applicant met before keeps theirs).
        let subject = UUID()
        let withSubject = ServeTests.command(UUID(), dossier: UUID(), name: "Đinh Erase").replacingOccurrences(
            of: #""applicantId":"079200000001""#, with: #""applicantId":"079200000999","subject":"\#(subject)""#)
        #expect(try await ledgerd("submit", "dossier.submit", "--socket", d.socket, "--data", withSubject).0 == 0)
        let erased = try await ledgerd("erase", "--store", d.dir + "/store", "--socket", d.socket, "--subject",
                                       subject.uuidString, "--reason", "Decree 13 request")
        #expect(erased.0 == 0 && erased.1.contains("position"), "\(erased.2)")
        let backup = try await ledgerd("backup", "--store", d.dir + "/store", "--socket", d.socket, "--to", d.dir + "/bk")
        #expect(backup.0 == 0 && FileManager.default.fileExists(atPath: d.dir + "/bk/data.mdb"), "\(backup.2)")
        #expect(await d.stop() == 0)
    }
}
