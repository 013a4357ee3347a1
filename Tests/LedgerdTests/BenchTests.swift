import Foundation
import Ledger
import TestSupport
import Testing

/// The benchmarks run end to end on a few events: what they report is checked for consistency, never for speed.
@Suite("ledgerd bench")
struct BenchTests {
    @Test("bench serve appends through a real daemon and directly, and reports rates, the ratio and CPU per event")
    func serve() async throws {
        let (status, out, err) = try await ledgerd("bench", "serve", "--clients", "4", "--events", "200", "--rounds", "2",
                                                   "--json")
        #expect(status == 0, "\(err)")
        let last = try #require(out.split(separator: "\n").last)
        guard case .object(let result) = try JSONValue(parsing: Array(last.utf8)) else {
            Issue.record("no JSON line: \(out)")
            return
        }
        func number(_ key: String) -> Double? { if case .number(let n)? = result[key] { n } else { nil } }
        #expect(number("events") == 400, "both rounds' appends were served: \(last)")
        #expect((number("events_per_sec") ?? 0) > 0 && (number("direct_events_per_sec") ?? 0) > 0)
        // The ratio is the median of the rounds' ratios (the mean of two).
        guard case .array(let rounds)? = result["ratios"] else {
            Issue.record("no ratios: \(last)")
            return
        }
        let ratios = rounds.compactMap { if case .number(let n) = $0 { n } else { nil } }
        #expect(ratios.count == 2 && ratios.allSatisfy { $0 > 0 })
        #expect(abs((number("ratio") ?? 0) - ratios.reduce(0, +) / 2) < 0.002, "\(last)")
        for key in ["direct_cpu_us_per_event", "daemon_cpu_us_per_event", "client_cpu_us_per_event"] {
            #expect((number(key) ?? 0) > 0, "\(key) in \(last)")
        }
        #expect(err.contains("round 2:"), "each round is reported")
    }
}
