@testable import EventStore
import Foundation
import Testing

@Suite("Erasure by data subject", .serialized)
struct ErasureTests {
    static func personalEvent(_ subject: UUID, _ name: String, _ i: Int) -> EventData {
        var metadata = Metadata()
        metadata["subject"] = subject.uuidString.lowercased()
        return EventData(type: "DossierReceived.v1", facts: Array("{\"i\":\(i)}".utf8),
                         personal: Array("{\"applicant\":\"\(name)\",\"idNumber\":\"0010900\(i)\"}".utf8),
                         actor: "staff-1", metadata: metadata)
    }

    @Test("erasure destroys the key and the parts; verify, check and both bundle verifiers pass; compaction removes the bytes")
    func eraseAndCompact() async throws {
        let directory = TemporaryDirectory("erasure")
        defer { directory.remove() }
        let path = directory.sub("log")
        var options = StoreOptions()
        options.dictionaryTrainingThreshold = 0
        let store = try Store.create(at: path, origin: "ward.example/dossiers", options: options)
        let a = UUID(), b = UUID()
        for i in 0..<20 {
            try await store.append(to: "dossier-\(i % 4)", [Self.personalEvent(i % 2 == 0 ? a : b,
                                                                               i % 2 == 0 ? "Nguyễn Văn An" : "Trần Thị Bình", i)])
            try await store.append(to: "dossier-\(i % 4)", [event("Note.v1", "{\"n\":\(i)}")])
        }
        // What an attacker would look for in the files afterwards: a's ciphertexts and key.
        let (aParts, aKey) = try store.readTransaction { txn -> ([[UInt8]], [UInt8]) in
            var parts = [[UInt8]]()
            for position in stride(from: UInt64(0), to: 40, by: 4) {
                let stored = try txn.get(store.dbs.payloads, integer: StoreDatabases.payloadKey(position, personal: true))!
                parts.append(Array(stored.suffix(24)))  // a stretch of ciphertext
            }
            // The key itself (the last 32 bytes of the subject entry; the key-number entry holds the same bytes).
            let key = try withUnsafeBytes(of: a.uuid) { Array(try txn.get(store.dbs.subjectKeys, $0)!.suffix(32)) }
            return (parts, key)
        }
        #expect(try store.event(at: 0)?.personal.map { String(decoding: $0, as: UTF8.self) }?.contains("Nguyễn") == true)

        let erasure = try await store.eraseSubject(a, reason: "request under Decree 13/2023, art. 16", actor: "admin-1")
        #expect(try store.event(at: 0)?.personal == nil, "a's personal part must be gone")
        #expect(try store.event(at: 0)?.facts == Array("{\"i\":0}".utf8), "facts are never erased")
        #expect(try store.event(at: 2)?.personal != nil, "b's parts stay")
        let erasureEvent = try #require(try store.event(at: erasure.positions[0]))
        #expect(erasureEvent.record.leafType == .admin)
        #expect(erasureEvent.record.eventType == Store.erasureType)
        let again = await #expect(throws: StoreError.self) { try await store.eraseSubject(a, reason: "again") }
        #expect(again?.code == .invalidArgument)
        // A retry of an append made before the erasure is still answered with its original positions.
        let first = try #require(try store.event(at: 0))
        var retried = Self.personalEvent(a, "Nguyễn Văn An", 0)
        retried.id = first.record.eventID
        let answer = try await store.append(to: "dossier-0", [retried])
        #expect(answer.wasRetry && answer.positions == [0])
        // Personal data is never recorded under an erased subject again; facts under it, and other subjects, are.
        let head = store.head
        let revived = await #expect(throws: StoreError.self) {
            try await store.append(to: "dossier-9", [Self.personalEvent(a, "Nguyễn Văn An", 99)])
        }
        #expect(revived?.code == .invalidArgument && revived?.message.contains("was erased") == true && store.head == head)
        var factsOnly = Metadata()
        factsOnly["subject"] = a.uuidString.lowercased()
        try await store.append(to: "dossier-9", [EventData(type: "Note.v1", facts: Array("{}".utf8), metadata: factsOnly)])
        try await store.append(to: "dossier-9", [Self.personalEvent(b, "Trần Thị Bình", 98)])
        #expect(try store.event(at: head + 1)?.personal != nil)
        #expect(try store.isErased(a) && !store.isErased(b))

