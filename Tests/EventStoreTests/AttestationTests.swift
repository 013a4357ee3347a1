@testable import EventStore
import Foundation
import Testing

@Suite("Projection attestations")
struct AttestationTests {
    @Test("an attestation is a leaf of type 3 on its own stream; only the store writes one; bad ones are refused")
    func attestations() async throws {
        try await withStore { store, _ in
            for i in 0..<5 { try await store.append(to: "dossier-\(i)", [event()]) }
            let digest = String(repeating: "ab", count: 32)
            let result = try await store.attest(Store.Attestation(projection: "dossiers", version: 2, position: 5,
                                                                  digest: digest), actor: "ops")
            let record = try #require(try store.event(at: result.positions[0])).record
            #expect(record.leafType == .attestation && record.stream == Store.attestationStream
                && record.eventType == Store.attestationType && record.actor == "ops")
            let recorded = try store.attestations()
            #expect(recorded.map(\.position) == [result.positions[0]]
                && recorded.map(\.attestation) == [Store.Attestation(projection: "dossiers", version: 2, position: 5,
                                                                     digest: digest)])
            let head = store.head
            for bad in [Store.Attestation(projection: "dossiers", version: 2, position: 99, digest: digest),
                        Store.Attestation(projection: "dossiers", version: 2, position: 1, digest: "xyz"),
                        Store.Attestation(projection: "", version: 2, position: 1, digest: digest)] {
                let error = await #expect(throws: StoreError.self) { try await store.attest(bad) }
                #expect(error?.code == .invalidArgument)
            }
            var forged = event()
            forged.leafType = .attestation
            await #expect(throws: StoreError.self) { try await store.append(to: "dossier-9", [forged]) }
            await #expect(throws: StoreError.self) { try await store.append(to: Store.attestationStream, [event()]) }
            #expect(store.head == head, "nothing appended by the refused ones")
            #expect(try store.check().events == store.head, "the store's own check reads the attestation like any record")
        }
    }
}
