import Foundation
import Ledger
import Testing

@Suite("Facts encoding")
struct FactsTests {
    static func sample() -> [UInt8] {
        var applicant = Facts.Writer()
        applicant.field("name", "Nguyễn Văn An")
        applicant.field("idNumber", "001090012345")
        var item = Facts.Writer()
        item.field("code", "LP01")
        item.field("amount", 50_000)
        var w = Facts.Writer()
        w.field("procedure", "1.001193")
        w.field("channel", 2)
        w.field("online", true)
        w.field("receivedAt", instant: 1_585_710_000)
        w.field("dossierID", UUID(uuidString: "0171A2B4-0000-7000-8000-000000000001")!)
        w.field("missing", ["Bản sao CCCD", "Tờ khai \"mẫu\" 01\n"])
        w.field("applicant", map: applicant)
        w.field("fees", maps: [item])
        w.field("delta", -42)
        w.null("note")
        w.field("scan", value: .bytes([0, 1, 2, 250]))
        return w.finish()
    }

    @Test("typed reads find every field without decoding the others")
    func typedReads() throws {
        let bytes = Self.sample()
        try bytes.withUnsafeBytes { buffer in
            let r = try Facts.Reader(buffer)
            #expect(try r.string("procedure") == "1.001193")
            #expect(r.string("procedure", equals: "1.001193") && !r.string("procedure", equals: "1.001194"))
            #expect(try r.int("channel") == 2)
            #expect(try r.bool("online") == true)
            #expect(try r.instant("receivedAt") == 1_585_710_000)
            #expect(try r.uuid("dossierID") == UUID(uuidString: "0171A2B4-0000-7000-8000-000000000001"))
            #expect(try r.int("delta") == -42)
            #expect(try r.optionalString("note") == nil && r.contains("note"))
            #expect(try r.optionalString("absent") == nil && !r.contains("absent"))
            #expect(try r.value("missing") == .array([.string("Bản sao CCCD"), .string("Tờ khai \"mẫu\" 01\n")]))
            #expect(try r.value("applicant") == .map([("name", .string("Nguyễn Văn An")), ("idNumber", .string("001090012345"))]))
            #expect(throws: Facts.DecodingError.self) { try r.int("procedure") }
            #expect(throws: Facts.DecodingError.self) { try r.string("absent") }
        }
    }

    @Test("the JSON rendering is deterministic and escapes what JSON needs")
    func json() throws {
        let rendered = try Facts.json(Self.sample())
        #expect(rendered == #"{"procedure":"1.001193","channel":2,"online":true,"receivedAt":"2020-04-01T03:00:00Z","#
            + #""dossierID":"0171a2b4-0000-7000-8000-000000000001","missing":["Bản sao CCCD","Tờ khai \"mẫu\" 01\n"],"#
            + #""applicant":{"name":"Nguyễn Văn An","idNumber":"001090012345"},"fees":[{"code":"LP01","amount":50000}],"#
            + #""delta":-42,"note":null,"scan":"AAEC+g=="}"#)
        let parsed = try JSONSerialization.jsonObject(with: Data(rendered.utf8)) as? [String: Any]
        #expect(parsed?["channel"] as? Int == 2)
    }

    @Test("every truncation and a wrong version are refused, never read out of bounds")
    func malformed() {
        let bytes = Self.sample()
        for length in 0..<bytes.count {
            let prefix = Array(bytes.prefix(length))
            #expect(throws: Facts.DecodingError.self, "prefix of \(length) bytes") {
                try prefix.withUnsafeBytes { _ = try Facts.Reader($0) }
            }
        }
        var wrongVersion = bytes
        wrongVersion[0] = 2
        #expect(throws: Facts.DecodingError.self) { try wrongVersion.withUnsafeBytes { _ = try Facts.Reader($0) } }
        var badTag = bytes
        badTag[1 + 1 + 1 + "procedure".utf8.count] = 77  // the first value's tag
        #expect(throws: Facts.DecodingError.self) { try badTag.withUnsafeBytes { _ = try Facts.Reader($0) } }
        #expect(throws: Facts.DecodingError.self) { try (bytes + [0]).withUnsafeBytes { _ = try Facts.Reader($0) } }
    }

    @Test("hostile lengths and deep nesting are refused, not trusted")
    func hostile() {
        let hugeLength: [UInt8] = [1, 1, 1, 0x6B, 4] + [UInt8](repeating: 0xFF, count: 9) + [0x01]
        #expect(throws: Facts.DecodingError.self) { try hugeLength.withUnsafeBytes { _ = try Facts.Reader($0) } }
        let hugeCount: [UInt8] = [1] + [UInt8](repeating: 0xFF, count: 9) + [0x01]
        #expect(throws: Facts.DecodingError.self) { try hugeCount.withUnsafeBytes { _ = try Facts.Reader($0) } }
        let deep: [UInt8] = [1, 1, 1, 0x6B] + Array(repeating: [6, 1], count: 10_000).flatMap { $0 } + [0]
        #expect(throws: Facts.DecodingError.self) { try deep.withUnsafeBytes { _ = try Facts.Reader($0) } }
    }

    @Test("zigzag integers survive their extremes")
    func extremes() throws {
        var w = Facts.Writer()
        for (i, v) in [Int64.min, -1, 0, 1, Int64.max].enumerated() { w.field("v\(i)", v) }
        let bytes = w.finish()
        try bytes.withUnsafeBytes { buffer in
            let r = try Facts.Reader(buffer)
            #expect(try r.int("v0") == .min && r.int("v1") == -1 && r.int("v2") == 0 && r.int("v4") == .max)
        }
    }
}
