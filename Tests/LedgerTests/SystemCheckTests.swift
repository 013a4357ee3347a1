import EventStore
import Foundation
import Ledger
import TestSupport
import Testing

/// The scheduler's checks: deadlines (approaching, breached) and the end of day, each both ways.
@Suite("System checks")
struct SystemCheckTests {
    typealias T = DossierTests
    static let calendar = T.calendar

    /// A licence dossier received Wed 1 Apr 2020 10:00 (due Thu 9 Apr 10:00), assigned and in processing.
    static func inProcess() throws -> Dossier {
        try T.run([
            T.submitLicense(),
            (.receive(receiptCode: "SNV-200401-0001", procedure: T.license, calendar: calendar, calendarVersion: 1,
                      at: T.at("2020-04-01", 10)), T.clerk),
            (.assign(assignee: "staff-3", at: T.at("2020-04-01", 11)), T.head),
            (.startProcessing(at: T.at("2020-04-01", 14)), T.officer),
        ]).0
    }

    /// What a deadline check at `at` decides: its events, or the reason it found nothing.
    static func check(_ state: Dossier, at: Int64) -> Result<[DossierEvent], LedgerError> {
        Result { () throws(LedgerError) in
            do { return try Dossier.decide(state, .checkDeadline(calendar: calendar, at: at), by: .init(staffID: "scheduler", role: .system)) }
            catch let error as LedgerError { throw error } catch { throw LedgerError(.invalidCommand, "\(error)") }
        }
    }

    static func nothing(_ result: Result<[DossierEvent], LedgerError>, _ mentions: String) -> Bool {
        guard case .failure(let error) = result else { return false }
        return error.code == .nothingToRecord && error.message.contains(mentions)
    }

    @Test("a deadline check records 'approaching' within the last working day and 'breached' after the due instant, each once")
    func deadlines() throws {
        var state = try Self.inProcess()
        let due = T.at("2020-04-09", 10)
        #expect(state.dueAt == due)
        // Two working days ahead: nothing yet.
        #expect(Self.nothing(Self.check(state, at: T.at("2020-04-07", 10)), "working minutes left"))
        // Less than a working day left: approaching, with the working minutes left on the calendar.
        let approachingAt = T.at("2020-04-08", 15)
        let left = Self.calendar.workingMinutes(from: approachingAt, to: due)
        #expect(left > 0 && left <= Self.calendar.minutesPerDay)
        let approaching = try Self.check(state, at: approachingAt).get()
        #expect(approaching == [.deadlineApproaching(dueAt: due, remainingMinutes: left, at: approachingAt)])
        approaching.forEach { state = Dossier.evolve(state, $0) }
        #expect(Self.nothing(Self.check(state, at: T.at("2020-04-08", 16)), "working minutes left"))
        // Exactly at the due instant it is not late yet; a minute after, it is.
        #expect(Self.nothing(Self.check(state, at: due), "working minutes left"))
        let breached = try Self.check(state, at: due + 60).get()
        #expect(breached == [.deadlineBreached(dueAt: due, at: due + 60)])
        breached.forEach { state = Dossier.evolve(state, $0) }
        #expect(Self.nothing(Self.check(state, at: T.at("2020-04-10", 9)), "already recorded"))
        // Neither moves the statistical due instant.
        #expect(state.dueAt == due)
        try T.expectRoundTrip(approaching + breached)
    }

    @Test("no deadline is checked while the clock is paused, before receipt or once the dossier is finished")
    func noRunningDeadline() throws {
        let submitted = try T.run([T.submitLicense()]).0
        #expect(Self.nothing(Self.check(submitted, at: T.at("2020-05-01", 9)), "no running deadline"))
        var paused = try Self.inProcess()
        for event in try Dossier.decide(paused, .requestSupplement(items: ["Bản sao giấy phép"], headOverride: false,
                                                                   at: T.at("2020-04-03", 9)), by: T.officer) {
            paused = Dossier.evolve(paused, event)
        }
        #expect(Self.nothing(Self.check(paused, at: T.at("2020-04-20", 9)), "the clock is paused"))
        let (finished, _) = try T.run([
            T.submitLicense(),
            (.receive(receiptCode: "SNV-200401-0001", procedure: T.license, calendar: Self.calendar, calendarVersion: 1,
                      at: T.at("2020-04-01", 10)), T.clerk),
            (.assign(assignee: "staff-3", at: T.at("2020-04-01", 11)), T.head),
            (.startProcessing(at: T.at("2020-04-01", 14)), T.officer),
            (.submitForApproval(approvalID: T.approvalID, draftSha256: T.draft, outcome: .grant,
                                at: T.at("2020-04-08", 9)), T.officer),
            (.resolve(resultNumber: "123/GP-SNV", approval: T.signed, at: T.at("2020-04-08", 16)), T.clerk),
        ])
        #expect(Self.nothing(Self.check(finished, at: T.at("2020-04-20", 9)), "no running deadline"))
    }

