/// Reads what ``ByteWriter`` wrote, with bounds checks; a short or malformed input throws ``Malformed``.
struct ByteReader {
    /// The input ended early or held a value that is not allowed; `what` names the field.
    struct Malformed: Error {
        let what: String
        let offset: Int
    }

    let buffer: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    var remaining: Int { buffer.count - offset }
    var isAtEnd: Bool { offset == buffer.count }

    private mutating func take(_ count: Int, _ what: String) throws(Malformed) -> UnsafeRawBufferPointer {
        guard count <= remaining else { throw Malformed(what: what, offset: offset) }
        let slice = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
        offset += count
        return slice
    }

    mutating func u8(_ what: String) throws(Malformed) -> UInt8 { try take(1, what)[0] }

    mutating func u16(_ what: String) throws(Malformed) -> UInt16 {
        let b = try take(2, what)
        return UInt16(b[0]) << 8 | UInt16(b[1])
    }

    mutating func u32(_ what: String) throws(Malformed) -> UInt32 {
        UInt32(bigEndian: try take(4, what).loadUnaligned(as: UInt32.self))
    }

    mutating func u64(_ what: String) throws(Malformed) -> UInt64 {
        UInt64(bigEndian: try take(8, what).loadUnaligned(as: UInt64.self))
    }

    mutating func i64(_ what: String) throws(Malformed) -> Int64 { Int64(bitPattern: try u64(what)) }

    mutating func bytes(_ count: Int, _ what: String) throws(Malformed) -> UnsafeRawBufferPointer {
        try take(count, what)
    }

    mutating func b8(_ what: String) throws(Malformed) -> UnsafeRawBufferPointer {
        try take(Int(try u8(what)), what)
    }

    mutating func b16(_ what: String) throws(Malformed) -> UnsafeRawBufferPointer {
        try take(Int(try u16(what)), what)
    }

    /// A `b8` string that must be valid UTF-8.
    mutating func string8(_ what: String) throws(Malformed) -> String {
        let start = offset
        let raw = try b8(what)
        guard UTF8Text.isValid(raw) else { throw Malformed(what: what, offset: start) }
        return String(decoding: raw, as: UTF8.self)
    }
}
