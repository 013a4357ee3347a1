public import Foundation

/// A command's body, read field by field: a missing or mistyped field is a ``LedgerError/Code/badField`` error that
/// names it (HTTP 400).
public struct CommandBody: Sendable, Hashable {
    /// The fields.
    public var fields: [String: JSONValue]
    /// The path of this body in the request, for error messages (`body`, `body.entries[2]`).
    public var path: String

    /// A body.
    public init(_ fields: [String: JSONValue], path: String = "body") {
        self.fields = fields
        self.path = path
    }

    private func bad(_ key: String, _ expected: String) -> LedgerError {
        let got = fields[key].map { "got \($0.kind)" } ?? "it is missing"
        return LedgerError(.badField, "\(path).\(key) must be \(expected); \(got)", field: "\(path).\(key)")
    }

    /// A non-empty string.
    public func string(_ key: String) throws(LedgerError) -> String {
        guard case .string(let s)? = fields[key], !s.isEmpty else { throw bad(key, "a non-empty string") }
        return s
    }

    /// A string, or `nil` when absent or null.
    public func optionalString(_ key: String) throws(LedgerError) -> String? {
        switch fields[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw bad(key, "a string")
        }
    }

    /// An integer.
    public func int(_ key: String) throws(LedgerError) -> Int64 {
        guard case .number(let n)? = fields[key], n.rounded() == n, abs(n) < 9e15 else { throw bad(key, "an integer") }
        return Int64(n)
    }

    /// A boolean (`false` when absent).
    public func bool(_ key: String) throws(LedgerError) -> Bool {
        switch fields[key] {
        case nil, .null?: return false
        case .bool(let b)?: return b
        default: throw bad(key, "true or false")
        }
    }

    /// A UUID.
    public func uuid(_ key: String) throws(LedgerError) -> UUID {
        guard case .string(let s)? = fields[key], let id = UUID(uuidString: s) else { throw bad(key, "a UUID") }
        return id
    }

    /// A date `YYYY-MM-DD`.
    public func date(_ key: String) throws(LedgerError) -> CivilDate {
        guard case .string(let s)? = fields[key], let d = CivilDate(s) else { throw bad(key, "a date YYYY-MM-DD") }
        return d
    }

    /// An instant (RFC 3339 with seconds and a zone).
    public func instant(_ key: String) throws(LedgerError) -> Int64 {
        guard case .string(let s)? = fields[key], let t = Instant.parse(s) else {
            throw bad(key, "an RFC 3339 instant such as 2020-04-01T10:00:00+07:00")
        }
        return t
    }

    /// An array of strings (empty when absent).
    public func strings(_ key: String) throws(LedgerError) -> [String] {
        switch fields[key] {
        case nil, .null?: return []
        case .array(let items)?:
            var out = [String]()
            for item in items {
                guard case .string(let s) = item else { throw bad(key, "an array of strings") }
                out.append(s)
            }
            return out
        default: throw bad(key, "an array of strings")
        }
    }

    /// An object, or `nil` when absent.
    public func object(_ key: String) throws(LedgerError) -> CommandBody? {
        switch fields[key] {
        case nil, .null?: return nil
        case .object(let o)?: return CommandBody(o, path: "\(path).\(key)")
        default: throw bad(key, "an object")
        }
    }

    /// An array of objects (empty when absent).
    public func objects(_ key: String) throws(LedgerError) -> [CommandBody] {
        switch fields[key] {
        case nil, .null?: return []
        case .array(let items)?:
            var out = [CommandBody]()
            for (i, item) in items.enumerated() {
                guard case .object(let o) = item else { throw bad(key, "an array of objects") }
                out.append(CommandBody(o, path: "\(path).\(key)[\(i)]"))
            }
            return out
        default: throw bad(key, "an array of objects")
        }
    }

    /// A value of a string enumeration.
    public func choice<T: RawRepresentable>(_ key: String, _ type: T.Type) throws(LedgerError) -> T
    where T.RawValue == String {
        let s = try string(key)
        guard let v = T(rawValue: s) else { throw bad(key, "one of the documented values (got \"\(s)\")") }
        return v
    }

    /// A value of a string enumeration, or `nil` when absent; a wrong value is refused naming every allowed one.
    public func optionalChoice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws(LedgerError)
        -> T? where T.RawValue == String
    {
        guard let s = try optionalString(key) else { return nil }
        guard let v = T(rawValue: s) else {
            throw LedgerError(.badField, "\(path).\(key) must be one of "
                + T.allCases.map(\.rawValue).joined(separator: ", ") + " (got \"\(s)\")", field: "\(path).\(key)")
        }
        return v
    }
}
