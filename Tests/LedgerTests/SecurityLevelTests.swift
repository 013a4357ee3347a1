import EventStore
import Foundation
import Ledger
import TestSupport
import Testing

/// State-secret material (domain.md: `securityLevel`; §3.1 DossierAssigned, §3.3 ApprovalRequested): not handled over
/// IT channels from home, so its assignee, approvers and signer work on site that day.
@Suite("Graded dossiers and drafts")
struct SecurityLevelTests {
    @Test("a graded dossier goes only to an assignee checked in on site; its approval is decided and signed on site")
    func onsiteOnly() async throws {
        let s = try await Scenario.make("graded")
        defer { s.remove() }
        let id = UUID()
        let d = JSONValue.string(id.uuidString)
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-01T07:00:00+07:00", [
            "unit": "A.P1", "week": "2020-04-01", "entries": .array([Scenario.rosterEntry("2020-04-03", "a-3")])])
        try await s.run("roster.publish", "a-2", .unitHead, "2020-04-01T07:05:00+07:00", [
            "unit": "A.P1", "week": "2020-04-06", "entries": .array([Scenario.rosterEntry("2020-04-06", "a-2")])])
        try await s.run("roster.publish", "a-1", .agencyHead, "2020-04-01T07:06:00+07:00", [
            "unit": "A.MC", "week": "2020-04-06", "entries": .array([Scenario.rosterEntry("2020-04-06", "a-7")])])
        try await s.run("roster.publishLeaders", "a-1", .agencyHead, "2020-04-01T07:10:00+07:00", [
            "agency": "A", "week": "2020-04-06",
            "entries": .array(["06", "07", "08", "09", "10"].map { Scenario.rosterEntry("2020-04-\($0)", "a-1") })])
        try await s.run("dossier.submit", "portal", .applicant, "2020-04-03T07:30:00+07:00", [
            "dossier": d, "procedure": "P1", "agency": "A", "channel": "online", "applicantName": "Lê Văn Cường",
            "applicantId": "079190000009"])
        let head = s.store.head
        let unknown = try await s.refusal("dossier.receive", "a-7", .oneStopOfficer, "2020-04-03T08:00:00+07:00",
                                          ["dossier": d, "securityLevel": "RESTRICTED"], unit: "A.MC")
        #expect(unknown?.field == "body.securityLevel" && unknown?.message.contains("CONFIDENTIAL") == true)
        #expect(s.store.head == head, "a refused command writes nothing")
        try await s.run("dossier.receive", "a-7", .oneStopOfficer, "2020-04-03T08:00:00+07:00",
                        ["dossier": d, "securityLevel": "CONFIDENTIAL"], unit: "A.MC")
        try await s.run("dossier.transfer", "a-7", .oneStopOfficer, "2020-04-03T08:05:00+07:00",
                        ["dossier": d, "unit": "A.P1"], unit: "A.MC")

        // Not checked in, or checked in from home: refused, naming the grading.
        let absent = try await s.refusal("dossier.assign", "a-2", .unitHead, "2020-04-03T08:10:00+07:00",
                                         ["dossier": d, "assignee": "a-3"])
        #expect(absent?.code == .notPermitted && absent?.message.contains("graded CONFIDENTIAL") == true)
        try await s.run("attendance.checkIn", "a-4", .specialist, "2020-04-03T08:11:00+07:00", ["location": "REMOTE"])
        let remote = try await s.refusal("dossier.assign", "a-2", .unitHead, "2020-04-03T08:12:00+07:00",
                                         ["dossier": d, "assignee": "a-4"])
        #expect(remote?.code == .notPermitted)
        let coHandler = try await s.refusal("dossier.assign", "a-2", .unitHead, "2020-04-03T08:12:00+07:00",
                                            ["dossier": d, "assignee": "a-4", "role": "CO_HANDLER"])
        #expect(coHandler?.code == .notPermitted && coHandler?.message.contains("a-4 must check in ONSITE") == true,
                "co-handlers see the material too")
        try await s.run("attendance.checkIn", "a-3", .specialist, "2020-04-03T08:13:00+07:00", ["location": "ONSITE"])
        try await s.run("dossier.assign", "a-2", .unitHead, "2020-04-03T08:14:00+07:00", ["dossier": d, "assignee": "a-3"])
        try await s.run("dossier.startProcessing", "a-3", .specialist, "2020-04-03T08:20:00+07:00", ["dossier": d])

        // The draft inherits the grading.
        let sha = String(repeating: "e", count: 64)
        let approval = UUID()
        let a = JSONValue.string(approval.uuidString)
        try await s.run("dossier.submitForApproval", "a-3", .specialist, "2020-04-03T15:00:00+07:00", [
            "dossier": d, "approval": a, "draftSha256": .string(sha), "outcome": "grant"])
        let requested = try #require(try s.store.readStream("approval-\(approval.uuidString.lowercased())",
                                                            payloads: .facts).first)
        guard case .requested(_, _, let chain, _, _, _, let level)? = try ApprovalEvent.decode(
            type: requested.record.eventType, facts: requested.facts ?? [])?.event
        else {
            Issue.record("not an ApprovalRequested event")
            return
        }
        #expect(level == .confidential && chain == ["a-2", "a-1"])

        // Monday 6 April: the unit head decides only once checked in on site; the agency head likewise signs.
        let fromHome = try await s.refusal("approval.approve", "a-2", .unitHead, "2020-04-06T08:00:00+07:00",
                                           ["approval": a])
        #expect(fromHome?.code == .notPermitted && fromHome?.message.contains("a-2 must check in ONSITE") == true)
        try await s.run("attendance.checkIn", "a-2", .unitHead, "2020-04-06T08:05:00+07:00", ["location": "ONSITE"])
        try await s.run("approval.approve", "a-2", .unitHead, "2020-04-06T08:10:00+07:00", ["approval": a])
        try await s.run("attendance.checkIn", "a-1", .agencyHead, "2020-04-06T08:15:00+07:00", ["location": "ONSITE"])
        try await s.run("approval.approve", "a-1", .agencyHead, "2020-04-06T08:20:00+07:00", ["approval": a])
        try await s.run("approval.sign", "a-1", .agencyHead, "2020-04-06T08:30:00+07:00",
                        ["approval": a, "signedSha256": .string(sha), "certificate": Scenario.certificate])
        let dossier = try DossierHandler(store: s.store).load(id).state
        #expect(dossier.securityLevel == .confidential && dossier.assignee == "a-3")

        // The desk records the signed result on site too: the material never leaves the office.
        let deskHead = s.store.head
        let deskFromHome = try await s.refusal("dossier.resolve", "a-7", .oneStopOfficer, "2020-04-06T09:00:00+07:00",
                                               ["dossier": d, "resultNumber": "12/QĐ-A"], unit: "A.MC")
        #expect(deskFromHome?.code == .notPermitted && deskFromHome?.message.contains("a-7 must check in ONSITE") == true,
                "\(deskFromHome?.message ?? "accepted")")
        #expect(s.store.head == deskHead, "a refused command writes nothing")
        try await s.run("attendance.checkIn", "a-7", .oneStopOfficer, "2020-04-06T09:05:00+07:00", ["location": "ONSITE"],
                        unit: "A.MC")
        try await s.run("dossier.resolve", "a-7", .oneStopOfficer, "2020-04-06T09:10:00+07:00",
                        ["dossier": d, "resultNumber": "12/QĐ-A"], unit: "A.MC")
        #expect(try DossierHandler(store: s.store).load(id).state.status == .resolved)
    }

    @Test("processing steps on a graded dossier are taken only on site; on an ungraded one anywhere")
    func processingSteps() throws {
        var graded = Dossier()
        graded.status = .assigned
        graded.assignee = "p"
        graded.securityLevel = .topSecret
        let handler = Actor(staffID: "p", role: .specialist)
        let error = #expect(throws: LedgerError.self) {
            try Dossier.decide(graded, .startProcessing(at: 1), by: handler)
        }
        #expect(error?.code == .notPermitted && error?.message.contains("graded TOP_SECRET") == true
            && error?.message.contains("p must check in ONSITE") == true, "\(error?.message ?? "accepted")")
        #expect(try Dossier.decide(graded, .startProcessing(at: 1), by: handler, actorOnsite: true).count == 1)
        var plain = graded
        plain.securityLevel = nil
        #expect(try Dossier.decide(plain, .startProcessing(at: 1), by: handler).count == 1,
                "an ungraded dossier is processed from home as well")
        let material: [DossierCommand] = [
            .startProcessing(at: 1), .requestSupplement(items: ["x"], headOverride: false, at: 1),
            .resolve(resultNumber: "1", approval: Approval(), at: 1), .refuse(reasons: ["x"], approval: Approval(), at: 1),
            .returnResult(method: .direct, at: 1),
        ]
        #expect(material.allSatisfy { $0.handlesMaterial })
        #expect(!DossierCommand.payFee(amount: 1, online: true, at: 1).handlesMaterial, "paying a fee is the applicant's")
        // The applicant's portal never checks in: its steps are not held to it. The system is let off only by the
        // service, for a trusted sender (`actorOnsite`), never for a role a client merely claims.
        var resolved = graded
        resolved.status = .resolved
        let portal = Actor(staffID: "portal", role: .applicant), system = Actor(staffID: "system", role: .system)
        for (actor, onsite) in [(portal, false), (system, true)] {
            do {
                _ = try Dossier.decide(resolved, .returnResult(method: .online, at: 1), by: actor, actorOnsite: onsite)
            } catch {
                #expect(!error.message.contains("check in ONSITE"), "\(actor.role): \(error.message)")
            }
        }
        let claimed = #expect(throws: LedgerError.self) {
            try Dossier.decide(resolved, .returnResult(method: .online, at: 1), by: system)
        }
        #expect(claimed?.message.contains("check in ONSITE") == true)
        #expect(throws: LedgerError.self, "a desk officer returning it is") {
            try Dossier.decide(resolved, .returnResult(method: .direct, at: 1), by: Actor(staffID: "d", role: .oneStopOfficer))
        }
    }

    @Test("decisions: a graded draft is submitted, decided, resubmitted, signed and sealed only on site; an ungraded one anywhere")
    func decisions() throws {
        let sha = String(repeating: "a", count: 64)
        func refused(_ state: Approval, _ command: ApprovalCommand, _ act: String) {
            let error = #expect(throws: LedgerError.self) { try Approval.decide(state, command, by: "h") }
            #expect(error?.code == .notPermitted && error?.message.contains("graded SECRET") == true
                && error?.message.contains("before they \(act) it") == true, "\(command): \(error?.message ?? "accepted")")
            #expect(throws: Never.self) { try Approval.decide(state, command, by: "h", onsite: true) }
        }
        refused(Approval(), .request(processors: ["p"], chain: ["x"], draftSha256: sha, at: 1, securityLevel: .secret),
                "submit")
        var graded = Approval()
        graded.status = .pending
        graded.submitter = "p"
        graded.chain = ["h"]
        graded.draftSha256 = sha
        graded.securityLevel = .secret
        refused(graded, .approve(at: 1), "decide")
        refused(graded, .returnForRevision(comments: ["x"], at: 1), "decide")
        refused(graded, .reject(reasons: ["x"], at: 1), "decide")
        var returned = graded
        returned.status = .returned
        returned.submitter = "h"
        refused(returned, .resubmit(draftSha256: String(repeating: "b", count: 64), at: 1), "resubmit")
        var approved = graded
        approved.status = .approved
        approved.approvedLevels = 1
        refused(approved, .sign(signedSha256: sha, at: 1), "sign")
        var signed = approved
        signed.status = .signed
        refused(signed, .seal(signedSha256: sha, certificate: nil, at: 1), "seal")
        var plain = graded
        plain.securityLevel = nil
        #expect(try Approval.decide(plain, .approve(at: 1), by: "h").count == 1, "an ungraded draft is decided anywhere")
    }

    @Test("facts recorded without a grading read as ungraded; an unknown grading is named with the allowed ones")
    func facts() throws {
        let received = DossierEvent.received(.init(receiptCode: "A-200403-0001", at: 1, clockStartAt: 1, dueAt: 2,
                                                   durationMinutes: 60, calendarVersion: 1))
        guard case .received(let r) = try DossierEvent(type: received.type, facts: received.encoded.facts,
                                                         personal: nil) else {
            Issue.record("not a receipt")
            return
        }
        #expect(r.securityLevel == nil)
        var w = Facts.Writer()
        w.field("receiptCode", "A-200403-0001")
        w.field("at", instant: 1)
        w.field("clockStartAt", instant: 1)
        w.field("dueAt", instant: 2)
        w.field("calendarVersion", 1)
        w.field("securityLevel", "RESTRICTED")
        let error = #expect(throws: Facts.DecodingError.self) {
            try DossierEvent(type: received.type, facts: w.finish(), personal: nil)
        }
        #expect(error?.what.contains("RESTRICTED") == true && error?.what.contains("TOP_SECRET") == true)
        let request = ApprovalEvent.requested(submitter: "p", processors: ["p"], chain: ["h"],
                                              draftSha256: String(repeating: "a", count: 64), at: 1)
        guard case .requested(_, _, _, _, _, _, let level)? = try ApprovalEvent.decode(
            type: request.type, facts: request.new().facts)?.event else {
            Issue.record("not a request")
            return
        }
        #expect(level == nil)
    }
}
