internal import CLMDB
import Crypto
import Foundation

extension Writer {
    /// Encrypts a personal part under its subject's key, creating the key the first time the subject is met, and
    /// indexes the event under the subject (for erasure).
    func encryptForSubject(_ plain: [UInt8], _ subject: UUID, _ position: UInt64,
                           _ txn: borrowing LMDBTransaction) throws -> [UInt8] {
        let key = try withUnsafeBytes(of: subject.uuid) { id in
            if let stored = try txn.get(dbs.subjectKeys, id) { return SymmetricKey(data: stored) }
            var bytes = [UInt8](repeating: 0, count: 32)
            bytes.withUnsafeMutableBytes { fillRandom($0) }
            try bytes.withUnsafeBytes { try txn.put(dbs.subjectKeys, id, $0) }
            return SymmetricKey(data: bytes)
        }
        var at = position
        try withUnsafeBytes(of: subject.uuid) { id in
            try withUnsafeBytes(of: &at) { try txn.put(dbs.subjectEvents, id, $0, flags: MDB_APPENDDUP) }
        }
        do {
            return try StoredPart.encrypt(plain, subject: subject, key: key, position: position, personal: true)
        } catch {
            throw StoreError(.storage, "encrypting a personal part failed: \(error)")
        }
    }

    /// Destroys a subject's key and every personal part encrypted under it (in the erasure's transaction).
    func erase(_ subject: UUID, _ txn: borrowing LMDBTransaction) throws {
        var positions = [UInt64]()
        try withUnsafeBytes(of: subject.uuid) { id in
            try txn.withCursor(dbs.subjectEvents) { cursor in
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
            _ = try txn.delete(dbs.subjectEvents, id)
            _ = try txn.delete(dbs.subjectKeys, id)
        }
    }
}
