import Foundation

extension JSONValue {
    /// Why a text is not JSON: what was expected and the byte offset where the text went wrong.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        /// What is wrong, e.g. "expected ':' after an object key".
        public var message: String
        /// Byte offset into the text.
        public var offset: Int

        /// A readable description.
        public var description: String { "\(message) at byte \(offset)" }
    }

    /// Nesting deeper than this is refused (a hostile body must not exhaust the stack).
    public static let maximumDepth = 512

    /// Parses JSON text (RFC 8259): one value, surrounded by whitespace only; strings are UTF-8 with their escapes
    /// (a lone surrogate is refused); a key appearing twice in an object is refused, as ambiguous.
    ///
    /// Written for request bodies and imported lines: Foundation's `JSONDecoder` into ``JSONValue`` through
    /// `Codable` was three quarters of the daemon's work on a raw append. Numbers become `Double`, as there.
    public init(parsing bytes: some Collection<UInt8>) throws(ParseError) {
        func parse(_ buffer: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, ParseError> {
            var parser = JSONParser(buffer)
            return Result { () throws(ParseError) in
                parser.skipWhitespace()
                let value = try parser.value(depth: 0)
                parser.skipWhitespace()
                guard parser.at == buffer.count else { throw parser.error("unexpected text after the JSON value") }
                return value
            }
        }
        // Contiguous bytes (an array, a request's buffer) are read in place; others are copied once.
        let result = bytes.withContiguousStorageIfAvailable(parse) ?? Array(bytes).withUnsafeBufferPointer(parse)
        self = try result.get()
    }
}

/// A recursive-descent JSON parser over a byte buffer.
private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var at = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func error(_ message: String) -> JSONValue.ParseError { JSONValue.ParseError(message: message, offset: at) }

    mutating func skipWhitespace() {
        while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 {
            at += 1
        }
    }

    mutating func value(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        guard depth < JSONValue.maximumDepth else { throw error("nesting deeper than \(JSONValue.maximumDepth) levels") }
        guard at < bytes.count else { throw error("unexpected end of the text, a value was expected") }
        switch bytes[at] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected character '\(Character(Unicode.Scalar(bytes[at])))', a value was expected")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONValue.ParseError) {
        let count = word.utf8CodeUnitCount
        guard at + count <= bytes.count,
              UnsafeBufferPointer(start: word.utf8Start, count: count).elementsEqual(bytes[at..<(at + count)])
        else { throw error("unexpected word, \(word) was expected") }
        at += count
    }

    private mutating func object(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        at += 1  // {
        var members = [String: JSONValue]()
        skipWhitespace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "}") {
            at += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw error("an object key (a string) was expected") }
            let keyAt = at
            let key = try string()
            skipWhitespace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw error("':' was expected after an object key") }
            at += 1
            skipWhitespace()
            let value = try value(depth: depth + 1)
            guard members.updateValue(value, forKey: key) == nil else {
                throw JSONValue.ParseError(message: "the key \"\(key.prefix(40))\" appears twice in one object", offset: keyAt)
            }
            skipWhitespace()
            guard at < bytes.count else { throw error("unexpected end of the text inside an object") }
            if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
            if bytes[at] == UInt8(ascii: "}") { at += 1; return .object(members) }
            throw error("',' or '}' was expected in an object")
        }
    }

    private mutating func array(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        at += 1  // [
        var elements = [JSONValue]()
        skipWhitespace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "]") {
            at += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            guard at < bytes.count else { throw error("unexpected end of the text inside an array") }
            if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
            if bytes[at] == UInt8(ascii: "]") { at += 1; return .array(elements) }
            throw error("',' or ']' was expected in an array")
        }
    }

    /// A string, the cursor on its opening quote.
    private mutating func string() throws(JSONValue.ParseError) -> String {
        at += 1  // "
        let start = at
        // Fast path: no escapes.
        while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\") {
            guard bytes[at] >= 0x20 else { throw error("a control character must be escaped in a string") }
            at += 1
        }
        guard at < bytes.count else { throw error("unterminated string") }
        if bytes[at] == UInt8(ascii: "\"") {
            defer { at += 1 }
            return try decoded(UnsafeBufferPointer(rebasing: bytes[start..<at]), from: start)
        }
        var out = Array(bytes[start..<at])
        while true {
            guard at < bytes.count else { throw error("unterminated string") }
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                at += 1
                return try out.withUnsafeBufferPointer { (b) throws(JSONValue.ParseError) in try decoded(b, from: start) }
            }
            if byte < 0x20 { throw error("a control character must be escaped in a string") }
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                at += 1
                continue
            }
            at += 1
            guard at < bytes.count else { throw error("unterminated escape") }
            let escape = bytes[at]
            at += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                        throw error("a high surrogate must be followed by a low one")
                    }
                    at += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("a high surrogate must be followed by a low one") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw error("a low surrogate without a high one")
                }
                UTF8.encode(Unicode.Scalar(scalar)!) { out.append($0) }
            default:
                at -= 1
                throw error("unknown escape '\\\(Character(Unicode.Scalar(escape)))'")
            }
        }
    }

    private mutating func hex4() throws(JSONValue.ParseError) -> UInt32 {
        guard at + 4 <= bytes.count else { throw error("\\u needs four hexadecimal digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[at]
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw error("\\u needs four hexadecimal digits")
            }
            value = value << 4 | digit
            at += 1
        }
        return value
    }

    private func decoded(_ utf8: UnsafeBufferPointer<UInt8>, from start: Int) throws(JSONValue.ParseError) -> String {
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw JSONValue.ParseError(message: "a string is not valid UTF-8", offset: start)
        }
        return text
    }

    /// A number by RFC 8259's grammar (no leading zeros, no leading '+', digits after '.' and 'e').
    private mutating func number() throws(JSONValue.ParseError) -> Double {
        let start = at
        func digits() -> Int {
            let from = at
            while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") { at += 1 }
            return at - from
        }
        if bytes[at] == UInt8(ascii: "-") { at += 1 }
        guard at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") else {
            throw error("a digit was expected in a number")
        }
        if bytes[at] == UInt8(ascii: "0") {
            at += 1
            if at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") {
                throw error("a number does not start with 0 followed by digits")
            }
        } else {
            _ = digits()
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            at += 1
            guard digits() > 0 else { throw error("digits were expected after '.'") }
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            at += 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard digits() > 0 else { throw error("digits were expected in an exponent") }
        }
        guard let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)),
              value.isFinite
        else { throw JSONValue.ParseError(message: "a number out of range", offset: start) }
        return value
    }
}
