import EventStore
import Foundation
import Ledger
import TestSupport
import Testing

/// What follows a signature (domain.md §3.3): the document's number in its register, its issue, and the
/// submitter's withdrawal before a decision.
@Suite("Signed documents")
struct DocumentTests {
    @Test("numbers run gap-free per register and year; issued once, late after the next working day; withdrawn only before a decision")
    func numberIssueWithdraw() async throws {
        let s = try await Scenario.make("documents")
        defer { s.remove() }
        let sha = String(repeating: "c", count: 64)
        /// Opens a dossier and submits its draft for approval; returns the approval id.
        func submitted(_ n: Int) async throws -> (dossier: UUID, approval: JSONValue) {
            let dossier = UUID(), approval = JSONValue.string(UUID().uuidString)
            try await s.openDossier(dossier, submit: "2020-04-01T09:0\(n):00", receive: "2020-04-01T10:0\(n):00",
                                    assignee: "a-3")
            try await s.run("dossier.submitForApproval", "a-3", .specialist, "2020-04-03T09:00:00+07:00", [
                "dossier": .string(dossier.uuidString), "approval": approval, "draftSha256": .string(sha),
                "outcome": "grant"])
            return (dossier, approval)
        }
        func signed(_ n: Int) async throws -> JSONValue {
            let (_, approval) = try await submitted(n)
            try await s.run("approval.approve", "a-2", .unitHead, "2020-04-03T10:00:00+07:00", ["approval": approval])
            try await s.run("approval.approve", "a-1", .agencyHead, "2020-04-03T11:00:00+07:00", ["approval": approval])
            try await s.run("approval.sign", "a-1", .agencyHead, "2020-04-03T11:30:00+07:00",
                            ["approval": approval, "signedSha256": .string(sha), "certificate": Scenario.certificate])
            return approval
        }
        let (first, second) = (try await signed(1), try await signed(2))
        let number: [String: JSONValue] = ["register": "QD", "symbol": "QĐ-UBND"]
        let abroad = try await s.refusal("approval.number", "s-1", .clerk, "2020-04-03T14:00:00+07:00",
                                         number.merging(["approval": first]) { $1 })
        #expect(abroad?.code == .notPermitted, "s-1 works for agency S, not A")
        let bySpecialist = try await s.refusal("approval.number", "a-3", .specialist, "2020-04-03T14:00:00+07:00",
                                               number.merging(["approval": first]) { $1 })
        #expect(bySpecialist?.code == .notPermitted)
        let early = try await s.refusal("approval.issue", "a-7", .clerk, "2020-04-03T14:00:00+07:00", [
            "approval": first, "recipients": .array(["S"]), "channel": "EDOC"])
        #expect(early?.code == .invalidState, "not numbered yet")
        try await s.run("approval.number", "a-7", .clerk, "2020-04-03T14:00:00+07:00", number.merging(["approval": first]) { $1 })
        try await s.run("approval.number", "a-7", .clerk, "2020-04-03T14:05:00+07:00", number.merging(["approval": second]) { $1 })
        let twice = try await s.refusal("approval.number", "a-7", .clerk, "2020-04-03T14:10:00+07:00",
                                        number.merging(["approval": first]) { $1 })
        #expect(twice?.code == .invalidState)
        let sealLate = try await s.refusal("approval.seal", "a-7", .clerk, "2020-04-03T14:20:00+07:00",
                                           ["approval": first, "signedSha256": .string(sha), "certificate": Scenario.certificate])
        #expect(sealLate?.code == .invalidState, "the seal goes on before the number")
        let taken = try s.store.readStream("docregister-A-QD-2020", payloads: .facts).map { e in
            try Facts.decode(e.facts ?? []) { r throws(Facts.DecodingError) in try r.int("number") }
        }
        #expect(taken == [1, 2])
        // Signed Friday 3 April: on time through Monday 6 April 17:00 (the next working day), late after.
        try await s.run("approval.issue", "a-7", .clerk, "2020-04-06T16:00:00+07:00", [
            "approval": first, "recipients": .array(["S"]), "channel": "EDOC"])
        try await s.run("approval.issue", "a-7", .clerk, "2020-04-07T08:00:00+07:00", [
            "approval": second, "recipients": .array(["S"]), "channel": "POST"])
        let again = try await s.refusal("approval.issue", "a-7", .clerk, "2020-04-07T09:00:00+07:00", [
            "approval": second, "recipients": .array(["S"]), "channel": "POST"])
        #expect(again?.code == .invalidState)
        func issued(_ approval: JSONValue) throws -> ApprovalEvent? {
            guard case .string(let id) = approval else { return nil }
            return try s.store.readStream("approval-\(id.lowercased())", payloads: .facts)
                .compactMap { try ApprovalEvent.decode(type: $0.record.eventType, facts: $0.facts ?? [])?.event }.last
        }
        #expect(try issued(first).map { if case .issued(_, .edoc, false, "a-7", _) = $0 { true } else { false } } == true)
        #expect(try issued(second).map { if case .issued(_, .post, true, "a-7", _) = $0 { true } else { false } } == true)

        // A withdrawal: only the submitter, only before a decision; the dossier goes back to processing.
        let (dossier, pending) = try await submitted(3)
        let byHead = try await s.refusal("approval.withdraw", "a-2", .unitHead, "2020-04-03T12:00:00+07:00",
                                         ["approval": pending, "reason": "thiếu căn cứ"])
        #expect(byHead?.code == .notPermitted)
        try await s.run("approval.withdraw", "a-3", .specialist, "2020-04-03T12:00:00+07:00",
                        ["approval": pending, "reason": "thiếu căn cứ"])
        let state = try DossierHandler(store: s.store).load(dossier).state
        #expect(state.status == .inProcess && state.approvalID == nil && state.revisions == 0)
        // Withdrawn after a return: the dossier is already back in processing and stays there.
        let (returnedDossier, returned) = try await submitted(4)
        try await s.run("approval.return", "a-2", .unitHead, "2020-04-03T12:10:00+07:00",
                        ["approval": returned, "comments": .array(["bổ sung căn cứ"])])
        try await s.run("approval.withdraw", "a-3", .specialist, "2020-04-03T12:20:00+07:00",
                        ["approval": returned, "reason": "soạn lại"])
        #expect(try DossierHandler(store: s.store).load(returnedDossier).state.status == .inProcess)
        let late = try await s.refusal("approval.withdraw", "a-3", .specialist, "2020-04-06T12:00:00+07:00",
                                       ["approval": first, "reason": "x"])
        #expect(late?.code == .invalidState, "a signed document is past withdrawal")
    }

