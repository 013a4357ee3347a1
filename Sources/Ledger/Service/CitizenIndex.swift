import EventStore
import Foundation
import Synchronization

/// Which pseudonymous data subject each citizen has, so one citizen keeps one subject across dossiers (design.md,
/// *Who and whom*: a subject is minted the first time Ledger meets a citizen, and the link from the ID number to
/// the subject lives only in personal parts).
///
/// The index is folded from the submissions' personal parts (`DossierSubmitted.v1`: the applicant's ID number, and
/// the record's `subject` metadata) and held in memory only, never written anywhere. An erasure (`SubjectErased.v1`)
/// removes its subject, so a citizen met again after being erased gets a new subject, unlinked from the old records.
///
/// Two first submissions of one citizen racing each other may still mint two subjects; both are erased together
/// when the citizen asks (an erasure names each).
final class CitizenIndex: Sendable {
    private struct State {
        /// The subject of each ID number.
        var subjects: [String: UUID] = [:]
        /// The next positions to read from: submissions, erasures.
        var nextSubmission: UInt64 = 0
        var nextErasure: UInt64 = 0
    }

    private let state = Mutex(State())

    /// The subject of the citizen with `idNumber`, after folding what the store holds beyond what was read.
    func subject(of idNumber: String, in store: Store) throws -> UUID? {
        try catchUp(store)
        let key = Self.key(idNumber)
        return state.withLock { $0.subjects[key] }
    }

    /// Notes the subject a submission just used.
    func note(_ subject: UUID, for idNumber: String) {
        let key = Self.key(idNumber)
        state.withLock { $0.subjects[key] = subject }
    }

    private func catchUp(_ store: Store) throws {
        var (submissions, erasures) = state.withLock { ($0.nextSubmission, $0.nextErasure) }
        var found = [(String, UUID)]()
        var erased = Set<UUID>()
        while true {
            let page = try store.readType("DossierSubmitted.v1", from: submissions, limit: 1_000, payloads: .all)
            for event in page {
                submissions = event.position + 1
                guard let subject = event.record.metadata["subject"].flatMap(UUID.init(uuidString:)),
                      let personal = event.personal else { continue }
                let id = try Facts.decode(personal) { r throws(Facts.DecodingError) in try r.optionalString("applicantID") }
                if let id { found.append((Self.key(id), subject)) }
            }
            if page.count < 1_000 { break }
        }
        while true {
            let page = try store.readType(Store.erasureType, from: erasures, limit: 1_000, payloads: .none)
            for event in page {
                erasures = event.position + 1
                if let subject = event.record.metadata["subject"].flatMap(UUID.init(uuidString:)) { erased.insert(subject) }
            }
            if page.count < 1_000 { break }
        }
        state.withLock { s in
            guard submissions >= s.nextSubmission, erasures >= s.nextErasure else { return }
            for (key, subject) in found { s.subjects[key] = subject }
            if !erased.isEmpty { s.subjects = s.subjects.filter { !erased.contains($0.value) } }
            s.nextSubmission = submissions
            s.nextErasure = erasures
        }
    }

    /// ID numbers as written, without spaces.
    private static func key(_ idNumber: String) -> String { idNumber.filter { !$0.isWhitespace }.uppercased() }
}