    @Test("system.deadlineCheck through the handlers: each finding appended once, only from the scheduler")
    func deadlineCheckCommand() async throws {
        let s = try await Scenario.make("deadlines")
        defer { s.remove() }
        let dossier = UUID()
        try await s.openDossier(dossier, submit: "2020-04-01T09:00:00", receive: "2020-04-01T10:00:00", assignee: "a-3")
        let body: [String: JSONValue] = ["dossier": .string(dossier.uuidString)]
        func types() throws -> [String] {
            try s.store.readStream("dossier-\(dossier.uuidString.lowercased())").map(\.record.eventType)
                .filter { $0.hasPrefix("Deadline") }
        }
        #expect(try await s.run("system.deadlineCheck", "scheduler", .system, "2020-04-06T10:00:00+07:00", body) == nil)
        #expect(try await s.run("system.deadlineCheck", "scheduler", .system, "2020-04-08T15:00:00+07:00", body) != nil)
        #expect(try await s.run("system.deadlineCheck", "scheduler", .system, "2020-04-08T16:00:00+07:00", body) == nil)
        #expect(try await s.run("system.deadlineCheck", "scheduler", .system, "2020-04-09T10:30:00+07:00", body) != nil)
        #expect(try await s.run("system.deadlineCheck", "scheduler", .system, "2020-04-10T10:30:00+07:00", body) == nil)
        #expect(try types() == ["DeadlineApproaching.v1", "DeadlineBreached.v1"])
        let byClerk = try await s.refusal("system.deadlineCheck", "a-7", .clerk, "2020-04-10T11:00:00+07:00", body)
        #expect(byClerk?.code == .notPermitted)
        #expect(try types().count == 2)
    }

    @Test("the end of day records a missing report only for whoever neither reported nor came, and no leader absence when a leader came")
    func endOfDayBothWays() async throws {
        let s = try await Scenario.make("eod-both")
        defer { s.remove() }
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-03T07:00:00+07:00", [
            "unit": "A.P1", "week": "2020-04-03", "entries": .array([Scenario.rosterEntry("2020-04-03", "a-2")])])
        try await s.run("attendance.checkIn", "a-2", .unitHead, "2020-04-03T07:30:00+07:00", ["location": "ONSITE"])
        for officer in ["a-3", "a-4"] {
            try await s.run("attendance.checkIn", .init(officer), .specialist, "2020-04-03T07:40:00+07:00",
                            ["location": "REMOTE"])
        }
        try await s.run("progress.report", "a-3", .specialist, "2020-04-03T16:30:00+07:00", ["items": .array([
            .object(["taskRef": "dossier-queue", "status": "DONE"])])])
        let closed = try #require(try await s.run("system.endOfDay", "scheduler", .system, "2020-04-03T17:45:00+07:00",
                                                  ["agency": "A", "date": "2020-04-03"]))
        // Every stream the findings were drawn from was guarded in the same append, those never written included.
        let guarded = Set(closed.streamVersions.keys)
        #expect(guarded.isSuperset(of: ["person-a-2", "person-a-4", "person-a-6", "roster-A.P1-20200330",
                                        "unitday-A.P1-20200403", "eod-A-20200403"]), "\(guarded.sorted())")
        #expect(guarded.contains { $0.hasPrefix("leaderroster-A-") }, "\(guarded.sorted())")
        let events = try s.store.readStream("eod-A-20200403", payloads: .facts)
        let missing = try events.filter { $0.record.eventType == "MissingReportDetected.v1" }.map { e in
            try Facts.decode(e.facts ?? []) { r throws(Facts.DecodingError) in "\(try r.string("person")) \(try r.string("head"))" }
        }
        #expect(missing.contains("a-4 a-2"), "a-4 worked remotely and never reported to a-2")
        #expect(!missing.contains { $0.hasPrefix("a-3 ") }, "a-3 reported")
        #expect(!missing.contains { $0.hasPrefix("a-2 ") }, "a-2 was on site")
        #expect(!events.contains { $0.record.eventType == "LeaderAbsenceRecorded.v1" }, "a-2, a leader, was on site")
        let noShows = try events.filter { $0.record.eventType == "NoShowDetected.v1" }.map { e in
            try Facts.decode(e.facts ?? []) { r throws(Facts.DecodingError) in try r.string("person") }
        }
        #expect(!noShows.contains("a-2") && !noShows.contains("a-3") && !noShows.contains("a-4"))
        #expect(noShows.contains("a-5") && noShows.contains("a-6"))
    }
}

