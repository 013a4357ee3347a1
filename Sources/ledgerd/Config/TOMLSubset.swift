import Foundation

/// Reads and writes the small subset of TOML the config file uses: comments, `[table]` headers, and
/// `key = value` where a value is a basic string, an integer, a boolean or an array of basic strings (on one line
/// or several). Hand-written because the TOML package in the mirror (TOMLKit) depends on a package the mirror
/// lacks; the config needs nothing more.
enum TOMLSubset {
    /// A parsed value.
    enum Value: Equatable {
        case string(String)
        case integer(Int64)
        case boolean(Bool)
        case strings([String])
    }

    private struct Message: Error {
        let text: String
        init(_ text: String) { self.text = text }
    }

    /// A parse error naming the line.
    struct ParseError: Error, CustomStringConvertible {
        let line: Int
        let message: String
        var description: String { "line \(line): \(message)" }
    }

    /// Parses a document into `table.key → value` ("" is the root table).
    static func parse(_ text: String) throws -> [String: [String: Value]] {
        var tables: [String: [String: Value]] = ["": [:]]
        var current = ""
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)[...]
        var number = 0
        while let raw = lines.popFirst() {
            number += 1
            let line = stripComment(raw).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), !line.hasPrefix("[[") else {
                    throw ParseError(line: number, message: "a table header is [name]")
                }
                current = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                guard tables[current] == nil else { throw ParseError(line: number, message: "table [\(current)] twice") }
                tables[current] = [:]
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw ParseError(line: number, message: "expected key = value")
            }
            var key = line[..<equals].trimmingCharacters(in: .whitespaces)
            if key.hasPrefix("\"") && key.hasSuffix("\"") && key.count >= 2 { key = String(key.dropFirst().dropLast()) }
            guard !key.isEmpty else { throw ParseError(line: number, message: "a key is missing") }
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("[") {
                while !balanced(value) {
                    guard let more = lines.popFirst() else { throw ParseError(line: number, message: "unclosed array") }
                    number += 1
                    value += " " + stripComment(more).trimmingCharacters(in: .whitespaces)
                }
            }
            guard tables[current]![key] == nil else { throw ParseError(line: number, message: "key \(key) twice") }
            do { tables[current]![key] = try parseValue(value) } catch let message as Message {
                throw ParseError(line: number, message: message.text)
            }
        }
        return tables
    }

    private static func stripComment(_ line: String) -> String {
        var inString = false
        var escaped = false
        for (i, c) in zip(line.indices, line) {
            if escaped { escaped = false; continue }
            if c == "\\" && inString { escaped = true; continue }
            if c == "\"" { inString.toggle() }
            if c == "#" && !inString { return String(line[..<i]) }
        }
        return line
    }

    private static func balanced(_ value: String) -> Bool {
        var depth = 0
        var inString = false
        var escaped = false
        for c in value {
            if escaped { escaped = false; continue }
            if c == "\\" && inString { escaped = true; continue }
            if c == "\"" { inString.toggle() }
            if !inString && c == "[" { depth += 1 }
            if !inString && c == "]" { depth -= 1 }
        }
        return depth == 0
    }

    private static func parseValue(_ text: String) throws -> Value {
        if text.hasPrefix("\"") {
            var rest = Substring(text)
            let s = try parseString(&rest)
            guard rest.trimmingCharacters(in: .whitespaces).isEmpty else { throw Message("unexpected text after a string") }
            return .string(s)
        }
        if text.hasPrefix("[") {
            var rest = Substring(text.dropFirst().dropLast())
            var items = [String]()
            while true {
                rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "," }
                if rest.isEmpty { break }
                guard rest.first == "\"" else { throw Message("arrays hold strings here") }
                items.append(try parseString(&rest))
            }
            return .strings(items)
        }
        if text == "true" { return .boolean(true) }
        if text == "false" { return .boolean(false) }
        if let n = Int64(text.replacingOccurrences(of: "_", with: "")) { return .integer(n) }
        throw Message("unsupported value \(text.prefix(30))")
    }

    /// Parses a basic string at the start of `text` (after its opening quote's position) and consumes it.
    private static func parseString(_ text: inout Substring) throws -> String {
        text = text.dropFirst()
        var out = ""
        while let c = text.first {
            text = text.dropFirst()
            switch c {
            case "\"": return out
            case "\\":
                guard let e = text.first else { throw Message("unfinished escape") }
                text = text.dropFirst()
                switch e {
                case "\"": out.append("\"")
                case "\\": out.append("\\")
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "u":
                    let hex = text.prefix(4)
                    guard hex.count == 4, let v = UInt32(hex, radix: 16), let u = Unicode.Scalar(v) else {
                        throw Message("bad \\u escape")
                    }
                    out.unicodeScalars.append(u)
                    text = text.dropFirst(4)
                default: throw Message("unsupported escape \\\(e)")
                }
            default: out.append(c)
            }
        }
        throw Message("unclosed string")
    }

    /// A basic string literal for `value`.
    static func quote(_ value: String) -> String {
        var out = "\""
        for u in value.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7F { out += String(format: "\\u%04X", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

