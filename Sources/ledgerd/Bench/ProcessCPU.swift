import Foundation
import Glibc

/// CPU time (user and system, all threads) spent by this process or another: a figure that does not depend on how
/// busy the machine is, unlike a rate.
enum ProcessCPU {
    /// This process's CPU seconds so far.
    static var own: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Process `pid`'s CPU seconds so far (from `/proc/<pid>/stat`), or `nil` when it cannot be read.
    static func of(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let name = text.lastIndex(of: ")")
        else { return nil }
        // After the name: the state (field 3), …, utime (field 14) and stime (field 15), in clock ticks.
        let fields = text[text.index(after: name)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private static func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
}