        let signer = try NoteSigner.generate(name: "ward.example/dossiers")
        _ = try await store.signCheckpoint(with: signer, state: try SigningState(path: directory.sub("k.signed")))
        let report = try store.verify(verifier: signer.verifier)
        #expect(report.erasedParts == 10)  // (the later append under b is not erased)
        #expect(try store.check().events == store.head)
        let bundle = directory.sub("bundle")
        let exported = try AuditBundle.export(from: store, into: bundle, verifierKey: signer.verifierKey)
        let bundleReport = try AuditBundle.verify(directory: bundle, verifier: signer.verifier)
        #expect(bundleReport.missingParts.count == 10)
        let (status, output) = try await AuditBundleTests.python(bundle, vkey: signer.verifierKey)
        #expect(status == 0, "\(output)")
        #expect(output.contains("10 absent (erased) parts"))
        #expect(exported.toSize == store.head)
        store.close()

        try Store.compact(at: path)
        // Every file of the store, the index's included.
        let files = try #require(FileManager.default.subpaths(atPath: path)).filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path + "/" + $0, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        #expect(files.contains("index/data.mdb"))
        for file in files {
            let data = try allocatedBytes(of: path + "/" + file)
            for part in aParts { #expect(data.firstRange(of: Data(part)) == nil, "ciphertext of an erased part in \(file)") }
            #expect(data.firstRange(of: Data(aKey)) == nil, "the erased subject's key in \(file)")
        }
        // A store erased before tombstones were kept gets them at open: remove a's, reopen, and a stays refused.
        let legacy = try Store.open(at: path)
        try legacy.env.write { txn in
            _ = try withUnsafeBytes(of: a.uuid) { try txn.delete(legacy.dbs.subjectKeys, $0) }
        }
        legacy.close()
        let reopened = try Store.open(at: path)
        defer { reopened.close() }
        #expect(try reopened.isErased(a))
        await #expect(throws: StoreError.self) {
            try await reopened.append(to: "dossier-9", [Self.personalEvent(a, "Nguyễn Văn An", 97)])
        }
        #expect(try reopened.verify(verifier: signer.verifier).erasedParts == 10)
        #expect(try reopened.event(at: 2)?.personal.map { String(decoding: $0, as: UTF8.self) }?.contains("Bình") == true)
    }

    @Test("a personal part missing without an erasure is an error")
    func missingWithoutErasure() async throws {
        try await withStore { store, _ in
            try await store.append(to: "dossier-1", [Self.personalEvent(UUID(), "Lê Văn C", 1)])
            try store.env.write { txn in
                var key = StoreDatabases.payloadKey(0, personal: true)
                _ = try withUnsafeBytes(of: &key) { try txn.delete(store.dbs.payloads, $0) }
            }
            let error = #expect(throws: StoreError.self) { try store.verify() }
            #expect(error?.message.contains("no erasure covers it") == true, "\(error?.message ?? "")")
            let check = #expect(throws: StoreError.self) { try store.check() }
            #expect(check?.message.contains("personal part is missing") == true)
        }
    }

    @Test("a subject that is not a UUID is refused")
    func badSubject() async throws {
        try await withStore { store, _ in
            var e = event("A.v1", "{}", personal: "x")
            e.metadata["subject"] = "001090012345"
            let error = await #expect(throws: StoreError.self) { try await store.append(to: "d-1", [e]) }
            #expect(error?.message.contains("pseudonymous") == true)
        }
    }
}
