import EventStore
import Foundation
import Ledger
import Projections
import ServiceLifecycle

/// The Ledger's system checks as the daemon's scheduler sends them (and `POST /admin/checks` on demand): the
/// end-of-day check of every agency once its working day is over (17:30 local), the deadline check of every open
/// dossier due within a working day or past due, and the overdue check of every open work item past due. Commands carry deterministic ids, so a check sent twice
/// (after a restart) is answered as a retry.
struct SystemChecks: Sendable {
    let daemon: Daemon

    struct Report: Sendable {
        var endOfDay = 0
        var deadlines = 0
        var overdueTasks = 0
        var nothingToRecord = 0
        var refused: [String] = []
    }

    func run(at instant: Int64) async throws -> Report {
        var report = Report()
        let reference = try daemon.service.referenceData()
        guard let calendar = reference.calendar(daemon.service.calendarID)?.calendar else { return report }
        let (today, minute) = calendar.local(instant)
        // End of day: today once past 17:30, and the previous working day (catch-up after downtime).
        var days = [calendar.nextWorkingDay(after: today.adding(days: -8))]
        while let last = days.last, last < today { days.append(calendar.nextWorkingDay(after: last)) }
        days = days.filter { $0 < today || ($0 == today && minute >= 17 * 60 + 30) }.suffix(2)
        for agency in reference.agencies.keys.sorted() {
            for day in days where calendar.isWorkingDay(day) {
                let stream = EndOfDay.stream(agency: agency, date: day)
                guard try daemon.store.streamInfo(stream) == nil else { continue }
                try await send("system.endOfDay", key: "eod \(agency) \(day)", at: instant,
                               body: ["agency": .string(agency), "date": .string("\(day)")], into: &report, eod: true)
            }
        }
        // Deadlines: open, received, not waiting on the citizen, due within a working day or past. The candidates
        // come from the dossier register, so it must first reflect the whole log (this run's end-of-day findings and
        // an earlier run's deadline findings included), or a dossier would be missed or checked twice.
        let head = daemon.store.head
        if head > 0, try await !daemon.model.runner.waitUntil(DossierRegister(), reflects: head - 1,
                                                                timeout: .seconds(30)) {
            report.refused.append("deadline checks skipped: the dossier register does not reflect the log "
                + "(stopped or rebuilding; see /projections)")
            return report
        }
        for row in try daemon.model.dossiers() where row.finishedAt == nil && row.pausedSince == nil {
            guard let due = row.dueAt, !row.breachRecorded else { continue }
            let soon = instant > due || calendar.workingMinutes(from: instant, to: due) <= calendar.minutesPerDay
            guard soon else { continue }
            try await send("system.deadlineCheck", key: "deadline \(row.id) \(instant / 3_600)", at: instant,
                           body: ["dossier": .string(row.id)], into: &report, eod: false)
        }
        // Work items past due: the work-item register must reflect the log for the same reason.
        if head > 0, try await !daemon.model.runner.waitUntil(WorkItemRegister(), reflects: head - 1,
                                                                timeout: .seconds(30)) {
            report.refused.append("overdue work-item checks skipped: the work-item register does not reflect the log")
            return report
        }
        for task in try daemon.model.overdueWorkItems(asOf: instant) {
            try await send("system.taskCheck", key: "task \(task)", at: instant, body: ["task": .string(task)],
                           into: &report, eod: false, counter: \.overdueTasks)
        }
        return report
    }

    private func send(_ type: String, key: String, at: Int64, body: [String: JSONValue], into report: inout Report,
                      eod: Bool, counter: WritableKeyPath<Report, Int>? = nil) async throws {
        let envelope = CommandEnvelope(commandID: CommandEventIDs.systemCommandID(key), type: type,
                                       actor: Actor(staffID: "scheduler", role: .system), occurredAt: at, body: body)
        do {
            if try await daemon.service.execute(envelope, principal: "ledgerd-scheduler", trustedTime: true) == nil {
                report.nothingToRecord += 1
            } else if let counter {
                report[keyPath: counter] += 1
            } else if eod {
                report.endOfDay += 1
            } else {
                report.deadlines += 1
            }
        } catch let error as LedgerError {
            report.refused.append("\(type) \(key): \(error.code)")
        } catch let error as StoreError {
            // One check's conflict must not stop the round.
            report.refused.append("\(type) \(key): \(error.code)")
        }
    }
}

/// Sends the system checks every `interval` and signs a checkpoint at its cadence, while the daemon runs.
struct Scheduler: Service {
    let daemon: Daemon
    let interval: Duration

    func run() async throws {
        // Stopping cancels the sleep: that is the way out, not an error.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                _ = try? await SystemChecks(daemon: daemon).run(at: Int64(Date().timeIntervalSince1970))
                if let signer = daemon.signer, let state = daemon.signingState {
                    _ = try? await daemon.store.signCheckpointIfDue(with: signer, state: state,
                                                                    minimumInterval: daemon.checkpointInterval)
                }
            }
        }
    }
}
