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

    @Test("with slashes escaped, the same text as JSONEncoder with sorted keys alone (raw appends' stored facts)")
    func sameAsEncoderEscapingSlashes() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: Self.sample.jsonText(escapingSlashes: true), as: UTF8.self)
        #expect(text == String(decoding: try encoder.encode(Self.sample), as: UTF8.self))
        #expect(text.contains(#""a\/b""#))
    }

    @Test("numbers that are not finite print as null; large ones still read back")
    func numbers() throws {
        #expect(String(decoding: JSONValue.array([.number(.nan), .number(.infinity)]).jsonText, as: UTF8.self)
            == "[null,null]")
        let big = JSONValue.number(1e20)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(big.jsonText)) == big)
    }
}

@Suite("Parsing JSON text")
struct JSONParsingTests {
    /// Valid documents, each read the same as Foundation's decoder reads them.
    static let valid: [String] = [
        #"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
        #"  [ 0 , -0.5 , 1e3 , 2.5E-2 , -12345678901234 ]  "#,
        #""tab\tnew\nline \"quoted\" back\\slash \/ \b\f\r \u00e9 \u0041""#,
        #"{"emoji":"\ud83d\ude00 😀","vn":"Nguyễn Văn An"}"#,
        #"[]"#, #"{}"#, #"[[[[[]]]]]"#, #"true"#, #"null"#, #"-0"#, #"123"#,
        #"{"nested":{"deeper":{"list":[{"k":"v"},{"k":"w"}]}}}"#,
    ]

    @Test("valid documents read as Foundation's decoder reads them", arguments: valid)
    func sameAsFoundation(_ text: String) throws {
        let ours = try JSONValue(parsing: Array(text.utf8))
        let theirs = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(ours == theirs)
        // And the text we write reads back the same.
        #expect(try JSONValue(parsing: ours.jsonText) == ours)
    }

    /// Invalid documents, with a word of what the error says.
    static let invalid: [(String, String)] = [
        ("", "unexpected end"), ("{", "object key"), (#"{"a" 1}"#, "':'"), (#"{"a":1,}"#, "object key"),
        ("[1,]", "value was expected"), ("[1 2]", "',' or ']'"), ("01", "start with 0"), ("1.", "after '.'"),
        ("1e", "exponent"), ("+1", "unexpected character"), (".5", "unexpected character"), ("tru", "true"),
        (#""abc"#, "unterminated"), ("\"a\u{01}b\"", "control character"), (#""\x""#, "unknown escape"),
        (#""\ud83d""#, "high surrogate"), (#""\ude00""#, "low surrogate"), (#""\u12""#, "four hexadecimal"),
        (#"{"a":1,"a":2}"#, "appears twice"), ("[1] 2", "after the JSON value"), ("1e999", "out of range"),
        ("NaN", "unexpected character"),
    ]

    @Test("invalid documents are refused, saying what and where")
    func refused() {
        for (text, says) in Self.invalid {
            do {
                let value = try JSONValue(parsing: Array(text.utf8))
                Issue.record("\(text) parsed as \(value)")
            } catch {
                #expect(error.message.contains(says), "\(text): \(error)")
                #expect(error.offset <= text.utf8.count)
            }
        }
        let badUTF8: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: badUTF8) }
        let deep = Array(repeating: UInt8(ascii: "["), count: JSONValue.maximumDepth + 1)
            + Array(repeating: UInt8(ascii: "]"), count: JSONValue.maximumDepth + 1)
        let tooDeep = #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: deep) }
        #expect(tooDeep?.message.contains("nesting") == true)
    }
}
