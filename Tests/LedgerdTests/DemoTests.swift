import EventStore
import Foundation
import Ledger
import Projections
import TestSupport
import Testing

@Suite("ledgerd demo, fixtures and import", .serialized)
struct DemoTests {
    @Test("demo runs to completion in a fresh directory and prints what the projections answer")
    func demo() async throws {
        let dir = temporaryPath("demo")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (status, out, err) = try await ledgerd("demo", "--dir", dir)
        #expect(status == 0, "\(err)")
        for section in ["1. Running", "3. Work queues", "4. Timeliness", "5. On-site cap", "6. Heads' accountability",
                        "7. Officials' scores", "8. The signed checkpoint"] {
            #expect(out.contains(section), "missing \(section)")
        }
        let again = try await ledgerd("demo", "--dir", dir)
        #expect(again.0 != 0 && again.2.contains("fresh directory"))

        // The printed figures are the projections' answers.
        let store = try Store.open(at: dir + "/store")
        defer { store.close() }
        let model = try ReadModel(store: store, statePath: dir + "/state")
        let period = Period.days(CivilDate("2020-04-01")!, CivilDate("2020-04-15")!)
        for agency in ["HBC", "SNV"] {
            let total = try #require(try model.timeliness(agency: agency, period: period).first { $0.key.unit.isEmpty }?.value)
            let line = try #require(out.split(separator: "\n").first { $0.hasPrefix("  \(agency) ") && $0.hasSuffix("%") })
            #expect(line.contains("\(total.received) (\(total.carriedOver)+") && line.hasSuffix(String(format: "%.1f%%", total.onTimeRate)))
        }
        let checkpoint = try #require(try store.latestCheckpoint())
        #expect(out.contains("\n  \(checkpoint.checkpoint.size)\n"))
    }

    @Test("fixtures generate writes the committed sample; import reports refusals and stops at a malformed line")
    func fixturesAndImport() async throws {
        let dir = temporaryPath("fixtures")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (status, out, _) = try await ledgerd("fixtures", "generate", "--out", dir)
        #expect(status == 0 && out.contains("wrote"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/commands.ndjson"))
            == Data(contentsOf: fixtureURL("sample/commands.ndjson")))
        let bad = try await ledgerd("fixtures", "generate", "--profile", "planet", "--out", dir)
        #expect(bad.0 != 0 && bad.2.contains("unknown profile planet"))

        let lines = try String(contentsOfFile: dir + "/commands.ndjson", encoding: .utf8).split(separator: "\n")
        try (lines.prefix(200).joined(separator: "\n") + "\n{\"commandId\": 7}\n")
            .write(toFile: dir + "/broken.ndjson", atomically: true, encoding: .utf8)
        let broken = try await ledgerd("import", "--store", dir + "/store", "--commands", dir + "/broken.ndjson")
        #expect(broken.0 != 0 && broken.2.contains("line 201"), "\(broken.2)")
        func head() throws -> UInt64 {
            let store = try Store.open(at: dir + "/store", options: { var o = StoreOptions(); o.readOnly = true; return o }())
            defer { store.close() }
            return store.head
        }
        let applied = try head()
        #expect(applied > 0, "the commands before the malformed line were applied")
        // Re-running is idempotent: the applied commands answer with their original positions, nothing is added.
        try lines.prefix(200).joined(separator: "\n").write(toFile: dir + "/part.ndjson", atomically: true, encoding: .utf8)
        let rerun = try await ledgerd("import", "--store", dir + "/store", "--commands", dir + "/part.ndjson")
        #expect(rerun.1.contains("200 commands"), "\(rerun.1)")
        #expect(try head() == applied)
    }
}
