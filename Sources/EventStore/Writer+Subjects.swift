internal import CLMDB
import Crypto
import Foundation

extension Writer {
    /// Encrypts a personal part under its subject's key, creating the key the first time the subject is met, and
    /// indexes the event under the subject (for erasure; in the index's transaction `itxn`).
    func encryptForSubject(_ plain: [UInt8], _ subject: UUID, _ position: UInt64,
                           _ txn: borrowing LMDBTransaction, _ itxn: borrowing LMDBTransaction) throws -> [UInt8] {
        let (number, key) = try withUnsafeBytes(of: subject.uuid) { id -> (UInt32, SymmetricKey) in
            if let stored = try txn.get(dbs.subjectKeys, id), stored.count == SubjectKeyEntry.keyLength {
                return (UInt32(bigEndian: stored.loadUnaligned(as: UInt32.self)),
                        SymmetricKey(data: UnsafeRawBufferPointer(rebasing: stored[4...])))
            }
            // A new subject: a fresh key under the next key number (numbers are never reused).
            let metaKey = Array("next_key_number".utf8)
            let number = try metaKey.withUnsafeBytes { k in
                try txn.get(dbs.meta, k).map { UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) } ?? 1
            }
            try metaKey.withUnsafeBytes { k in
                try withUnsafeBytes(of: (number + 1).bigEndian) { try txn.put(dbs.meta, k, $0) }
            }
            var key = [UInt8](repeating: 0, count: 32)
            key.withUnsafeMutableBytes { fillRandom($0) }
            let value = withUnsafeBytes(of: number.bigEndian, Array.init) + key
            try value.withUnsafeBytes { try txn.put(dbs.subjectKeys, id, $0) }
            try key.withUnsafeBytes { try txn.put(dbs.keyNumbers, integer: UInt64(number), $0) }
            return (number, SymmetricKey(data: key))
        }
        try idbs.noteSubjectEvent(subject, position, itxn)
        do {
            return try StoredPart.encrypt(plain, keyNumber: number, key: key, position: position, personal: true)
        } catch {
            throw StoreError(.storage, "encrypting a personal part failed: \(error)")
        }
    }

    /// The first subject of `append`'s personal parts that was erased, if any: such an append is refused whole.
    func erasedSubject(in append: PreparedAppend, _ txn: borrowing LMDBTransaction) throws -> UUID? {
        for case let subject? in append.subjects where try dbs.subjectKeyEntry(subject, txn) == .erased {
            return subject
        }
        return nil
    }

    /// Destroys a subject's key and every personal part encrypted under it (in the erasure's transaction).
    func erase(_ subject: UUID, _ txn: borrowing LMDBTransaction, _ itxn: borrowing LMDBTransaction) throws {
        var positions = [UInt64]()
        try withUnsafeBytes(of: subject.uuid) { id in
            try itxn.withCursor(idbs.subjectEvents) { cursor in
                guard try cursor.get(.setKey, key: id) != nil else { return }
                var entry = try cursor.get(.firstDup)
                while let e = entry {
                    positions.append(e.value.nativeUInt64)
                    entry = try cursor.get(.nextDup)
                }
            }
        }
        for position in positions {
            var key = StoreDatabases.payloadKey(position, personal: true)
            try withUnsafeBytes(of: &key) { _ = try txn.delete(dbs.payloads, $0) }
        }
        try withUnsafeBytes(of: subject.uuid) { id in
            if let stored = try txn.get(dbs.subjectKeys, id), stored.count == SubjectKeyEntry.keyLength {
                var number = UInt64(UInt32(bigEndian: stored.loadUnaligned(as: UInt32.self)))
                try withUnsafeBytes(of: &number) { _ = try txn.delete(dbs.keyNumbers, $0) }
            }
            _ = try itxn.delete(idbs.subjectEvents, id)
            // A tombstone, not a deletion: personal data is never recorded under an erased subject again.
            try [SubjectKeyEntry.erasedMarker].withUnsafeBytes { try txn.put(dbs.subjectKeys, id, $0) }
        }
    }
}

/// What `subject_keys` holds for a data subject: nothing (never met), its key, or the tombstone of its erasure.
enum SubjectKeyEntry: Equatable {
    case none, key, erased

    /// A key entry: the key number (4 bytes) and the key (32).
    static let keyLength = 36
    /// The one byte that stands for an erased subject.
    static let erasedMarker: UInt8 = 0
}

extension StoreDatabases {
    /// What `subject_keys` holds for `subject`.
    func subjectKeyEntry(_ subject: UUID, _ txn: borrowing LMDBTransaction) throws -> SubjectKeyEntry {
        try withUnsafeBytes(of: subject.uuid) { id in
            guard let stored = try txn.get(subjectKeys, id) else { return .none }
            if stored.count == SubjectKeyEntry.keyLength { return .key }
            return stored.count == 1 && stored[0] == SubjectKeyEntry.erasedMarker ? .erased : .none
        }
    }
}
