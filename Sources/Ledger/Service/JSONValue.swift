import Foundation

/// A JSON value: what command bodies are decoded into before their fields are read by name (so an error can name
/// the field), and what API renderings are built from.
public enum JSONValue: Hashable, Sendable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Decodes from JSON.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// Encodes as JSON.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n):
            if n.rounded() == n, abs(n) < 9e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// A short name of the value's kind, for error messages.
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    /// A string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// A number.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// A boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue {
    /// A facts payload as a JSON value, with the same renderings as ``Facts/json(_:)`` (instants RFC 3339 UTC, UUIDs
    /// lowercase, bytes base64), without going through JSON text.
    public init(facts bytes: [UInt8]) throws(Facts.DecodingError) {
        self = .init(Facts.Value.map(try Facts.decode(bytes) { r throws(Facts.DecodingError) in try r.entries() }))
    }

    init(_ value: Facts.Value) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .number(Double(i))
        case .string(let s): self = .string(s)
        case .bytes(let b): self = .string(Facts.base64(b))
        case .uuid(let u): self = .string(u.uuidString.lowercased())
        case .instant(let t): self = .string(Facts.rfc3339(t))
        case .array(let items): self = .array(items.map(JSONValue.init))
        case .map(let entries): self = .object(Dictionary(entries.map { ($0.0, JSONValue($0.1)) }, uniquingKeysWith: { a, _ in a }))
        }
    }
}
