import EventStore
import Foundation
import Ledger
import TestSupport
import Testing

@Suite("Approvals of a dossier's draft: free text under the applicant's subject")
struct ApprovalTextTests {
    @Test("a return's comments are kept in the personal part under the applicant's subject, and an erasure takes them")
    func commentsErased() async throws {
        let s = try await Scenario.make("approval-text")
        defer { s.remove() }
        let id = UUID()
        let approval = try await s.dossierAwaitingApproval(id)
        try await s.run("approval.return", "a-2", .unitHead, "2020-04-03T10:00:00+07:00", [
            "approval": .string(approval.uuidString), "comments": .array(["Ghi đúng địa chỉ của bà Trần Thị Bình"])])
        let stream = "approval-\(approval.uuidString.lowercased())"
        let returned = try #require(try s.store.readStream(stream, payloads: .all).last)
        let applicant = try #require(try s.store.readStream(DossierHandler.stream(id), payloads: .facts).first?
            .record.metadata["subject"])
        #expect(returned.record.eventType == "ApprovalReturnedForRevision.v1")
        #expect(returned.record.metadata["subject"] == applicant)
        #expect(!String(decoding: returned.facts ?? [], as: UTF8.self).contains("Bình"))
        guard case .returnedForRevision(_, _, let comments, _)? = try ApprovalEvent.decode(
            type: returned.record.eventType, facts: returned.facts ?? [], personal: returned.personal)?.event else {
            Issue.record("not a return")
            return
        }
        #expect(comments == ["Ghi đúng địa chỉ của bà Trần Thị Bình"])

        _ = try await s.store.eraseSubject(try #require(UUID(uuidString: applicant)), reason: "the applicant asked")
        let after = try #require(try s.store.readStream(stream, payloads: .all).last)
        #expect(after.personal == nil, "the comments went with the applicant's other personal data")
    }
}
