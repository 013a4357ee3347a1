import Foundation
import Ledger
import Testing

@Suite("Dossier decisions")
struct DossierTests {
    static let calendar = WorkingCalendarTests.vietnam2020
    static let birth = ProcedureVersion(code: "1.001193", version: 1, fieldCode: "HT", channels: [.online, .direct, .postal],
                                        onlineLevel: 3, duration: .sameDay, urgentWhitelist: true)
    static let building = ProcedureVersion(code: "1.009972", version: 2, fieldCode: "XD", channels: [.online, .direct],
                                           onlineLevel: 2, duration: .workingDays(5), urgentWhitelist: false)
    static let license = ProcedureVersion(code: "1.004227", version: 1, fieldCode: "KD", channels: [.online, .direct],
                                          onlineLevel: 4, duration: .workingDays(5), urgentWhitelist: false)
    static let clerk = Actor(staffID: "staff-1", role: .oneStopOfficer)
    static let applicant = Actor(staffID: "portal", role: .applicant)
    static let head = Actor(staffID: "staff-2", role: .unitHead)
    static let officer = Actor(staffID: "staff-3", role: .specialist)
    static let director = Actor(staffID: "staff-9", role: .agencyHead)
    static func at(_ day: String, _ h: Int, _ m: Int = 0) -> Int64 { WorkingCalendarTests.at(day, h, m) }
    static let draft = String(repeating: "ab", count: 32)
    static let approvalID = UUID(uuidString: "00000000-0000-4000-8000-00000000000a")!
    static var signed: Approval {
        var a = Approval()
        a.status = .signed
        return a
    }

    /// Runs commands in order from an empty dossier, returning the state and every event.
    /// Every event decodes from its own payload parts to itself.
    static func expectRoundTrip(_ events: [DossierEvent]) throws {
        for event in events {
            let (facts, personal) = event.encoded
            #expect(try DossierEvent(type: event.type, facts: facts, personal: personal) == event)
        }
    }

    static func run(_ steps: [(DossierCommand, Actor)]) throws -> (Dossier, [DossierEvent]) {
        var state = Dossier()
        var events = [DossierEvent]()
        for (command, actor) in steps {
            for event in try Dossier.decide(state, command, by: actor) {
                state = Dossier.evolve(state, event)
                events.append(event)
            }
        }
        return (state, events)
    }

    static func submitLicense(at time: Int64 = at("2020-04-01", 9)) -> (DossierCommand, Actor) {
        (.submit(procedure: license, agencyID: "SNV", channel: .online, applicantName: "Nguyễn Văn An",
                 applicantID: "001090012345", at: time, intake: .directive16), applicant)
    }

    @Test("the happy path: received Wed 1 Apr 2020 10:00 with 5 working days is due Thu 9 Apr 10:00, and so on to status 10")
    func happyPath() throws {
        let (state, events) = try Self.run([
            Self.submitLicense(),
            (.receive(receiptCode: "SNV-200401-0001", procedure: Self.license, calendar: Self.calendar,
                      calendarVersion: 1, at: Self.at("2020-04-01", 10)), Self.clerk),
            (.assign(assignee: "staff-3", at: Self.at("2020-04-01", 11)), Self.head),
            (.startProcessing(at: Self.at("2020-04-01", 14)), Self.officer),
            (.submitForApproval(approvalID: Self.approvalID, draftSha256: Self.draft, outcome: .grant,
                                at: Self.at("2020-04-08", 9)), Self.officer),
            (.resolve(resultNumber: "123/GP-SNV", approval: Self.signed, at: Self.at("2020-04-08", 16)), Self.clerk),
            (.returnResult(method: .postal, trackingNumber: "EB123456789VN", at: Self.at("2020-04-09", 9)), Self.clerk),
        ])
        #expect(state.status == .returned && state.status?.nationalCode == 10)
        #expect(state.dueAt == Self.at("2020-04-09", 10))
        #expect(state.finishedAt == Self.at("2020-04-08", 16))
        #expect(events.count == 7)
    }

