public import Foundation
import EventStore

extension Facts {
    /// Reads a facts payload in place: the hot path of the read side. Fields are found by key without allocating;
    /// strings are materialised only when asked for.
    ///
    /// ```swift
    /// let reader = try Facts.Reader(bytes)
    /// let channel = try reader.int("channel")
    /// let procedure = try reader.string("procedure")
    /// ```
    ///
    /// Valid only while `bytes` is: it holds the buffer, not a copy.
    public struct Reader {
        let buffer: UnsafeRawBufferPointer
        /// Offset of the first map entry, and the map's entry count.
        let start: Int
        let count: Int

        /// Checks the version and the whole structure once (every length in bounds, UTF-8 in strings).
        public init(_ buffer: UnsafeRawBufferPointer) throws(Facts.DecodingError) {
            guard let first = buffer.first, first == Facts.version else {
                throw Facts.DecodingError(what: "version \(buffer.first.map(String.init) ?? "missing")", offset: 0)
            }
            var at = 1
            let n = try Facts.readVarint(buffer, &at)
            guard n <= UInt64(buffer.count) else { throw Facts.DecodingError(what: "entry count", offset: 1) }
            self.buffer = buffer
            self.start = at
            self.count = Int(n)
            var cursor = at
            for _ in 0..<count { try Facts.skipEntry(buffer, &cursor, depth: 0) }
            guard cursor == buffer.count else { throw Facts.DecodingError(what: "trailing bytes", offset: cursor) }
        }

        /// The offset of the value of `key`, or `nil`.
        func valueOffset(_ key: String) -> Int? {
            var at = start
            for _ in 0..<count {
                let k = Int(buffer[at])
                let keyBytes = UnsafeRawBufferPointer(rebasing: buffer[(at + 1)..<(at + 1 + k)])
                at += 1 + k
                if keyBytes.elementsEqual(key.utf8) { return at }
                try? Facts.skipValue(buffer, &at)
            }
            return nil
        }

        /// Whether the map has `key` (null counts as present).
        public func contains(_ key: String) -> Bool { valueOffset(key) != nil }

        /// A string field.
        public func string(_ key: String) throws(Facts.DecodingError) -> String {
            guard let s = try optionalString(key) else { throw missing(key) }
            return s
        }

