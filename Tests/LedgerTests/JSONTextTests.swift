import Foundation
import Ledger
import Testing

@Suite("JSON text of values")
struct JSONTextTests {
    static let sample: JSONValue = .object([
        "name": "Nguyễn Văn An", "path": "a/b", "quote": "say \"hi\"\\n", "control": .string("tab\there\u{01}\n"),
        "numbers": .array([0, 42, -7, .number(0.5), .number(-1.25), .number(1_700_000_000)]),
        "flags": .array([true, false, .null]), "nested": .object(["z": .array([]), "a": .object([:])]),
    ])

    @Test("the same text as JSONEncoder with sorted keys and unescaped slashes, and it reads back equal")
    func sameAsEncoder() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = Self.sample.jsonText
        #expect(String(decoding: text, as: UTF8.self) == String(decoding: try encoder.encode(Self.sample), as: UTF8.self))
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(text)) == Self.sample)
    }

    @Test("numbers that are not finite print as null; large ones still read back")
    func numbers() throws {
        #expect(String(decoding: JSONValue.array([.number(.nan), .number(.infinity)]).jsonText, as: UTF8.self)
            == "[null,null]")
        let big = JSONValue.number(1e20)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(big.jsonText)) == big)
    }
}
