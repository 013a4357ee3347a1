import EventStore
import Foundation
import Ledger
import TestSupport
import Testing
import Workload

@Suite("Fixtures")
struct FixtureTests {
    static let sample = fixtureURL("sample/commands.ndjson")

    @Test("the generator is deterministic, and the committed sample is its output (sample, 10 days, seed 2020)")
    func deterministic() throws {
        let a = FixtureGenerator(profile: .sample, days: 10, seed: 2020).ndjson()
        let b = FixtureGenerator(profile: .sample, days: 10, seed: 2020).ndjson()
        #expect(a == b)
        #expect(a == (try Data(contentsOf: Self.sample)), "regenerate with `ledgerd fixtures generate --out fixtures/sample`")
        #expect(FixtureGenerator(profile: .sample, days: 10, seed: 2021).ndjson() != a)
    }

    @Test("the committed sample replays through the handlers, every command ending as it expects")
    func replay() async throws {
        let data = try Data(contentsOf: Self.sample)
        var expected = [String: Int]()
        for line in data.split(separator: 0x0A) {
            guard case .object(let o) = try JSONDecoder().decode(JSONValue.self, from: Data(line)),
                  case .string(let e)? = o["expect"] else { Issue.record("a line without expect"); return }
            expected[e, default: 0] += 1
        }
        let root = temporaryPath("sample")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try Store.create(at: root, origin: "sample.example/log")
        defer { store.close() }
        let tally = try await LedgerService(store: store, durability: .relaxed)
            .importCommands(ndjson: data, principal: "import")
        #expect(tally.unexpected.isEmpty, "\(tally.unexpected.prefix(5))")
        #expect(tally.accepted + tally.nothingToRecord == (expected["accepted"] ?? 0) + (expected["check"] ?? 0))
        for (code, count) in tally.refused { #expect(expected["refused:\(code)"] == count, "\(code)") }
        // The kinds of refusal the generator always plants.
        #expect(Set(tally.refused.keys).isSuperset(of: ["bad_field", "channel_not_allowed", "deadline_rule",
                                                        "invalid_command", "not_permitted",
                                                        "second_supplement_needs_override"]))
        // Overdue dossiers, with and without an apology, found by the scheduler's deadline checks.
        var breached = Set<String>(), apologised = Set<String>()
        for event in try store.readCategory("dossier", limit: .max, payloads: .none) {
            if event.record.eventType == "DeadlineBreached.v1" { breached.insert(event.record.stream) }
            if event.record.eventType == "DelayApologyIssued.v1" { apologised.insert(event.record.stream) }
        }
        #expect(!breached.subtracting(apologised).isEmpty, "an overdue dossier without an apology")
        #expect(!apologised.isEmpty, "an apology")
        #expect(tally.accepted > 4_000 && tally.refusedTotal > 20)
        // The receipt counters are gap-free: each agency-day's codes run 1…n.
        for info in try store.streams(prefix: "receipts-", limit: 1_000) {
            let codes = try store.readStream(info.name, limit: .max, payloads: .facts).map {
                try Facts.decode($0.facts ?? []) { r throws(Facts.DecodingError) in try r.string("receiptCode") }
            }
            #expect(codes.map { Int($0.split(separator: "-").last!)! } == Array(1...codes.count))
        }
    }
}

/// The reference data under `fixtures/reference/` is the generator's.
@Suite("Fixture reference data")
struct FixtureReferenceTests {
    @Test("fixtures/reference holds exactly what the generator publishes: procedures, the sample's agencies, the holidays")
    func committedReference() throws {
        for (name, text) in ReferenceFiles.all() {
            let committed = try String(contentsOf: fixtureURL("reference/" + name), encoding: .utf8)
            #expect(committed == text, "fixtures/reference/\(name) differs from `ledgerd fixtures reference`")
            _ = try JSONValue(parsing: Array(committed.utf8))
        }
        // The holidays the generator publishes are the calendar fixture's on working days.
        guard case .object(let calendar) = try JSONValue(parsing: Array(try Data(contentsOf: fixtureURL(
            "reference/calendar-vn-2020.json"))) ), case .array(let holidays)? = calendar["holidays"] else {
            Issue.record("calendar-vn-2020.json has no holidays")
            return
        }
        let dates = holidays.compactMap { h -> String? in
            guard case .object(let o) = h, case .string(let d)? = o["date"] else { return nil }
            return d
        }
        #expect(Set(Catalogue.holidays2020).isSubset(of: Set(dates)))
        #expect(Catalogue.procedures.contains { !$0.illustrative } && Catalogue.procedures.contains { $0.illustrative })
    }
}