        /// A string field, or `nil` when absent or null.
        public func optionalString(_ key: String) throws(Facts.DecodingError) -> String? {
            guard var at = valueOffset(key) else { return nil }
            let tag = buffer[at]
            if tag == Tag.null.rawValue { return nil }
            guard tag == Tag.string.rawValue else { throw wrongType(key, "a string", at) }
            at += 1
            let n = try Facts.readLength(buffer, &at)
            return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[at..<(at + n)]), as: UTF8.self)
        }

        /// A field holding one of an enumeration's raw strings, or `nil` when absent or null.
        public func optionalChoice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type)
            throws(Facts.DecodingError) -> T? where T.RawValue == String
        {
            guard let text = try optionalString(key) else { return nil }
            guard let value = T(rawValue: text) else {
                throw Facts.DecodingError(what: "\(key) \"\(text.prefix(40))\", not one of "
                    + T.allCases.map(\.rawValue).joined(separator: ", "), offset: valueOffset(key) ?? 0)
            }
            return value
        }

        /// Whether a string field equals `value`, without materialising it.
        public func string(_ key: String, equals value: String) -> Bool {
            guard var at = valueOffset(key), buffer[at] == Tag.string.rawValue else { return false }
            at += 1
            guard let n = try? Facts.readLength(buffer, &at) else { return false }
            return UnsafeRawBufferPointer(rebasing: buffer[at..<(at + n)]).elementsEqual(value.utf8)
        }

        /// An integer field.
        public func int(_ key: String) throws(Facts.DecodingError) -> Int64 {
            guard let v = try optionalInt(key) else { throw missing(key) }
            return v
        }

        /// An integer field, or `nil` when absent or null.
        public func optionalInt(_ key: String) throws(Facts.DecodingError) -> Int64? {
            guard var at = valueOffset(key) else { return nil }
            let tag = buffer[at]
            if tag == Tag.null.rawValue { return nil }
            guard tag == Tag.int.rawValue || tag == Tag.instant.rawValue else { throw wrongType(key, "an integer", at) }
            at += 1
            return Facts.unzigzag(try Facts.readVarint(buffer, &at))
        }

        /// An instant field (seconds since the epoch).
        public func instant(_ key: String) throws(Facts.DecodingError) -> Int64 {
            guard let at = valueOffset(key), buffer[at] == Tag.instant.rawValue else {
                throw valueOffset(key) == nil ? missing(key) : wrongType(key, "an instant", valueOffset(key)!)
            }
            var cursor = at + 1
            return Facts.unzigzag(try Facts.readVarint(buffer, &cursor))
        }

        /// A boolean field; `nil` when absent.
        public func bool(_ key: String) throws(Facts.DecodingError) -> Bool? {
            guard let at = valueOffset(key) else { return nil }
            switch buffer[at] {
            case Tag.trueValue.rawValue: return true
            case Tag.falseValue.rawValue: return false
            case Tag.null.rawValue: return nil
            default: throw wrongType(key, "a boolean", at)
            }
        }

        /// A UUID field.
        public func uuid(_ key: String) throws(Facts.DecodingError) -> UUID {
            guard let at = valueOffset(key) else { throw missing(key) }
            guard buffer[at] == Tag.uuid.rawValue else { throw wrongType(key, "a UUID", at) }
            var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &raw) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[(at + 1)..<(at + 17)])) }
            return UUID(uuid: raw)
        }

        /// The whole value of a field (allocates; for rare fields and tools).
        public func value(_ key: String) throws(Facts.DecodingError) -> Value? {
            guard var at = valueOffset(key) else { return nil }
            return try Facts.readValue(buffer, &at)
        }

        /// Every field, in order (allocates).
        public func entries() throws(Facts.DecodingError) -> [(String, Value)] {
            var at = start
            var out = [(String, Value)]()
            for _ in 0..<count {
                let k = Int(buffer[at])
                let key = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[(at + 1)..<(at + 1 + k)]), as: UTF8.self)
                at += 1 + k
                out.append((key, try Facts.readValue(buffer, &at)))
            }
            return out
        }

        private func missing(_ key: String) -> Facts.DecodingError { .init(what: "field \(key) is missing", offset: start) }
        private func wrongType(_ key: String, _ expected: String, _ at: Int) -> Facts.DecodingError {
            .init(what: "field \(key) is not \(expected)", offset: at)
        }
    }

    // MARK: - Structure

    static func readVarint(_ b: UnsafeRawBufferPointer, _ at: inout Int) throws(DecodingError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard at < b.count, shift < 64 else { throw DecodingError(what: "varint", offset: at) }
            let byte = b[at]
            at += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    /// The deepest nesting of arrays and maps accepted (deeper input is refused, not recursed into).
    static let maximumDepth = 32

    /// A length read from the input, checked against the bytes left before it becomes an `Int`.
    static func readLength(_ b: UnsafeRawBufferPointer, _ at: inout Int) throws(DecodingError) -> Int {
        let start = at
        let n = try readVarint(b, &at)
        guard n <= UInt64(b.count - at) else { throw DecodingError(what: "length", offset: start) }
        return Int(n)
    }

    static func skipEntry(_ b: UnsafeRawBufferPointer, _ at: inout Int, depth: Int) throws(DecodingError) {
        guard at < b.count else { throw DecodingError(what: "key", offset: at) }
        let k = Int(b[at])
        guard k > 0, at + 1 + k <= b.count else { throw DecodingError(what: "key length", offset: at) }
        at += 1 + k
        try skipValue(b, &at, depth: depth)
    }

    static func skipValue(_ b: UnsafeRawBufferPointer, _ at: inout Int, depth: Int = 0) throws(DecodingError) {
        guard at < b.count, let tag = Tag(rawValue: b[at]) else { throw DecodingError(what: "value tag", offset: at) }
        guard depth <= maximumDepth else { throw DecodingError(what: "nesting deeper than \(maximumDepth)", offset: at) }
        at += 1
        switch tag {
        case .null, .falseValue, .trueValue: return
        case .int, .instant: _ = try readVarint(b, &at)
        case .string, .bytes:
            let start = at
            let n = try readLength(b, &at)
            guard at + n <= b.count else { throw DecodingError(what: "length", offset: start) }
            if tag == .string,
               !UTF8Text.isValid(UnsafeRawBufferPointer(rebasing: b[at..<(at + n)])) {
                throw DecodingError(what: "UTF-8", offset: at)
            }
            at += n
        case .array:
            let n = try readLength(b, &at)
            for _ in 0..<n { try skipValue(b, &at, depth: depth + 1) }
        case .map:
            let n = try readLength(b, &at)
            for _ in 0..<n { try skipEntry(b, &at, depth: depth + 1) }
        case .uuid:
            guard at + 16 <= b.count else { throw DecodingError(what: "uuid", offset: at) }
            at += 16
        }
    }

    static func readValue(_ b: UnsafeRawBufferPointer, _ at: inout Int) throws(DecodingError) -> Value {
        guard at < b.count, let tag = Tag(rawValue: b[at]) else { throw DecodingError(what: "value tag", offset: at) }
        at += 1
        switch tag {
        case .null: return .null
        case .falseValue: return .bool(false)
        case .trueValue: return .bool(true)
        case .int: return .int(unzigzag(try readVarint(b, &at)))
        case .instant: return .instant(unzigzag(try readVarint(b, &at)))
        case .string, .bytes:
            let n = try readLength(b, &at)
            let slice = UnsafeRawBufferPointer(rebasing: b[at..<(at + n)])
            at += n
            return tag == .string ? .string(String(decoding: slice, as: UTF8.self)) : .bytes(Array(slice))
        case .array:
            let n = try readLength(b, &at)
            var items = [Value]()
            for _ in 0..<n { items.append(try readValue(b, &at)) }
            return .array(items)
        case .map:
            let n = try readLength(b, &at)
            var entries = [(String, Value)]()
            for _ in 0..<n {
                let k = Int(b[at])
                let key = String(decoding: UnsafeRawBufferPointer(rebasing: b[(at + 1)..<(at + 1 + k)]), as: UTF8.self)
                at += 1 + k
                entries.append((key, try readValue(b, &at)))
            }
            return .map(entries)
        case .uuid:
            var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &raw) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: b[at..<(at + 16)])) }
            at += 16
            return .uuid(UUID(uuid: raw))
        }
    }
}
