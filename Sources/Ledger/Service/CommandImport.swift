public import Foundation

/// What an import of NDJSON commands did: accepted, refused by code, system checks with nothing to record, and the
/// lines whose outcome differed from the `expect` they carried.
public struct ImportTally: Sendable, Hashable {
    /// Commands accepted.
    public var accepted = 0
    /// Commands refused, by code.
    public var refused: [String: Int] = [:]
    /// System checks with nothing to record.
    public var nothingToRecord = 0
    /// `line N: expected …, got …` for each line that carried an `expect` its outcome did not meet.
    public var unexpected: [String] = []
    /// Command lines read.
    public var lines = 0

    /// Refused commands in all.
    public var refusedTotal: Int { refused.values.reduce(0, +) }

    /// Nothing yet.
    public init() {}

    /// The `expect` a command line carries (`accepted`, `refused:<code>`, `check`), if any.
    public static func expectation(ofLine line: Data) -> String? {
        guard case .object(let o)? = try? JSONValue(parsing: line),
              case .string(let text)? = o["expect"]
        else { return nil }
        return text
    }

    /// Whether an outcome (`accepted`, `refused:<code>`, `check`) meets an expectation; a check may also record.
    public static func meets(_ expected: String, _ outcome: String) -> Bool {
        expected == "check" ? (outcome == "check" || outcome == "accepted") : outcome == expected
    }
}

extension LedgerService {
    /// Runs NDJSON commands in order (one ``CommandEnvelope`` per line; blank lines skipped). A refused command is
    /// counted and the import goes on, as the handlers would answer a client; a line that is not a command stops the
    /// import with its line number. A line may carry `"expect": "accepted" | "refused:<code>" | "check"`, which the
    /// import verifies (the fixtures use it).
    ///
    /// - Parameters:
    ///   - trustedTime: Honour each command's `occurredAt` (an import principal's right).
    ///   - progress: Called with lines done and lines in all, every 1 000 lines and at the end.
    public func importCommands(ndjson: Data, principal: String, trustedTime: Bool = true,
                               progress: (Int, Int) -> Void = { _, _ in }) async throws -> ImportTally {
        var tally = ImportTally()
        let lines = ndjson.split(separator: 0x0A, omittingEmptySubsequences: false)
        let total = lines.count
        for (index, raw) in lines.enumerated() {
            let line = Data(raw)
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            tally.lines += 1
            let envelope: CommandEnvelope
            do { envelope = try CommandEnvelope(json: line) } catch {
                throw LedgerError(.badField, "line \(index + 1): \(error.message)", field: error.field)
            }
            let expected = ImportTally.expectation(ofLine: line)
            var outcome: String
            do {
                if try await execute(envelope, principal: principal, trustedTime: trustedTime) == nil {
                    tally.nothingToRecord += 1
                    outcome = "check"
                } else {
                    tally.accepted += 1
                    outcome = "accepted"
                }
            } catch let error as LedgerError {
                tally.refused[error.code.rawValue, default: 0] += 1
                outcome = "refused:\(error.code.rawValue)"
                if expected == nil || expected == "accepted" { outcome += " (\(error.message))" }
            }
            if let expected, !ImportTally.meets(expected, outcome) {
                tally.unexpected.append("line \(index + 1) \(envelope.type): expected \(expected), got \(outcome)")
            }
            if tally.lines % 1_000 == 0 { progress(index + 1, total) }
        }
        progress(total, total)
        return tally
    }

}
