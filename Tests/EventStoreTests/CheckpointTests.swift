@testable import EventStore
import Foundation
import Testing

@Suite("Signed checkpoints")
struct CheckpointTests {
    static let peterText = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"

    @Test("the Go sumdb/note known answer, byte for byte")
    func goNoteKnownAnswer() throws {
        let signer = try NoteSigner(privateKeyText: "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
        #expect(signer.verifierKey == "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        let note = try SignedNote(text: Self.peterText, signer: signer)
        #expect(note.signatures.first?.line == "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")
        let verifier = try NoteVerifier(verifierKey: signer.verifierKey)
        #expect(note.valid(for: verifier).count == 1)
        var tampered = note
        tampered.text = Self.peterText.replacingOccurrences(of: "answer", with: "anwser")
        #expect(tampered.valid(for: verifier).isEmpty)
    }

    @Test("a real sum.golang.org checkpoint verifies; a key with a wrong id is refused")
    func realCheckpoint() throws {
        let note = try SignedCheckpoint(parsing: "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n"
            + "\u{2014} sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n")
        #expect(note.checkpoint.size == 6_476_701)
        let verifier = try NoteVerifier(verifierKey: "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
        #expect(note.note.valid(for: verifier).count == 1)
        #expect(throws: StoreError.self) {
            try NoteVerifier(verifierKey: "sum.golang.org+033de0af+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
        }
    }

    @Test("signing: the checkpoint names the store's root, is stored, and is not signed twice for one size")
    func signAndStore() async throws {
        try await withStore(origin: "ward.example/dossiers") { store, directory in
            let signer = try NoteSigner.generate(name: "ward.example/dossiers")
            let state = try SigningState(path: directory.sub("log.key.signed"))
            try await store.append(to: "d-1", (0..<10).map { _ in event() })
            let first = try await store.signCheckpoint(with: signer, state: state)
            #expect(first.checkpoint == Checkpoint(origin: "ward.example/dossiers", size: 10, root: try store.rootHash()))
            #expect(first.note.valid(for: signer.verifier).count == 1)
            let again = try await store.signCheckpoint(with: signer, state: state)
            #expect(again == first)
            try await store.append(to: "d-1", [event()])
            let second = try await store.signCheckpoint(with: signer, state: state)
            #expect(second.checkpoint.size == 11)
            #expect(try store.checkpoints().map(\.checkpoint.size) == [10, 11])
            #expect(try store.latestCheckpoint() == second)
            #expect(try SigningState(path: state.path).signed?.size == 11)
            let wrongName = try NoteSigner.generate(name: "other.example/log")
            await #expect(throws: StoreError.self) { try await store.signCheckpoint(with: wrongName, state: state) }
        }
    }

    @Test("an unreadable signing state refuses signing instead of counting as nothing signed")
    func unreadableState() async throws {
        try await withStore(origin: "ward.example/dossiers") { store, directory in
            try FileManager.default.createDirectory(atPath: directory.sub("k.signed"), withIntermediateDirectories: true)
            let error = #expect(throws: StoreError.self) { try SigningState(path: directory.sub("k.signed")) }
            #expect(error?.message.contains("signing stays refused") == true)
        }
    }

    @Test("at a bounded cadence: a checkpoint only when the log grew and the interval passed")
    func cadence() async throws {
        try await withStore(origin: "ward.example/dossiers") { store, directory in
            let signer = try NoteSigner.generate(name: "ward.example/dossiers")
            let state = try SigningState(path: directory.sub("k.signed"))
            try await store.append(to: "d-1", [event()])
            let first = try await store.signCheckpointIfDue(with: signer, state: state, minimumInterval: .seconds(60))
            #expect(first?.checkpoint.size == 1)
            try await store.append(to: "d-1", [event()])
            let tooSoon = try await store.signCheckpointIfDue(with: signer, state: state, minimumInterval: .seconds(60))
            #expect(tooSoon == nil)
            let due = try await store.signCheckpointIfDue(with: signer, state: state, minimumInterval: .zero)
            #expect(due?.checkpoint.size == 2)
            let unchanged = try await store.signCheckpointIfDue(with: signer, state: state, minimumInterval: .zero)
            #expect(unchanged == nil, "no new checkpoint while the log has not grown")
        }
    }

    @Test("witness cosignatures are verified against configured keys before they are stored")
    func cosignatures() async throws {
        try await withStore(origin: "ward.example/dossiers") { store, directory in
            let signer = try NoteSigner.generate(name: "ward.example/dossiers")
            try await store.append(to: "d-1", [event()])
            let signed = try await store.signCheckpoint(with: signer, state: try SigningState(path: directory.sub("k.signed")))
            let witnessSeed = [UInt8](repeating: 7, count: 32)
            let witness = try NoteSigner(name: "audit-office.example/w1", seed: witnessSeed)
            let witnessKey = try NoteVerifier(verifierKey: witness.cosignatureVerifierKey)
            var cosigned = signed.note
            try cosigned.cosign(name: witness.name, seed: witnessSeed, time: 1_700_000_000)
            #expect(cosigned.valid(for: witnessKey).count == 1)

            let stranger = try NoteVerifier(verifierKey: try NoteSigner.generate(name: "audit-office.example/w1")
                .cosignatureVerifierKey)
            await #expect(throws: StoreError.self) {
                try await store.addCosignatures(cosigned.formatted, witnesses: [stranger])
            }
            let stored = try await store.addCosignatures(cosigned.formatted, witnesses: [witnessKey])
            #expect(stored.note.signatures.count == 2)
            #expect(try store.latestCheckpoint()?.note.valid(for: witnessKey).count == 1)
            #expect(try store.latestCheckpoint()?.note.valid(for: signer.verifier).count == 1)
        }
    }

    @Test("after a restore from an older backup the store refuses to sign until a rollback is recorded")
    func rollbackRefusal() async throws {
        try await withStore(origin: "ward.example/dossiers") { store, directory in
            let signer = try NoteSigner.generate(name: "ward.example/dossiers")
            let state = try SigningState(path: directory.sub("log.key.signed"))
            try await store.append(to: "d-1", (0..<10).map { _ in event() })
            _ = try await store.signCheckpoint(with: signer, state: state)
            try store.backup(to: directory.sub("old"))
            try await store.append(to: "d-1", (0..<5).map { _ in event() })
            _ = try await store.signCheckpoint(with: signer, state: state)

            let restored = try Store.open(at: directory.sub("old"))
            defer { restored.close() }
            let refused = await #expect(throws: StoreError.self) {
                try await restored.signCheckpoint(with: signer, state: state)
            }
            #expect(refused?.code == .rollbackDetected)
            #expect(refused?.message.contains("older backup") == true)
            // Growing the restored log does not help: its root at 15 is not the signed one.
            try await restored.append(to: "d-2", (0..<6).map { _ in event() })
            let changed = await #expect(throws: StoreError.self) {
                try await restored.signCheckpoint(with: signer, state: state)
            }
            #expect(changed?.code == .rollbackDetected)
            #expect(changed?.message.contains("not the one signed") == true)

            try await restored.recordRollback(reason: "restored from the backup of 2020-04-03 after a disk failure",
                                              state: state)
            let resumed = try await restored.signCheckpoint(with: signer, state: state)
            #expect(resumed.checkpoint.size == 17)
            #expect(try SigningState(path: state.path).signed?.size == 17)
        }
    }
}
