public import Foundation

extension Facts {
    /// Builds a facts payload field by field.
    ///
    /// ```swift
    /// var w = Facts.Writer()
    /// w.field("procedure", "1.001193")
    /// w.field("channel", 2)
    /// w.field("receivedAt", instant: 1_585_710_000)
    /// let bytes = w.finish()
    /// ```
    public struct Writer: Sendable {
        private var body: [UInt8] = []
        private var count = 0

        /// An empty map.
        public init() { body.reserveCapacity(128) }

        /// Adds a string field.
        public mutating func field(_ key: String, _ value: String) {
            appendKey(key)
            Facts.writeString(value, into: &body)
        }

        /// Adds an integer field.
        public mutating func field(_ key: String, _ value: Int64) {
            appendKey(key)
            body.append(Tag.int.rawValue)
            Facts.writeVarint(zigzag(value), into: &body)
        }

        /// Adds an integer field.
        public mutating func field(_ key: String, _ value: Int) { field(key, Int64(value)) }

        /// Adds a boolean field.
        public mutating func field(_ key: String, _ value: Bool) {
            appendKey(key)
            body.append(value ? Tag.trueValue.rawValue : Tag.falseValue.rawValue)
        }

        /// Adds a UUID field.
        public mutating func field(_ key: String, _ value: UUID) {
            appendKey(key)
            body.append(Tag.uuid.rawValue)
            withUnsafeBytes(of: value.uuid) { body.append(contentsOf: $0) }
        }

        /// Adds an instant (seconds since the epoch, UTC).
        public mutating func field(_ key: String, instant: Int64) {
            appendKey(key)
            body.append(Tag.instant.rawValue)
            Facts.writeVarint(zigzag(instant), into: &body)
        }

        /// Adds an array of strings.
        public mutating func field(_ key: String, _ values: [String]) {
            appendKey(key)
            body.append(Tag.array.rawValue)
            Facts.writeVarint(UInt64(values.count), into: &body)
            for v in values { Facts.writeString(v, into: &body) }
        }

        /// Adds a nested map built by another writer.
        public mutating func field(_ key: String, map: Writer) {
            appendKey(key)
            body.append(Tag.map.rawValue)
            Facts.writeVarint(UInt64(map.count), into: &body)
            body.append(contentsOf: map.body)
        }

        /// Adds an array of maps.
        public mutating func field(_ key: String, maps: [Writer]) {
            appendKey(key)
            body.append(Tag.array.rawValue)
            Facts.writeVarint(UInt64(maps.count), into: &body)
            for m in maps {
                body.append(Tag.map.rawValue)
                Facts.writeVarint(UInt64(m.count), into: &body)
                body.append(contentsOf: m.body)
            }
        }

        /// Adds any value.
        public mutating func field(_ key: String, value: Value) {
            appendKey(key)
            Facts.write(value, into: &body)
        }

        /// Adds a null field (an explicit absence).
        public mutating func null(_ key: String) {
            appendKey(key)
            body.append(Tag.null.rawValue)
        }

        /// The payload: the version byte, then the map.
        public func finish() -> [UInt8] {
            var out = [Facts.version]
            out.reserveCapacity(body.count + 6)
            Facts.writeVarint(UInt64(count), into: &out)
            out.append(contentsOf: body)
            return out
        }

        private mutating func appendKey(_ key: String) {
            precondition(Facts.isValidKey(key), "facts keys are 1–255 bytes of [a-zA-Z0-9_]: \(key)")
            count += 1
            body.append(UInt8(key.utf8.count))
            body.append(contentsOf: key.utf8)
        }
    }

    static func isValidKey(_ key: String) -> Bool {
        var key = key
        return key.withUTF8 { b in
            b.count >= 1 && b.count <= 255
                && b.allSatisfy { ($0 &- 0x30) < 10 || (($0 | 0x20) &- 0x61) < 26 || $0 == 0x5F }
        }
    }

    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    static func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }

    static func writeVarint(_ value: UInt64, into out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func writeString(_ value: String, into out: inout [UInt8]) {
        out.append(Tag.string.rawValue)
        writeVarint(UInt64(value.utf8.count), into: &out)
        out.append(contentsOf: value.utf8)
    }

    static func write(_ value: Value, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(Tag.null.rawValue)
        case .bool(let b): out.append(b ? Tag.trueValue.rawValue : Tag.falseValue.rawValue)
        case .int(let i):
            out.append(Tag.int.rawValue)
            writeVarint(zigzag(i), into: &out)
        case .string(let s): writeString(s, into: &out)
        case .bytes(let b):
            out.append(Tag.bytes.rawValue)
            writeVarint(UInt64(b.count), into: &out)
            out.append(contentsOf: b)
        case .array(let items):
            out.append(Tag.array.rawValue)
            writeVarint(UInt64(items.count), into: &out)
            for item in items { write(item, into: &out) }
        case .map(let entries):
            out.append(Tag.map.rawValue)
            writeVarint(UInt64(entries.count), into: &out)
            for (k, v) in entries {
                precondition(isValidKey(k), "facts keys are 1–255 bytes of [a-zA-Z0-9_]: \(k)")
                out.append(UInt8(k.utf8.count))
                out.append(contentsOf: k.utf8)
                write(v, into: &out)
            }
        case .uuid(let u):
            out.append(Tag.uuid.rawValue)
            withUnsafeBytes(of: u.uuid) { out.append(contentsOf: $0) }
        case .instant(let t):
            out.append(Tag.instant.rawValue)
            writeVarint(zigzag(t), into: &out)
        }
    }
}
