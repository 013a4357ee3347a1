import Foundation
import Ledger
import Testing

@Suite("Approvals and delegation")
struct ApprovalTests {
    static let draft = String(repeating: "ab", count: 32)
    static let revised = String(repeating: "cd", count: 32)

    static func run(_ steps: [(ApprovalCommand, String)], delegations: [Delegation] = []) throws -> Approval {
        var state = Approval()
        for (command, actor) in steps {
            for e in try Approval.decide(state, command, by: actor, delegations: delegations) {
                state = Approval.evolve(state, e)
            }
        }
        return state
    }

    static let requested: [(ApprovalCommand, String)] = [
        (.request(processors: ["officer"], chain: ["unitHead", "director"], draftSha256: draft, at: 100), "officer"),
    ]

    @Test("a revision starts the chain again at level 1, or at the level that returned it; comments and notes are kept")
    func restart() throws {
        let returned = try Self.run(Self.requested + [(.approve(at: 110, comment: "đồng ý"), "unitHead"),
                                                      (.returnForRevision(comments: ["sửa căn cứ"], at: 120), "director")])
        #expect(returned.status == .returned && returned.returnedAtLevel == 2)
        let fromStart = try Approval.decide(returned, .resubmit(draftSha256: Self.revised, at: 130, changeNote: "đã sửa"),
                                            by: "officer")
        #expect(fromStart == [.resubmitted(draftSha256: Self.revised, at: 130, changeNote: "đã sửa", restartLevel: 1)])
        #expect(throws: LedgerError.self, "level 1 again: the director waits") {
            try Approval.decide(Approval.evolve(returned, fromStart[0]), .approve(at: 140), by: "director")
        }
        let returning = try Approval.decide(returned, .resubmit(draftSha256: Self.revised, at: 130, fromReturningLevel: true),
                                            by: "officer")
        let resumed = Approval.evolve(returned, returning[0])
        #expect(try Approval.decide(resumed, .approve(at: 140), by: "director")
            == [.stepApproved(level: 2, approver: "director", capacity: nil, at: 140)])
        for event in fromStart + returning + [.stepApproved(level: 1, approver: "unitHead", capacity: nil, at: 110, comment: "đồng ý")] {
            let new = event.new()
            #expect(try ApprovalEvent.decode(type: new.type, facts: new.facts)?.event == event)
        }
    }

    @Test("a dossier's draft: free text goes in the personal part under the applicant's subject; an outgoing document's stays in the facts")
    func freeTextPlacement() throws {
        let subject = UUID()
        let events: [ApprovalEvent] = [
            .stepApproved(level: 1, approver: "unitHead", capacity: nil, at: 110, comment: "hồ sơ của bà Bình đủ"),
            .returnedForRevision(level: 2, approver: "director", comments: ["ghi lại địa chỉ bà Bình"], at: 120),
            .rejected(level: 2, approver: "director", reasons: ["bà Bình không đủ điều kiện"], at: 121),
            .resubmitted(draftSha256: Self.revised, at: 130, changeNote: "sửa tên bà Bình"),
            .withdrawn(reason: "bà Bình rút hồ sơ", by: "officer", at: 140),
        ]
        for event in events {
            let plain = event.new()
            #expect(plain.personal == nil && String(decoding: plain.facts, as: UTF8.self).contains("Bình"))
            let personal = event.new(dataSubject: subject)
            #expect(personal.subject == subject && personal.personal != nil)
            #expect(!String(decoding: personal.facts, as: UTF8.self).contains("Bình"), "\(event.new().type)")
            #expect(try ApprovalEvent.decode(type: personal.type, facts: personal.facts,
                                             personal: personal.personal)?.event == event)
            // Erased: the decision stands, its words are gone.
            let erased = try #require(try ApprovalEvent.decode(type: personal.type, facts: personal.facts)?.event)
            #expect(!"\(erased)".contains("Bình"))
        }
        let signed = ApprovalEvent.signed(signer: "director", capacity: nil, signedSha256: Self.draft, at: 150)
        #expect(signed.new(dataSubject: subject).personal == nil, "no free text, no personal part")
    }

    @Test("two levels in order, then the signature over the approved hash")
    func chain() throws {
        let approved = try Self.run(Self.requested + [(.approve(at: 110), "unitHead"), (.approve(at: 120), "director")])
        #expect(approved.status == .approved)
        #expect { try Approval.decide(approved, .sign(signedSha256: Self.revised, at: 130), by: "director") } throws: {
            let e = $0 as? LedgerError
            return e?.code == .invalidCommand && e?.message.contains("is not the approved draft's") == true
        }
        #expect(throws: LedgerError.self) { try Approval.decide(approved, .sign(signedSha256: Self.draft, at: 130), by: "unitHead") }
        let signed = try Self.run(Self.requested + [(.approve(at: 110), "unitHead"), (.approve(at: 120), "director"),
                                                    (.sign(signedSha256: Self.draft, at: 130), "director")])
        #expect(signed.status == .signed)
    }

    @Test("four eyes: the submitter or a processor never approves; levels go in order")
    func fourEyes() throws {
        #expect { _ = try Self.run([(.request(processors: ["officer"], chain: ["officer", "director"],
                                              draftSha256: Self.draft, at: 1), "officer")]) } throws: {
            ($0 as? LedgerError)?.code == .notPermitted && "\($0)".contains("four eyes")
        }
        let pending = try Self.run(Self.requested)
        #expect(throws: LedgerError.self) { try Approval.decide(pending, .approve(at: 2), by: "director") }  // level 1 first
        #expect(throws: LedgerError.self) { try Approval.decide(pending, .approve(at: 2), by: "officer") }
    }

    @Test("four eyes across delegations: whoever approved one level decides no other, until a revision reopens it")
    func oneLevelEach() throws {
        // The deputy holds delegations from both holders; having approved level 1 for the unit head, it may not
        // approve level 2 for the director.
        let delegations = [
            Delegation(from: "unitHead", to: "deputy", capacity: .kt, validFrom: 100, validTo: 200, recordedAt: 90),
            Delegation(from: "director", to: "deputy", capacity: .kt, validFrom: 100, validTo: 200, recordedAt: 90),
        ]
        let first = try Self.run(Self.requested + [(.approve(at: 110), "deputy")], delegations: delegations)
        #expect(first.approvedBy == [1: "deputy"])
        let twice = #expect(throws: LedgerError.self) {
            try Approval.decide(first, .approve(at: 120), by: "deputy", delegations: delegations)
        }
        #expect(twice?.message.contains("already approved level 1") == true)
        // Returned and resubmitted from level 1: the first approval no longer stands, and level 1 is open to it again.
        let returned = try Self.run(Self.requested + [(.approve(at: 110), "deputy"),
                                                      (.returnForRevision(comments: ["x"], at: 120), "director"),
                                                      (.resubmit(draftSha256: Self.revised, at: 130), "officer")],
                                    delegations: delegations)
        #expect(returned.approvedBy.isEmpty)
        #expect(try Approval.decide(returned, .approve(at: 140), by: "deputy", delegations: delegations).count == 1)
    }

    @Test("a return goes back to the submitter, who must change the draft; a rejection is final")
    func returnsAndRejections() throws {
        let returned = try Self.run(Self.requested + [(.returnForRevision(comments: ["Sửa căn cứ pháp lý"], at: 110), "unitHead")])
        #expect(returned.status == .returned)
        #expect(throws: LedgerError.self) { try Approval.decide(returned, .resubmit(draftSha256: Self.draft, at: 120), by: "officer") }
        let resubmitted = try Self.run(Self.requested + [
            (.returnForRevision(comments: ["x"], at: 110), "unitHead"), (.resubmit(draftSha256: Self.revised, at: 120), "officer"),
        ])
        #expect(resubmitted.status == .pending && resubmitted.approvedLevels == 0 && resubmitted.draftSha256 == Self.revised)
        let rejected = try Self.run(Self.requested + [(.reject(reasons: ["Không đủ điều kiện"], at: 110), "unitHead")])
        #expect(throws: LedgerError.self) { try Approval.decide(rejected, .approve(at: 120), by: "unitHead") }
    }

    @Test("a delegate acts in the delegation's capacity while it is valid")
    func delegated() throws {
        let kt = Delegation(from: "director", to: "deputy", capacity: .kt, validFrom: 100, validTo: 200, recordedAt: 90)
        let state = try Self.run(Self.requested + [(.approve(at: 110), "unitHead")])
        let events = try Approval.decide(state, .approve(at: 150), by: "deputy", delegations: [kt])
        #expect(events == [.stepApproved(level: 2, approver: "deputy", capacity: .kt, at: 150)])
        #expect(throws: LedgerError.self) { try Approval.decide(state, .approve(at: 250), by: "deputy", delegations: [kt]) }
        // The signature records the capacity too; a delegation scoped to other subjects covers nothing here.
        let approved = try Self.run(Self.requested + [(.approve(at: 110), "unitHead"), (.approve(at: 120), "director")])
        #expect(try Approval.decide(approved, .sign(signedSha256: Self.draft, at: 130), by: "deputy", delegations: [kt])
            == [.signed(signer: "deputy", capacity: .kt, signedSha256: Self.draft, at: 130)])
        var leaveOnly = kt
        leaveOnly.subjects = [.leave]
        #expect(throws: LedgerError.self) {
            try Approval.decide(approved, .sign(signedSha256: Self.draft, at: 130), by: "deputy", delegations: [leaveOnly])
        }
    }

    @Test("a delegate who processed the subject cannot sign it")
    func delegateFourEyes() throws {
        let kt = Delegation(from: "director", to: "officer", capacity: .kt, validFrom: 100, validTo: 200, recordedAt: 90)
        let approved = try Self.run(Self.requested + [(.approve(at: 110), "unitHead"), (.approve(at: 120), "director")])
        #expect { _ = try Approval.decide(approved, .sign(signedSha256: Self.draft, at: 130), by: "officer",
                                          delegations: [kt]) } throws: { "\($0)".contains("four eyes") }
    }

    @Test("delegation limits: no self-delegation, not retroactive, no sub-delegation of TUQ, no cycles")
    func delegationLimits() throws {
        let tuq = Delegation(from: "director", to: "chief", capacity: .tuq, validFrom: 100, validTo: 200, recordedAt: 100)
        #expect {
            try Delegation.validate(.init(from: "a", to: "a", capacity: .kt, validFrom: 1, validTo: 2, recordedAt: 1), existing: [])
        } throws: { ($0 as? LedgerError)?.code == .invalidCommand && "\($0)".contains("a cannot delegate to themselves") }
        #expect {
            try Delegation.validate(.init(from: "a", to: "b", capacity: .kt, validFrom: 1, validTo: 9, recordedAt: 5), existing: [])
        } throws: { ($0 as? LedgerError)?.code == .invalidCommand && "\($0)".contains("no retroactive delegation") }
        #expect {
            try Delegation.validate(.init(from: "a", to: "b", capacity: .q, validFrom: 5, validTo: 5, recordedAt: 5), existing: [])
        } throws: { "\($0)".contains("needs a period") }
        // A Q (acting head) delegation is checked like any other: a delegate may pass on what a Q gives.
        try Delegation.validate(.init(from: "chief", to: "deputy", capacity: .kt, validFrom: 120, validTo: 150,
                                      recordedAt: 110),
                                existing: [Delegation(from: "director", to: "chief", capacity: .q, validFrom: 100,
                                                      validTo: 200, recordedAt: 100)])
        #expect { try Delegation.validate(.init(from: "chief", to: "clerk", capacity: .tl, validFrom: 120, validTo: 150,
                                                recordedAt: 110), existing: [tuq]) } throws: {
            "\($0)".contains("TUQ")
        }
        #expect { try Delegation.validate(.init(from: "chief", to: "director", capacity: .kt, validFrom: 120, validTo: 150,
                                                recordedAt: 110), existing: [Delegation(from: "director", to: "chief",
                                                capacity: .kt, validFrom: 100, validTo: 200, recordedAt: 100)]) } throws: {
            "\($0)".contains("cycle")
        }
        try Delegation.validate(.init(from: "director", to: "deputy", capacity: .kt, validFrom: 120, validTo: 150,
                                      recordedAt: 110), existing: [tuq])
    }
}
