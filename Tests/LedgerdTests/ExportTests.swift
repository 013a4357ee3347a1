import EventStore
import Foundation
import Ledger
import Projections
import TestSupport
import Testing

@Suite("ledgerd export, read by DuckDB", .serialized)
struct ExportTests {
    /// The test command's DuckDB (scripts/test sets up `.build/venv`); the test fails, never skips, without it.
    static var python: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/venv/bin/python").path
    }

    static func duckdb(_ script: String) async throws -> [String: JSONValue] {
        let (status, stdout, stderr) = try await runProcess(URL(fileURLWithPath: python), ["-c", script])
        #expect(status == 0, "\(stderr)")
        guard case .object(let result) = try JSONDecoder().decode(JSONValue.self, from: Data(stdout.utf8)) else { return [:] }
        return result
    }

    @Test("NDJSON (plain and zstd) and CSV exports open in DuckDB as they are, with the counts and sums of the store")
    func duckDB() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.python), "run scripts/test: it sets up .build/venv with duckdb")
        let dir = temporaryPath("export")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/store"
        _ = try await ledgerd("import", "--store", store, "--commands", fixtureURL("sample/commands.ndjson").path)
        let period = "2020-04-01..2020-04-15"
        for (args, name) in [(["--format", "ndjson"], "events.ndjson"), (["--format", "ndjson", "--zstd"], "events.ndjson.zst"),
                             (["--format", "csv", "--bom"], "events.csv")] {
            let (status, _, err) = try await ledgerd(["export", "events", "--store", store, "--out", dir + "/" + name] + args)
            #expect(status == 0, "\(err)")
        }
        let (s1, _, e1) = try await ledgerd("export", "evaluations", "--store", store, "--agency", "HBC", "--period", period,
                                            "--out", dir + "/evaluations.csv", "--bom")
        let (s2, _, e2) = try await ledgerd("export", "timeliness", "--store", store, "--agency", "SNV", "--period", period,
                                            "--out", dir + "/timeliness.csv")
        #expect(s1 == 0 && s2 == 0, "\(e1)\(e2)")

        let result = try await Self.duckdb("""
            import duckdb, json
            d = '\(dir)'
            q = lambda sql: duckdb.sql(sql).fetchall()[0]
            print(json.dumps({
              'ndjson': q(f"select count(*) from read_json_auto('{d}/events.ndjson', format='newline_delimited')")[0],
              'zstd': q(f"select count(*) from read_json_auto('{d}/events.ndjson.zst', format='newline_delimited', compression='zstd')")[0],
              'csv': q(f"select count(*) from read_csv('{d}/events.csv', header=true)")[0],
              'received': q(f"select count(*) from read_csv('{d}/events.csv', header=true) where type = 'DossierReceived.v1'")[0],
              'hbc': q(f"select count(*) from read_json_auto('{d}/events.ndjson', format='newline_delimited') where json_extract_string(facts, '$.agency') = 'HBC' and type = 'DossierSubmitted.v1'")[0],
              'assigned': int(q(f"select sum(assigned) from read_csv('{d}/evaluations.csv', header=true)")[0]),
              'completed': int(q(f"select sum(completed) from read_csv('{d}/evaluations.csv', header=true)")[0]),
              'first_person': q(f"select person from read_csv('{d}/evaluations.csv', header=true) order by person limit 1")[0],
              'snv_received': int(q(f"select received from read_csv('{d}/timeliness.csv', header=true) where unit is null")[0]),
            }))
            """)

        var options = StoreOptions()
        options.readOnly = true
        let log = try Store.open(at: store, options: options)
        defer { log.close() }
        let events = try log.read(from: 0, limit: .max, payloads: .none).filter { $0.record.leafType == .event }
        let received = try log.readType("DossierReceived.v1", limit: .max, payloads: .none).count
        #expect(result["ndjson"] == .number(Double(events.count)) && result["zstd"] == result["ndjson"])
        #expect(result["csv"] == result["ndjson"] && result["received"] == .number(Double(received)))
        let model = try ReadModel(store: log, statePath: dir + "/state")
        try model.runner.catchUp()
        let hbcSubmitted = try model.dossiers(agency: "HBC").count
        #expect(result["hbc"] == .number(Double(hbcSubmitted)))
        let evaluations = try model.evaluations(agency: "HBC", period: Period(period)!)
        #expect(result["assigned"] == .number(Double(evaluations.reduce(0) { $0 + $1.assigned })))
        #expect(result["completed"] == .number(Double(evaluations.reduce(0) { $0 + $1.completed })))
        #expect(result["first_person"] == .string(evaluations.map(\.person).min() ?? ""), "the BOM does not leak into the header")
        let snv = try model.timeliness(agency: "SNV", period: Period(period)!).first { $0.key.unit.isEmpty }?.value
        #expect(result["snv_received"] == .number(Double(snv?.received ?? -1)))

        let subject = try #require(try model.dossiers(agency: "HBC").first { !$0.subject.isEmpty }?.subject)
        let (s3, out3, _) = try await ledgerd("export", "subject", "--store", store, "--subject", subject)
        #expect(s3 == 0 && out3.contains("applicantName"))
        let unknown = try await ledgerd("export", "subject", "--store", store, "--subject", UUID().uuidString)
        #expect(unknown.0 != 0 && unknown.2.contains("holds nothing"))
    }
}
