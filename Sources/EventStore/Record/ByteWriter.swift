import Foundation

/// Appends big-endian integers and length-prefixed byte strings: the encoding of records and metadata.
struct ByteWriter {
    private(set) var bytes: [UInt8]

    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func u8(_ value: UInt8) { bytes.append(value) }

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func u32(_ value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func u64(_ value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func i64(_ value: Int64) { u64(UInt64(bitPattern: value)) }

    mutating func raw<C: Collection>(_ value: C) where C.Element == UInt8 { bytes.append(contentsOf: value) }

    /// `b8`: a u8 length, then the bytes (the caller checked the length fits).
    mutating func b8<C: Collection>(_ value: C) where C.Element == UInt8 {
        u8(UInt8(value.count))
        bytes.append(contentsOf: value)
    }

    /// `b8` of a string's UTF-8 (the caller checked the length fits).
    mutating func b8(_ value: String) {
        u8(UInt8(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    /// The 16 bytes of a UUID.
    mutating func uuid(_ value: UUID) {
        withUnsafeBytes(of: value.uuid) { bytes.append(contentsOf: $0) }
    }

    /// `count` zero bytes.
    mutating func zeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }

    /// `b16`: a big-endian u16 length, then the bytes (the caller checked the length fits).
    mutating func b16<C: Collection>(_ value: C) where C.Element == UInt8 {
        u16(UInt16(value.count))
        bytes.append(contentsOf: value)
    }
}
