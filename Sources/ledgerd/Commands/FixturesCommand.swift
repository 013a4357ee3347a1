import ArgumentParser
import Foundation
import Workload

/// `ledgerd fixtures generate`: the deterministic command stream of a simulated Directive-16 period.
struct FixturesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixtures", abstract: "Generate fixture command streams and write the reference data they publish.",
        subcommands: [Generate.self, Reference.self])

    struct Reference: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the reference data the generator publishes (procedures, the sample's agencies) as the "
                + "JSON files of fixtures/reference/.")

        @Option(help: "The output directory (created if missing).")
        var out: String

        func run() async throws {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for (name, text) in ReferenceFiles.all() {
                let path = (out as NSString).appendingPathComponent(name)
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
                print("wrote \(path)")
            }
        }
    }

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write DIR/commands.ndjson: reference data, rosters, attendance, dossiers, approvals and the "
                + "scheduler's checks of a Directive-16 period, deterministically from the seed.")

        @Option(help: "sample (6 agencies, ~70 staff) or province (Province-M: ~180 agencies, ~5 400 staff).")
        var profile = "sample"
        @Option(help: "Working days to simulate from 1 April 2020.")
        var days = 10
        @Option(help: "The random seed: the same seed writes the same bytes.")
        var seed: UInt64 = 2020
        @Option(help: "The output directory (created if missing).")
        var out: String

        func run() async throws {
            guard let profile = Profile.named(profile) else {
                throw ValidationError("unknown profile \(self.profile); use sample or province")
            }
            guard days > 0 else { throw ValidationError("--days must be at least 1") }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let generator = FixtureGenerator(profile: profile, days: days, seed: seed)
            let data = generator.ndjson()
            let path = (out as NSString).appendingPathComponent("commands.ndjson")
            try data.write(to: URL(fileURLWithPath: path))
            let lines = data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            print("wrote \(lines) commands (\(data.count) bytes) to \(path)")
        }
    }
}
