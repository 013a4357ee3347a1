import ArgumentParser

/// `ledgerd bench …`: end-to-end benchmarks, run beside the raw-LMDB baseline (README, "Benchmarks").
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the store end to end; the last line of output is JSON with --json.",
        subcommands: [BenchAppendCommand.self, BenchReadCommand.self, BenchProjectionsCommand.self, BenchServeCommand.self,
                      BenchDecodeCommand.self]
    )
}
