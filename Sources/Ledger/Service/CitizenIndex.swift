import EventStore
import Foundation
import Synchronization

/// Which pseudonymous data subject each citizen has, so one citizen keeps one subject across dossiers (design.md,
/// *Who and whom*: a subject is minted the first time Ledger meets a citizen, and the link from the ID number to
/// the subject lives only in personal parts).
///
/// The index is folded from the submissions' personal parts (`DossierSubmitted.v1` on `dossier-` streams: the
/// applicant's ID number, and the record's `subject` metadata) and held in memory only, never written anywhere. An
/// erasure (the store's own `SubjectErased.v1` admin entries) removes its subject for good: a citizen met again
/// afterwards gets a new subject, unlinked from the erased records (and the store refuses personal data under an
/// erased subject, so a submission racing the erasure cannot bring it back).
///
/// Submissions of one citizen, and submissions giving one subject, are run one at a time (``KeyedLock``, by
/// ``key(_:)`` and by the subject), so two racing first submissions cannot mint two subjects, nor one given subject
/// be attached to two citizens.
final class CitizenIndex: Sendable {
    private struct State {
        /// The subject of each ID number.
        var subjects: [String: UUID] = [:]
        /// The ID number (key) each subject belongs to.
        var owners: [UUID: String] = [:]
        /// Subjects erased (ids only).
        var erased: Set<UUID> = []
        /// The next positions to read from: submissions, erasures.
        var nextSubmission: UInt64 = 0
        var nextErasure: UInt64 = 0
    }

    private let state = Mutex(State())

    /// The subject of the citizen with `idNumber` (`nil` for a citizen not met yet, or whose subject was erased),
    /// and whether `given` belongs to another citizen, after folding what the store holds beyond what was read.
    func lookup(_ idNumber: String, given: UUID?, in store: Store) throws -> (subject: UUID?, givenIsAnothers: Bool) {
        let key = Self.key(idNumber)
        // One catch-up at a time, under the lock: reads are short, and a second caller then finds it done.
        return try state.withLock { (s: inout State) throws -> (UUID?, Bool) in
            try Self.catchUp(&s, store)
            return (s.subjects[key], given.flatMap { s.owners[$0] }.map { $0 != key } ?? false)
        }
    }

    private static func catchUp(_ s: inout State, _ store: Store) throws {
        // Erasures first: a submission read below is then never mapped to a subject already erased.
        while true {
            let page = try store.readType(Store.erasureType, from: s.nextErasure, limit: 1_000, payloads: .none)
            for event in page {
                s.nextErasure = event.position + 1
                guard event.record.leafType == .admin, event.record.stream == Store.erasureStream,
                      let subject = event.record.metadata["subject"].flatMap(UUID.init(uuidString:)) else { continue }
                s.erased.insert(subject)
            }
            if page.count < 1_000 { break }
        }
        if !s.erased.isEmpty {
            s.subjects = s.subjects.filter { !s.erased.contains($0.value) }
            s.owners = s.owners.filter { !s.erased.contains($0.key) }
        }
        while true {
            let page = try store.readType("DossierSubmitted.v1", from: s.nextSubmission, limit: 1_000, payloads: .all)
            for event in page {
                s.nextSubmission = event.position + 1
                guard event.record.stream.hasPrefix("dossier-"),
                      let subject = event.record.metadata["subject"].flatMap(UUID.init(uuidString:)),
                      !s.erased.contains(subject), let personal = event.personal,
                      // A part that does not decode names nobody: skipped, never blocking later submissions.
                      let id = try? Facts.decode(personal, { r throws(Facts.DecodingError) in
                          try r.optionalString("applicantID")
                      }) ?? nil
                else { continue }
                s.subjects[Self.key(id)] = subject
                s.owners[subject] = Self.key(id)
            }
            if page.count < 1_000 { break }
        }
    }

    /// ID numbers as written, without spaces and in capitals (also the key of ``LedgerService``'s lock on a
    /// citizen's submissions).
    static func key(_ idNumber: String) -> String { idNumber.filter { !$0.isWhitespace }.uppercased() }
}