/// The national status codes (1–10) along the lifecycle, each reached by a decision.
@Suite("Dossier status codes")
struct DossierStatusCodeTests {
    typealias T = DossierTests

    /// The national code after running `steps` from the submission.
    static func code(after steps: [(DossierCommand, Actor)]) throws -> Int? {
        try T.run([T.submitLicense()] + steps).0.status?.nationalCode
    }

    static var received: (DossierCommand, Actor) {
        (.receive(receiptCode: "SNV-200401-0001", procedure: T.license, calendar: T.calendar, calendarVersion: 1,
                  at: T.at("2020-04-01", 10)), T.clerk)
    }
    static var inProcess: [(DossierCommand, Actor)] {
        [received, (.assign(assignee: "staff-3", at: T.at("2020-04-01", 11)), T.head),
         (.startProcessing(at: T.at("2020-04-01", 14)), T.officer)]
    }
    static var pending: [(DossierCommand, Actor)] {
        inProcess + [(.submitForApproval(approvalID: T.approvalID, draftSha256: T.draft, outcome: .grant,
                                         at: T.at("2020-04-06", 9)), T.officer)]
    }

    @Test("every state has its code: 1 submitted … 10 returned")
    func codes() throws {
        #expect(try Self.code(after: []) == 1)
        #expect(try Self.code(after: [Self.received]) == 2)
        #expect(try Self.code(after: [(.refuseIntake(reason: "Không thuộc thẩm quyền", at: T.at("2020-04-01", 10)),
                                       T.clerk)]) == 3)
        #expect(try Self.code(after: Self.inProcess) == 4)
        #expect(try Self.code(after: Self.pending) == 4)
        #expect(try Self.code(after: Self.inProcess + [(.requestSupplement(items: ["Tờ khai"], headOverride: false,
                                                                          at: T.at("2020-04-02", 9)), T.officer)]) == 5)
        #expect(try Self.code(after: Self.inProcess + [(.requestPayment(amount: 50_000, at: T.at("2020-04-02", 9)),
                                                       T.officer)]) == 6)
        #expect(try Self.code(after: Self.inProcess + [
            (.requestWithdrawal(reason: "Công dân rút hồ sơ", at: T.at("2020-04-02", 8)), T.applicant),
            (.withdraw(reason: "", at: T.at("2020-04-02", 9)), T.clerk)]) == 7)
        let refusing = Self.inProcess + [(.submitForApproval(approvalID: T.approvalID, draftSha256: T.draft,
                                                             outcome: .refuse, at: T.at("2020-04-06", 9)), T.officer)]
        #expect(try Self.code(after: refusing + [(.refuse(reasons: ["Không đủ điều kiện"], approval: T.signed,
                                                         at: T.at("2020-04-07", 9)), T.clerk)]) == 8)
        #expect(try Self.code(after: Self.pending + [(.resolve(resultNumber: "1/GP", approval: T.signed,
                                                              at: T.at("2020-04-07", 9)), T.clerk)]) == 9)
        #expect(try Self.code(after: Self.pending + [
            (.resolve(resultNumber: "1/GP", approval: T.signed, at: T.at("2020-04-07", 9)), T.clerk),
            (.returnResult(method: .direct, at: T.at("2020-04-08", 9)), T.clerk)]) == 10)
        // The mapping covers every state, each within 1–10.
        #expect(DossierStatus.allCases.allSatisfy { (1...10).contains($0.nationalCode) })
        #expect(Set(DossierStatus.allCases.map(\.nationalCode)) == Set(1...10))
    }
}
