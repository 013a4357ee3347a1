/// UTF-8 validation for the hot read paths (record parsing, facts decoding): ASCII, which almost every id, type and
/// key is, is checked eight bytes at a time; anything else goes through the standard library's validator.
public enum UTF8Text {
    /// Whether `bytes` are well-formed UTF-8.
    @inlinable
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            if bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 {
                return String(validating: bytes, as: UTF8.self) != nil
            }
            i += 8
        }
        while i < n {
            if bytes[i] & 0x80 != 0 { return String(validating: bytes, as: UTF8.self) != nil }
            i += 1
        }
        return true
    }
}
