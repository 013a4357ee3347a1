extension Facts {
    /// Reads `bytes` with a ``Reader``: the usual way to decode one event's facts.
    ///
    /// ```swift
    /// let unit = try Facts.decode(facts) { r throws(Facts.DecodingError) in try r.string("unit") }
    /// ```
    public static func decode<T>(_ bytes: [UInt8], _ body: (Reader) throws(DecodingError) -> T)
        throws(DecodingError) -> T
    {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(DecodingError) -> T in try body(try Reader(buffer)) }
        }
        return try result.get()
    }
}

extension Facts.Reader {
    /// An array of strings; empty when absent.
    public func strings(_ key: String) throws(Facts.DecodingError) -> [String] {
        guard let value = try value(key) else { return [] }
        guard case .array(let items) = value else { throw Facts.DecodingError(what: "\(key) is not an array", offset: 0) }
        var out = [String]()
        out.reserveCapacity(items.count)
        for item in items {
            guard case .string(let s) = item else { throw Facts.DecodingError(what: "\(key) holds a non-string", offset: 0) }
            out.append(s)
        }
        return out
    }

    /// An array of maps; empty when absent.
    public func maps(_ key: String) throws(Facts.DecodingError) -> [Facts.Map] {
        guard let value = try value(key) else { return [] }
        guard case .array(let items) = value else { throw Facts.DecodingError(what: "\(key) is not an array", offset: 0) }
        var out = [Facts.Map]()
        for item in items {
            guard case .map(let entries) = item else { throw Facts.DecodingError(what: "\(key) holds a non-map", offset: 0) }
            out.append(Facts.Map(entries: entries))
        }
        return out
    }
}

extension Facts {
    /// A decoded nested map (arrays of entries such as roster lines), read by key.
    public struct Map: Sendable {
        /// The entries in order.
        public var entries: [(String, Value)]

        /// A map of these entries.
        public init(entries: [(String, Value)]) { self.entries = entries }

        /// The value of `key`, or `nil`.
        public subscript(key: String) -> Value? { entries.first { $0.0 == key }?.1 }

        /// A string field.
        public func string(_ key: String) throws(Facts.DecodingError) -> String {
            guard case .string(let s)? = self[key] else { throw Facts.DecodingError(what: "\(key) (a string)", offset: 0) }
            return s
        }

        /// A string field, or `nil` when absent or null.
        public func optionalString(_ key: String) throws(Facts.DecodingError) -> String? {
            switch self[key] {
            case nil, .null?: return nil
            case .string(let s)?: return s
            default: throw Facts.DecodingError(what: "\(key) (a string)", offset: 0)
            }
        }

        /// An integer field.
        public func int(_ key: String) throws(Facts.DecodingError) -> Int64 {
            guard case .int(let v)? = self[key] else { throw Facts.DecodingError(what: "\(key) (an integer)", offset: 0) }
            return v
        }

        /// A boolean field (false when absent).
        public func bool(_ key: String) -> Bool {
            if case .bool(let v)? = self[key] { return v }
            return false
        }
    }
}
