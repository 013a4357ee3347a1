/// An event's metadata: a canonical TLV map of byte keys to byte values.
///
/// The encoding (inside the record's `b16 metadata` field) is a sequence of entries `b8 key · b16 value`, keys
/// sorted bytewise with no duplicates, so equal metadata always has equal bytes (the record is a Merkle leaf).
/// Keys are 1…255 bytes of `[a-z0-9_.]`; the whole encoding fits in 65 535 bytes. design.md pins the keys the
/// domain uses: `principal`, `role`, `unit`, `on_behalf_of`, `capacity`, `command`, `subject`.
///
/// ```swift
/// var metadata = Metadata()
/// metadata["principal"] = "clerk01"
/// metadata["role"] = "clerk"
/// ```
public struct Metadata: Sendable, Hashable, CustomStringConvertible {
    /// The entries, sorted bytewise by key.
    public private(set) var entries: [(key: String, value: [UInt8])] = []

    /// An empty map.
    public init() {}

    /// A map of string values.
    public init(_ values: [String: String]) {
        for (key, value) in values { self[key] = value }
    }

    /// The value of `key` as UTF-8 text; setting `nil` removes it.
    public subscript(key: String) -> String? {
        get { bytes(key).map { String(decoding: $0, as: UTF8.self) } }
        set { setBytes(key, newValue.map { Array($0.utf8) }) }
    }

    /// The raw value of `key`.
    public func bytes(_ key: String) -> [UInt8]? {
        entries.first { $0.key == key }?.value
    }

    /// Sets or removes a raw value.
    public mutating func setBytes(_ key: String, _ value: [UInt8]?) {
        let index = entries.firstIndex { Array($0.key.utf8).lexicographicallyPrecedes(Array(key.utf8)) == false }
        if let index, entries[index].key == key {
            if let value { entries[index].value = value } else { entries.remove(at: index) }
        } else if let value {
            entries.insert((key, value), at: index ?? entries.count)
        }
    }

    /// True when there are no entries.
    public var isEmpty: Bool { entries.isEmpty }

    /// A readable rendering.
    public var description: String {
        "{" + entries.map { "\($0.key)=\(String(decoding: $0.value, as: UTF8.self))" }.joined(separator: ", ") + "}"
    }

    /// Equality of the fields that matter.
    public static func == (a: Metadata, b: Metadata) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// Hashes the identifying fields.
    public func hash(into hasher: inout Hasher) {
        for entry in entries {
            hasher.combine(entry.key)
            hasher.combine(entry.value)
        }
    }

    // MARK: - Canonical encoding

    /// Checks every key and the encoded size; returns the size of the TLV bytes.
    @discardableResult
    func validate() throws(StoreError) -> Int {
        var size = 0
        for entry in entries {
            guard Self.isValidKey(entry.key.utf8) else {
                throw StoreError(.invalidArgument, "metadata key \"\(entry.key)\" is not 1–255 bytes of [a-z0-9_.]")
            }
            guard entry.value.count <= Int(UInt16.max) else {
                throw StoreError(.invalidArgument, "metadata value of \"\(entry.key)\" is over 65 535 bytes")
            }
            size += 3 + entry.key.utf8.count + entry.value.count
        }
        guard size <= Int(UInt16.max) else {
            throw StoreError(.invalidArgument, "metadata encodes to \(size) bytes; the limit is 65 535")
        }
        return size
    }

    /// Appends the `b16` field: the TLV size, then the entries (call ``validate()`` first).
    func write(into writer: inout ByteWriter, size: Int) {
        writer.u16(UInt16(size))
        for entry in entries {
            writer.b8(entry.key)
            writer.b16(entry.value)
        }
    }

    /// Parses canonical TLV bytes; rejects unsorted or duplicate keys.
    init(canonical buffer: UnsafeRawBufferPointer) throws(ByteReader.Malformed) {
        var reader = ByteReader(buffer)
        var previous: [UInt8]? = nil
        while !reader.isAtEnd {
            let keyStart = reader.offset
            let key = Array(try reader.b8("metadata key"))
            guard Self.isValidKey(key) else { throw .init(what: "metadata key", offset: keyStart) }
            if let previous, !previous.lexicographicallyPrecedes(key) {
                throw .init(what: "metadata key order", offset: keyStart)
            }
            let value = Array(try reader.b16("metadata value"))
            entries.append((String(decoding: key, as: UTF8.self), value))
            previous = key
        }
    }

    private static func isValidKey(_ key: some Collection<UInt8>) -> Bool {
        !key.isEmpty && key.count <= 255
            && key.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F || $0 == 0x2E }
    }
}