    @Test("an outgoing document goes through its own approval; a delegation scoped to dossiers does not cover it")
    func outgoingDocument() async throws {
        let s = try await Scenario.make("outgoing")
        defer { s.remove() }
        let approval = JSONValue.string(UUID().uuidString)
        let sha = String(repeating: "d", count: 64)
        let noRef = try await s.refusal("approval.request", "a-3", .specialist, "2020-04-03T09:00:00+07:00",
                                        ["approval": approval, "draftSha256": .string(sha)])
        #expect(noRef?.field == "body.documentRef")
        try await s.run("approval.request", "a-3", .specialist, "2020-04-03T09:00:00+07:00", [
            "approval": approval, "draftSha256": .string(sha), "documentRef": "Báo cáo tuần 14"])
        try await s.run("approval.approve", "a-2", .unitHead, "2020-04-03T10:00:00+07:00", ["approval": approval])
        // a-2 holds a KT from the agency head for dossiers only: it does not reach an outgoing document.
        try await s.run("delegation.grant", "a-1", .agencyHead, "2020-04-03T10:00:00+07:00", [
            "to": "a-2", "capacity": "KT", "validFrom": "2020-04-03T10:00:00+07:00", "validTo": "2020-04-03T17:00:00+07:00",
            "subjects": .array(["DOSSIER_RESULT"])])
        let outOfScope = try await s.refusal("approval.approve", "a-2", .deputyHead, "2020-04-03T10:30:00+07:00",
                                             ["approval": approval])
        #expect(outOfScope?.code == .notPermitted)
        try await s.run("approval.approve", "a-1", .agencyHead, "2020-04-03T11:00:00+07:00", ["approval": approval])
        // The personal signature's certificate must be valid when it signs; the clerk then adds the organisation's.
        let expired: JSONValue = .object(["serial": "5402F1", "issuer": "VNPT-CA", "validFrom": "2018-01-01T00:00:00+07:00",
                                          "validTo": "2020-01-01T00:00:00+07:00"])
        let unnamed = try await s.refusal("approval.sign", "a-1", .agencyHead, "2020-04-03T11:30:00+07:00",
                                          ["approval": approval, "signedSha256": .string(sha)])
        #expect(unnamed?.field == "body.certificate", "a new signature names its certificate")
        let stale = try await s.refusal("approval.sign", "a-1", .agencyHead, "2020-04-03T11:30:00+07:00",
                                        ["approval": approval, "signedSha256": .string(sha), "certificate": expired])
        #expect(stale?.code == .invalidCommand && stale?.message.contains("not valid") == true)
        let early = try await s.refusal("approval.seal", "a-7", .clerk, "2020-04-03T11:20:00+07:00",
                                        ["approval": approval, "signedSha256": .string(sha), "certificate": Scenario.certificate])
        #expect(early?.code == .invalidState, "the organisation signs after the person")
        let valid: JSONValue = .object(["serial": "5402F2", "issuer": "VNPT-CA", "validFrom": "2019-06-01T00:00:00+07:00",
                                        "validTo": "2022-06-01T00:00:00+07:00"])
        try await s.run("approval.sign", "a-1", .agencyHead, "2020-04-03T11:30:00+07:00",
                        ["approval": approval, "signedSha256": .string(sha), "certificate": valid])
        let bySpecialist = try await s.refusal("approval.seal", "a-3", .specialist, "2020-04-03T11:40:00+07:00",
                                               ["approval": approval, "signedSha256": .string(sha), "certificate": Scenario.certificate])
        #expect(bySpecialist?.code == .notPermitted)
        let abroad = try await s.refusal("approval.seal", "s-1", .clerk, "2020-04-03T11:40:00+07:00",
                                         ["approval": approval, "signedSha256": .string(sha), "certificate": Scenario.certificate])
        #expect(abroad?.code == .notPermitted, "s-1 is not a clerk of agency A")
        try await s.run("approval.seal", "a-7", .clerk, "2020-04-03T11:40:00+07:00",
                        ["approval": approval, "signedSha256": .string(sha), "certificate": valid])
        let twice = try await s.refusal("approval.seal", "a-7", .clerk, "2020-04-03T11:45:00+07:00",
                                        ["approval": approval, "signedSha256": .string(sha), "certificate": Scenario.certificate])
        #expect(twice?.code == .invalidState)
        try await s.run("approval.number", "a-7", .clerk, "2020-04-03T14:00:00+07:00",
                        ["approval": approval, "register": "BC", "symbol": "BC-UBND"])
        #expect(try s.store.streamInfo("docregister-A-BC-2020")?.version == 1)
        guard case .string(let id) = approval else { return }
        let first = try #require(try s.store.readStream("approval-\(id.lowercased())", payloads: .facts).first)
        guard case .requested(_, _, let chain, _, _, let kind, _)? = try ApprovalEvent.decode(type: first.record.eventType,
                                                                                         facts: first.facts ?? [])?.event
        else {
            Issue.record("no request")
            return
        }
        #expect(chain == ["a-2", "a-1"] && kind == .outgoingDocument)
        let signatures = try s.store.readStream("approval-\(id.lowercased())", payloads: .facts)
            .filter { $0.record.eventType == "DocumentDigitallySigned.v1" }
            .compactMap { try ApprovalEvent.decode(type: $0.record.eventType, facts: $0.facts ?? [])?.event }
        let certificate = Approval.Certificate(serial: "5402F2", issuer: "VNPT-CA",
                                               validFrom: Instant.parse("2019-06-01T00:00:00+07:00")!,
                                               validTo: Instant.parse("2022-06-01T00:00:00+07:00")!)
        #expect(signatures == [
            .signed(signer: "a-1", capacity: nil, signedSha256: sha, at: Instant.parse("2020-04-03T11:30:00+07:00")!,
                    certificate: certificate),
            .sealed(by: "a-7", signedSha256: sha, certificate: certificate, at: Instant.parse("2020-04-03T11:40:00+07:00")!),
        ])
    }
}
