import EventStore
import Foundation
import Testing

@Suite("Payload parts and compression")
struct PayloadTests {
    static func dossierFacts(_ i: Int) -> String {
        "{\"unit\":\"Sở Thông tin và Truyền thông\",\"procedure\":\"Cấp giấy phép xây dựng\",\"procedureCode\":"
            + "\"1.009972\",\"channel\":\"\(["online", "postal", "counter"][i % 3])\",\"seq\":\(i),"
            + "\"note\":\"Đã kiểm tra, đối chiếu thành phần hồ sơ\"}"
    }

    @Test("parts round-trip through dictionary training, and parts of every dictionary stay readable after reopen")
    func dictionaryLifecycle() async throws {
        var options = StoreOptions()
        options.dictionaryTrainingThreshold = 0
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.sub("log")
        let store = try Store.create(at: path, origin: "o", options: options)
        for chunk in 0..<4 {
            try await store.append(to: "d-\(chunk)", (0..<500).map { i in
                event("A.v1", Self.dossierFacts(chunk * 500 + i), personal: "Nguyễn Văn \(i)")
            })
        }
        #expect(store.currentDictionaryID == 0)
        let before = try store.payloadStorage()
        let id = try await store.trainDictionary(sampleCount: 2_000)
        #expect(id == 1)
        #expect(store.currentDictionaryID == 1)
        try await store.append(to: "d-9", (0..<2_000).map { i in event("A.v1", Self.dossierFacts(10_000 + i)) })
        let after = try store.payloadStorage()
        let bodyBefore = Double(before.storedBytes - before.saltBytes) / Double(before.parts)
        let bodyAfter = Double(after.storedBytes - after.saltBytes - (before.storedBytes - before.saltBytes))
            / Double(after.parts - before.parts)
        #expect(bodyAfter < bodyBefore * 0.6, "a dictionary should shrink parts: \(bodyBefore) → \(bodyAfter)")
        store.close()

        let reopened = try Store.open(at: path, options: options)
        defer { reopened.close() }
        #expect(reopened.currentDictionaryID == 1)
        let events = try reopened.read(limit: 10_000)
        #expect(events.count == 4_000)
        for (i, e) in events.prefix(2_000).enumerated() {
            #expect(e.factsText == Self.dossierFacts(i))
            #expect(e.personal == Array("Nguyễn Văn \(i % 500)".utf8))
        }
        #expect(events[2_000].factsText == Self.dossierFacts(10_000))
    }

    @Test("training starts by itself once enough parts exist")
    func automaticTraining() async throws {
        var options = StoreOptions()
        options.dictionaryTrainingThreshold = 1_000
        try await withStore(options: options) { store, _ in
            for chunk in 0..<3 {
                try await store.append(to: "d-\(chunk)", (0..<500).map { i in event("A.v1", Self.dossierFacts(i)) })
            }
            var waited = 0
            while store.currentDictionaryID == 0 && waited < 200 {
                try await Task.sleep(for: .milliseconds(50))
                waited += 1
            }
            #expect(store.currentDictionaryID == 1)
            try await store.append(to: "d-x", [event("A.v1", Self.dossierFacts(7))])
            #expect(try store.event(at: 1_500)?.factsText == Self.dossierFacts(7))
        }
    }

    @Test("incompressible and empty parts are stored as they are")
    func incompressible() async throws {
        try await withStore { store, _ in
            var random = [UInt8](repeating: 0, count: 300)
            for i in random.indices { random[i] = UInt8.random(in: 0...255) }
            try await store.append(to: "d-1", [EventData(type: "R.v1", facts: random), EventData(type: "E.v1", facts: [])])
            #expect(try store.event(at: 0)?.facts == random)
            #expect(try store.event(at: 1)?.facts == [])
            #expect(try store.event(at: 1)?.record.factsLength == 0)
        }
    }

    @Test("an empty personal part counts as none")
    func emptyPersonal() async throws {
        try await withStore { store, _ in
            try await store.append(to: "d-1", [EventData(type: "A.v1", facts: [1], personal: [])])
            let e = try #require(try store.event(at: 0))
            #expect(e.record.personalCommitment == nil)
            #expect(e.personal == nil)
        }
    }
}
