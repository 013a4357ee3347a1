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
    /// One catch-up at a time; other callers wait suspended, holding no thread (the first catch-up over a large
    /// store reads every submission, and a `Mutex` held meanwhile would block the threads of the cooperative pool).
    private let catchingUp = KeyedLock()

    /// The subject of the citizen with `idNumber` (`nil` for a citizen not met yet, or whose subject was erased),
    /// and whether `given` belongs to another citizen, after folding what the store holds beyond what was read.
    func lookup(_ idNumber: String, given: UUID?, in store: Store) async throws
        -> (subject: UUID?, givenIsAnothers: Bool)
    {
        try await catchingUp.withLock("catch-up") { try catchUp(store) }
        let key = Self.key(idNumber)
        return state.withLock { s in (s.subjects[key], given.flatMap { s.owners[$0] }.map { $0 != key } ?? false) }
    }

    /// Reads what the store gained since the last catch-up, a page at a time outside the state's lock, and folds each
    /// page in under it. Erasures first: a submission read after them is never mapped to a subject already erased.
    private func catchUp(_ store: Store) throws {
        var next = state.withLock { $0.nextErasure }
        while true {
            let page = try store.readType(Store.erasureType, from: next, limit: Self.page, payloads: .none)
            let erased = page.compactMap { event -> UUID? in
                guard event.record.leafType == .admin, event.record.stream == Store.erasureStream else { return nil }
                return event.record.metadata["subject"].flatMap(UUID.init(uuidString:))
            }
            next = page.last.map { $0.position + 1 } ?? next
            state.withLock { s in
                s.nextErasure = next
                guard !erased.isEmpty else { return }
                s.erased.formUnion(erased)
                s.subjects = s.subjects.filter { !s.erased.contains($0.value) }
                s.owners = s.owners.filter { !s.erased.contains($0.key) }
            }
            if page.count < Self.page { break }
        }
        next = state.withLock { $0.nextSubmission }
        while true {
            let page = try store.readType("DossierSubmitted.v1", from: next, limit: Self.page, payloads: .all)
            let met = page.compactMap { event -> (key: String, subject: UUID)? in
                guard event.record.stream.hasPrefix("dossier-"),
                      let subject = event.record.metadata["subject"].flatMap(UUID.init(uuidString:)),
                      let personal = event.personal,
                      // A part that does not decode names nobody: skipped, never blocking later submissions.
                      let id = try? Facts.decode(personal, { r throws(Facts.DecodingError) in
                          try r.optionalString("applicantID")
                      }) ?? nil
                else { return nil }
                return (Self.key(id), subject)
            }
            next = page.last.map { $0.position + 1 } ?? next
            state.withLock { s in
                s.nextSubmission = next
                for (key, subject) in met where !s.erased.contains(subject) {
                    s.subjects[key] = subject
                    s.owners[subject] = key
                }
            }
            if page.count < Self.page { break }
        }
    }

    /// Events read per page.
    private static let page = 1_000

    /// ID numbers as written, without spaces and in capitals (also the key of ``LedgerService``'s lock on a
    /// citizen's submissions).
    static func key(_ idNumber: String) -> String { idNumber.filter { !$0.isWhitespace }.uppercased() }
}
