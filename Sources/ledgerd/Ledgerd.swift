import ArgumentParser

/// The `ledgerd` command: the daemon, the operator's tools and the benchmarks.
@main
struct Ledgerd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledgerd",
        abstract: "Ledger: an event-sourced records backend for public agencies.",
        discussion: """
            Exit codes: 0 success; 1 a failure the message explains (store, I/O, refused input); \
            64 bad command-line usage.
            """,
        subcommands: [
            InitCommand.self, VerifyCommand.self, CheckpointCommand.self, AuditCommand.self, EraseCommand.self,
            ServeCommand.self, CallCommand.self, CompactCommand.self, DemoCommand.self, FixturesCommand.self,
            ImportCommand.self, ExportCommand.self, ReplayCommand.self, RebuildCommand.self, AttestCommand.self, BackupCommand.self,
            RestoreCommand.self, QueryCommand.self, SubmitCommand.self, BenchCommand.self,
        ]
    )
}
