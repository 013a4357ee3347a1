import EventStore
import Foundation
import Ledger
import TestSupport
import Testing

@Suite("Approvals: a level whose holder left")
struct ApprovalRerouteTests {
    @Test("when the agency head leaves, a deputy of theirs acts as head; with none, nobody heads the agency")
    func actingHead() async throws {
        let s = try await Scenario.make("acting-head")
        defer { s.remove() }
        try await s.run("staff.assign", "hr", .system, "2020-03-31T10:00:00+07:00", [
            "staff": "a-9", "unit": "A.LD", "position": "deputy director", "leader": true, "from": "2020-01-01",
            "head": "a-1"])
        try await s.run("staff.end", "hr", .system, "2020-04-03T17:00:00+07:00", ["staff": "a-1", "lastDay": "2020-04-03"])
        try await s.run("staff.end", "hr", .system, "2020-04-03T17:05:00+07:00", ["staff": "s-1", "lastDay": "2020-04-03"])
        var reference = ReferenceData()
        try reference.refresh(from: s.store)
        let friday = CivilDate("2020-04-03")!, monday = CivilDate("2020-04-06")!
        #expect(reference.head(of: "A", on: friday) == "a-1")
        #expect(reference.head(of: "A", on: monday) == "a-9",
                "the deputy of the leadership unit acts, not a unit head who also reported to a-1 (a-2)")
        #expect(reference.head(of: "S", on: monday) == nil, "no deputy: nobody heads S until a head is assigned")
        // The acting head signs as head: an apology, a leave, an exception are theirs to decide.
        #expect(reference.leads("A.P1", staff: "a-9", on: monday))
        try await s.run("staff.assign", "hr", .system, "2020-04-06T08:00:00+07:00", [
            "staff": "a-10", "unit": "A.LD", "position": "director", "leader": true, "from": "2020-04-07"])
        try reference.refresh(from: s.store)
        #expect(reference.head(of: "A", on: CivilDate("2020-04-07")!) == "a-10", "a new head takes the post")
        // a-10 takes a deputy, then moves to head S: a-10's deputy acts for A, not a-1's.
        try await s.run("staff.assign", "hr", .system, "2020-04-07T08:00:00+07:00", [
            "staff": "a-11", "unit": "A.LD", "position": "deputy director", "leader": true, "from": "2020-04-07",
            "head": "a-10"])
        try await s.run("staff.assign", "hr", .system, "2020-04-08T08:00:00+07:00", [
            "staff": "a-10", "unit": "S.LD", "position": "director", "leader": true, "from": "2020-04-10"])
        try reference.refresh(from: s.store)
        let later = CivilDate("2020-04-13")!
        #expect(reference.head(of: "A", on: later) == "a-11", "a move ends the headship the day before it begins")
        #expect(reference.head(of: "S", on: later) == "a-10")
        // Without a head, a draft cannot be approved: the chain would lack its agency level.
        #expect(reference.head(of: "S", on: monday) == nil)
    }

    @Test("the agency head re-routes an undecided level of a departed holder to a leader on staff, four eyes kept")
    func reroute() async throws {
        let s = try await Scenario.make("reroute")
        defer { s.remove() }
        let id = UUID()
        let approvalID = try await s.dossierAwaitingApproval(id)
        let approval = JSONValue.string(approvalID.uuidString)
        let sha = JSONValue.string(Scenario.draftSha256)
        let early = try await s.refusal("approval.reroute", "a-1", .agencyHead, "2020-04-03T10:00:00+07:00",
                                        ["approval": approval, "level": 1, "to": "a-20"])
        #expect(early?.code == .invalidState && early?.message.contains("a-2 is still on staff") == true)

        // The unit head a-2 leaves on Friday 3 April; a-20 heads A.P1 from Monday.
        try await s.run("staff.end", "hr", .system, "2020-04-03T17:00:00+07:00", ["staff": "a-2", "lastDay": "2020-04-03"])
        try await s.run("staff.assign", "hr", .system, "2020-04-03T17:05:00+07:00", [
            "staff": "a-20", "unit": "A.P1", "position": "head", "leader": true, "from": "2020-04-06", "head": "a-1"])
        let stuck = try await s.refusal("approval.approve", "a-20", .unitHead, "2020-04-06T08:00:00+07:00",
                                        ["approval": approval])
        #expect(stuck?.code == .notPermitted, "level 1 still names a-2")
        let head = s.store.head
        let byOther = try await s.refusal("approval.reroute", "a-20", .unitHead, "2020-04-06T08:05:00+07:00",
                                          ["approval": approval, "level": 1, "to": "a-20"])
        #expect(byOther?.code == .notPermitted && byOther?.message.contains("head of A") == true)
        let toProcessor = try await s.refusal("approval.reroute", "a-1", .agencyHead, "2020-04-06T08:05:00+07:00",
                                              ["approval": approval, "level": 1, "to": "a-3"])
        #expect(toProcessor?.code == .invalidCommand, "a-3 is no leader")
        let toHolder = try await s.refusal("approval.reroute", "a-1", .agencyHead, "2020-04-06T08:05:00+07:00",
                                           ["approval": approval, "level": 1, "to": "a-1"])
        #expect(toHolder?.code == .invalidCommand && toHolder?.message.contains("already holds or approved a level") == true)
        let noLevel = try await s.refusal("approval.reroute", "a-1", .agencyHead, "2020-04-06T08:05:00+07:00",
                                          ["approval": approval, "level": 3, "to": "a-20"])
        #expect(noLevel?.code == .invalidCommand)
        #expect(s.store.head == head, "refusals write nothing")

        try await s.run("approval.reroute", "a-1", .agencyHead, "2020-04-06T08:10:00+07:00",
                        ["approval": approval, "level": 1, "to": "a-20"])
        try await s.run("approval.approve", "a-20", .unitHead, "2020-04-06T08:20:00+07:00", ["approval": approval])
        try await s.run("approval.approve", "a-1", .agencyHead, "2020-04-06T08:30:00+07:00", ["approval": approval])
        try await s.run("approval.sign", "a-1", .agencyHead, "2020-04-06T08:40:00+07:00",
                        ["approval": approval, "signedSha256": sha, "certificate": Scenario.certificate])
        let types = try s.store.readStream("approval-\(approvalID.uuidString.lowercased())", payloads: .none)
            .map(\.record.eventType)
        #expect(types == ["ApprovalRequested.v1", "ApprovalChainRerouted.v1", "ApprovalStepApproved.v1",
                          "ApprovalStepApproved.v1", "DocumentDigitallySigned.v1"])
        let decided = try await s.refusal("approval.reroute", "a-1", .agencyHead, "2020-04-06T09:00:00+07:00",
                                          ["approval": approval, "level": 2, "to": "a-20"])
        #expect(decided?.code == .invalidState, "a signed approval is not re-routed")
    }

    @Test("the signer left after every level was approved: the last level is re-routed and its new holder signs")
    func signerLeft() throws {
        var approved = Approval()
        approved.status = .approved
        approved.submitter = "p"
        approved.processors = ["p"]
        approved.chain = ["unitHead", "director"]
        approved.approvedLevels = 2
        approved.approvedBy = [1: "deputy", 2: "unitHead"]
        approved.draftSha256 = String(repeating: "a", count: 64)
        let moved = try Approval.decide(approved, .reroute(level: 2, to: "newDirector", holderOnStaff: false,
                                                           toIsLeader: true, at: 1), by: "agencyHead")
        #expect(moved == [.rerouted(level: 2, from: "director", to: "newDirector", by: "agencyHead", at: 1)])
        let rerouted = Approval.evolve(approved, moved[0])
        let signed = try Approval.decide(rerouted, .sign(signedSha256: approved.draftSha256, at: 2), by: "newDirector")
        #expect(signed == [.signed(signer: "newDirector", capacity: nil, signedSha256: approved.draftSha256, at: 2)])
        #expect(throws: LedgerError.self, "the departed director no longer signs") {
            try Approval.decide(rerouted, .sign(signedSha256: approved.draftSha256, at: 2), by: "director")
        }
        #expect(throws: LedgerError.self, "level 1 was decided") {
            try Approval.decide(approved, .reroute(level: 1, to: "x", holderOnStaff: false, toIsLeader: true, at: 1),
                                by: "agencyHead")
        }
        let approverAgain = #expect(throws: LedgerError.self, "a delegate who approved a level takes no other") {
            try Approval.decide(approved, .reroute(level: 2, to: "deputy", holderOnStaff: false, toIsLeader: true, at: 1),
                                by: "agencyHead")
        }
        #expect(approverAgain?.message.contains("approved a level") == true)
        // A stored event naming a level outside the chain is refused when read, never trapping the fold.
        var w = Facts.Writer()
        w.field("level", 0)
        w.field("from", "a")
        w.field("to", "b")
        w.field("by", "c")
        w.field("at", instant: 1)
        #expect(throws: Facts.DecodingError.self) { try ApprovalEvent.decode(type: "ApprovalChainRerouted.v1", facts: w.finish()) }
    }
}