    @Test("Directive 16 intake: online only from level 3; paper only for the urgent list")
    func directive16Intake() throws {
        let online2 = DossierCommand.submit(procedure: Self.building, agencyID: "SXD", channel: .online, applicantName: "A",
                                            applicantID: "1", at: 0, intake: .directive16)
        #expect { _ = try Dossier.decide(Dossier(), online2, by: Self.clerk) } throws: {
            ($0 as? LedgerError)?.code == .channelNotAllowed && "\($0)".contains("level 2")
        }
        let counter = DossierCommand.submit(procedure: Self.license, agencyID: "SNV", channel: .direct, applicantName: "A",
                                            applicantID: "1", at: 0, intake: .directive16)
        #expect { _ = try Dossier.decide(Dossier(), counter, by: Self.clerk) } throws: {
            ($0 as? LedgerError)?.code == .channelNotAllowed && "\($0)".contains("urgent")
        }
        let urgentByPost = DossierCommand.submit(procedure: Self.birth, agencyID: "UBND-HB", channel: .postal,
                                                 applicantName: "A", applicantID: "1", at: 0, intake: .directive16)
        #expect(try Dossier.decide(Dossier(), urgentByPost, by: Self.clerk).count == 1)
        let normalTimes = DossierCommand.submit(procedure: Self.building, agencyID: "SXD", channel: .online,
                                                applicantName: "A", applicantID: "1", at: 0, intake: nil)
        #expect(try Dossier.decide(Dossier(), normalTimes, by: Self.applicant).count == 1)
        // Online is the applicant's own channel; the desk records counter and postal dossiers.
        #expect { _ = try Dossier.decide(Dossier(), normalTimes, by: Self.clerk) } throws: {
            ($0 as? LedgerError)?.code == .notPermitted
        }
    }

    @Test("same-day procedures: received after 15:00, due at 17:00 on the next working day")
    func sameDayReceipt() throws {
        let (state, _) = try Self.run([
            (.submit(procedure: Self.birth, agencyID: "UBND-HB", channel: .online, applicantName: "B", applicantID: "2",
                     at: Self.at("2020-04-01", 15), intake: .directive16), Self.applicant),
            (.receive(receiptCode: "HB-200401-0007", procedure: Self.birth, calendar: Self.calendar, calendarVersion: 1,
                      at: Self.at("2020-04-01", 15, 30)), Self.clerk),
        ])
        #expect(state.dueAt == Self.at("2020-04-03", 17))
    }

    @Test("a supplementation pause moves the due instant by the paused working time; a second request needs the head")
    func supplements() throws {
        let base: [(DossierCommand, Actor)] = [
            Self.submitLicense(),
            (.receive(receiptCode: "SNV-200401-0001", procedure: Self.license, calendar: Self.calendar,
                      calendarVersion: 1, at: Self.at("2020-04-01", 10)), Self.clerk),
            (.assign(assignee: "staff-3", at: Self.at("2020-04-01", 11)), Self.head),
            (.startProcessing(at: Self.at("2020-04-01", 14)), Self.officer),
            (.requestSupplement(items: ["Bản sao CCCD"], headOverride: false, at: Self.at("2020-04-03", 9)), Self.officer),
            (.receiveSupplement(calendar: Self.calendar, at: Self.at("2020-04-06", 9)), Self.clerk),
        ]
        let (state, events) = try Self.run(base)
        // Paused from Fri 3 Apr 09:00 to Mon 6 Apr 09:00: 8 working hours; due moves from Thu 9 Apr 10:00 to Fri 10.
        guard case .supplementReceived(_, let paused, let newDue, _)? = events.last else { Issue.record("no event"); return }
        #expect(paused == 480)
        #expect(newDue == Self.at("2020-04-10", 10) && state.dueAt == newDue)

        let second = DossierCommand.requestSupplement(items: ["Tờ khai"], headOverride: false, at: Self.at("2020-04-07", 9))
        #expect { _ = try Dossier.decide(state, second, by: Self.officer) } throws: {
            ($0 as? LedgerError)?.code == .secondSupplementNeedsOverride
        }
        let overridden = DossierCommand.requestSupplement(items: ["Tờ khai"], headOverride: true, at: Self.at("2020-04-07", 9))
        let flagged = try Dossier.decide(state, overridden, by: Self.officer)
        #expect(flagged == [.supplementRequested(items: ["Tờ khai"], ordinal: 2, secondRequest: true,
                                                  at: Self.at("2020-04-07", 9))])
    }

    @Test("apologies: by the agency head, before the due instant, with a later appointment; due stays for statistics")
    func apologies() throws {
        let (state, _) = try Self.run([
            Self.submitLicense(),
            (.receive(receiptCode: "SNV-200401-0001", procedure: Self.license, calendar: Self.calendar,
                      calendarVersion: 1, at: Self.at("2020-04-01", 10)), Self.clerk),
        ])
        let due = try #require(state.dueAt)
        let apology = DossierCommand.issueApology(newAppointmentAt: due + 86_400, at: due - 3_600, reason: "chờ thẩm định")
        let unexplained = DossierCommand.issueApology(newAppointmentAt: due + 86_400, at: due - 3_600)
        #expect { _ = try Dossier.decide(state, unexplained, by: Self.director) } throws: {
            ($0 as? LedgerError)?.code == .invalidCommand
        }
        #expect { _ = try Dossier.decide(state, apology, by: Self.head) } throws: { ($0 as? LedgerError)?.code == .notPermitted }
        let late = DossierCommand.issueApology(newAppointmentAt: due + 86_400, at: due + 60, reason: "chờ thẩm định")
        #expect { _ = try Dossier.decide(state, late, by: Self.director) } throws: { ($0 as? LedgerError)?.code == .deadlineRule }
        let events = try Dossier.decide(state, apology, by: Self.director)
        let after = Dossier.evolve(state, events[0])
        #expect(after.dueAt == due && after.appointmentAt == due + 86_400)
    }

    @Test("commands outside their states are refused naming the status", arguments: [
        DossierCommand.startProcessing(at: 0), .resolve(resultNumber: "1", approval: Approval(), at: 0), .returnResult(method: .direct, at: 0),
        .receiveSupplement(calendar: WorkingCalendar(), at: 0), .refuseIntake(reason: "x", at: 0),
    ])
    func wrongStates(command: DossierCommand) {
        #expect { _ = try Dossier.decide(Dossier(), command, by: Self.officer) } throws: {
            ($0 as? LedgerError)?.code == .invalidState && "\($0)".contains("not submitted")
        }
    }

    @Test("only the assignee starts processing; only a unit head assigns; only a one-stop officer receives")
    func roles() throws {
        let (received, _) = try Self.run([
            Self.submitLicense(),
            (.receive(receiptCode: "SNV-200401-0001", procedure: Self.license, calendar: Self.calendar,
                      calendarVersion: 1, at: Self.at("2020-04-01", 10)), Self.clerk),
        ])
        #expect(throws: LedgerError.self) { try Dossier.decide(received, .assign(assignee: "staff-3", at: 0), by: Self.officer) }
        let assigned = Dossier.evolve(received, .assigned(assignee: "staff-3", by: "staff-2", at: 0))
        #expect(throws: LedgerError.self) { try Dossier.decide(assigned, .startProcessing(at: 0), by: Self.clerk) }
        let (submitted, _) = try Self.run([Self.submitLicense()])
        let receiveByHead = DossierCommand.receive(receiptCode: "X", procedure: Self.license, calendar: Self.calendar,
                                                   calendarVersion: 1, at: 0)
        #expect(throws: LedgerError.self) { try Dossier.decide(submitted, receiveByHead, by: Self.head) }
    }

    @Test("a reassignment names its reason; a postal return its tracking number, and only a postal one has one")
    func reassignAndReturn() throws {
        let (assigned, _) = try Self.run([
            Self.submitLicense(),
            (.receive(receiptCode: "SNV-200401-0001", procedure: Self.license, calendar: Self.calendar,
                      calendarVersion: 1, at: Self.at("2020-04-01", 10)), Self.clerk),
            (.assign(assignee: "staff-3", at: Self.at("2020-04-01", 11)), Self.head),
        ])
        let bare = #expect(throws: LedgerError.self) {
            try Dossier.decide(assigned, .assign(assignee: "staff-4", at: Self.at("2020-04-01", 12)), by: Self.head)
        }
        #expect(bare?.code == .invalidCommand && bare?.message.contains("reason") == true)
        let moved = try Dossier.decide(assigned, .assign(assignee: "staff-4", reason: "  nghỉ ốm ",
                                                         at: Self.at("2020-04-01", 12)), by: Self.head)
        #expect(moved == [.reassigned(from: "staff-3", to: "staff-4", by: Self.head.staffID, reason: "nghỉ ốm",
                                      at: Self.at("2020-04-01", 12))])
        let now = Dossier.evolve(assigned, moved[0])
        #expect(now.assignee == "staff-4" && now.processors == ["staff-3", "staff-4"])

        var resolved = now
        resolved.status = .resolved
        for (method, tracking) in [(Channel.postal, nil), (.postal, "EB-1"), (.direct, "EB123456789VN")] as [(Channel, String?)] {
            #expect(throws: LedgerError.self) {
                try Dossier.decide(resolved, .returnResult(method: method, trackingNumber: tracking, at: 0), by: Self.clerk)
            }
        }
        let posted = try Dossier.decide(resolved, .returnResult(method: .postal, trackingNumber: "EB123456789VN", at: 5),
                                        by: Self.clerk)
        #expect(posted == [.resultReturned(method: .postal, trackingNumber: "EB123456789VN", at: 5)])
        try Self.expectRoundTrip(moved + posted)
    }

    @Test("a withdrawal: the applicant asks with a reason, an officer confirms; never after the dossier is resolved")
    func withdrawal() throws {
        let (received, _) = try Self.run([
            Self.submitLicense(),
            (.receive(receiptCode: "SNV-200401-0001", procedure: Self.license, calendar: Self.calendar,
                      calendarVersion: 1, at: Self.at("2020-04-01", 10)), Self.clerk),
        ])
        let applicant = Actor(staffID: "portal", role: .applicant)
        let unasked = #expect(throws: LedgerError.self) { try Dossier.decide(received, .withdraw(reason: "", at: 1), by: Self.clerk) }
        #expect(unasked?.code == .invalidState)
        #expect(throws: LedgerError.self) {
            try Dossier.decide(received, .requestWithdrawal(reason: "đổi ý", at: 1), by: Self.officer)
        }
        #expect(throws: LedgerError.self) { try Dossier.decide(received, .requestWithdrawal(reason: " ", at: 1), by: applicant) }
        let asked = try Dossier.decide(received, .requestWithdrawal(reason: "Công dân xin rút", at: 2), by: applicant)
        let pending = Dossier.evolve(received, asked[0])
        #expect(pending.status == .received && pending.withdrawalReason == "Công dân xin rút")
        #expect(throws: LedgerError.self) { try Dossier.decide(pending, .withdraw(reason: "", at: 3), by: applicant) }
        let confirmed = try Dossier.decide(pending, .withdraw(reason: "", at: 3), by: Self.clerk)
        #expect(confirmed == [.withdrawn(reason: "Công dân xin rút", at: 3)])
        #expect(Dossier.evolve(pending, confirmed[0]).status == .withdrawn)
        var resolved = received
        resolved.status = .resolved
        #expect(throws: LedgerError.self) {
            try Dossier.decide(resolved, .requestWithdrawal(reason: "muộn", at: 4), by: applicant)
        }
        try Self.expectRoundTrip(asked + confirmed)
    }

    @Test("every event round-trips through its payload parts; an erased applicant reads as empty")
    func payloadRoundTrip() throws {
        let (_, events) = try Self.run([
            Self.submitLicense(),
            (.receive(receiptCode: "SNV-200401-0001", procedure: Self.license, calendar: Self.calendar,
                      calendarVersion: 1, at: Self.at("2020-04-01", 10)), Self.clerk),
            (.assign(assignee: "staff-3", at: Self.at("2020-04-01", 11)), Self.head),
            (.startProcessing(at: Self.at("2020-04-01", 14)), Self.officer),
            (.requestSupplement(items: ["A", "B"], headOverride: false, at: Self.at("2020-04-03", 9)), Self.officer),
            (.receiveSupplement(calendar: Self.calendar, at: Self.at("2020-04-06", 9)), Self.clerk),
            (.submitForApproval(approvalID: Self.approvalID, draftSha256: Self.draft, outcome: .refuse,
                                at: Self.at("2020-04-07", 8)), Self.officer),
            (.refuse(reasons: ["Không đủ điều kiện"], approval: Self.signed, at: Self.at("2020-04-07", 9)), Self.clerk),
            (.returnResult(method: .online, at: Self.at("2020-04-07", 10)), Self.clerk),
        ])
        try Self.expectRoundTrip(events)
        let (facts, _) = events[0].encoded
        guard case .submitted(let erased) = try DossierEvent(type: events[0].type, facts: facts, personal: nil) else {
            Issue.record("not a submission"); return
        }
        #expect(erased.applicantName.isEmpty && erased.procedureCode == "1.004227")
        #expect(try Facts.json(facts).contains("\"procedure\":\"1.004227\""))
        #expect(!(try Facts.json(facts)).contains("Nguyễn"), "personal data never in facts")
    }
}
