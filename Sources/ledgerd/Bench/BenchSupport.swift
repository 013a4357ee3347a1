import Foundation
import Synchronization

/// Writes a progress line to standard error (standard output keeps the results).
func progress(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// One JSON object on one line, keys sorted.
func encodeJSONLine(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
}

/// Prints `done/total` to standard error at most once a second while a long job runs.
final class ProgressTicker: Sendable {
    private let total: Int
    private let state = Mutex<(done: Int, lastPrint: ContinuousClock.Instant)>((0, .now))

    init(total: Int) { self.total = total }

    func step() {
        let line: String? = state.withLock { s in
            s.done += 1
            guard s.lastPrint.duration(to: .now) > .seconds(1) else { return nil }
            s.lastPrint = .now
            return "  \(s.done)/\(total) (\(s.done * 100 / max(total, 1))%)"
        }
        if let line { progress(line) }
    }

    func finish() {}
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}

/// A counter shared by concurrent tasks: each `next()` returns a distinct value from 0.
final class SharedCounter: Sendable {
    private let value = Atomic<Int>(0)

    func next() -> Int { value.add(1, ordering: .relaxed).oldValue }
}

/// A progress line on standard error, redrawn at most five times a second, for long jobs.
final class ProgressBar: Sendable {
    private let label: String
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    init(label: String) { self.label = label }

    func update(_ done: UInt64, of total: UInt64) {
        let now = ContinuousClock.now
        let due = last.withLock { last -> Bool in
            if let l = last, l.duration(to: now) < .milliseconds(200), done < total { return false }
            last = now
            return true
        }
        guard due else { return }
        let percent = total == 0 ? 100 : done * 100 / total
        FileHandle.standardError.write(Data("\r\(label): \(done)/\(total) events (\(percent)%)".utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}
