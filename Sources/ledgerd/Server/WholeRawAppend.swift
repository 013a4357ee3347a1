/// A raw append recognized from its bytes by ``RawAppendBytePath``, before NIO's decoder has seen any: exactly
/// `POST /streams/{stream}/events HTTP/1.1`, header lines of a token, a colon and printable ASCII, one
/// `Content-Length` of digits, and exactly that many body bytes after the head, nothing more.
///
/// The form is strict on purpose: whatever it accepts, every HTTP/1.1 parser (NIO's llhttp among them) reads as the
/// same single request with the same body, so the bytes it answers and the bytes it passes on can never be framed
/// differently. Anything else (another request, `Transfer-Encoding`, `Connection`, `Expect` or `Upgrade` headers, a
/// second `Content-Length`, a byte outside printable ASCII, a head over 4 KiB, a request followed by another) is not
/// recognized, and goes to NIO's decoder as it came. The start of one that may still become whole is told apart, so
/// a request that arrives over several reads is waited for.
struct WholeRawAppend: Equatable {
    /// The stream named in the path (printable ASCII without `/ % ? # +`, so it needs no unescaping).
    let stream: String
    /// Where the body starts, from the first byte of the request.
    let bodyStart: Int
    /// The body's length (the `Content-Length`).
    let bodyLength: Int

    /// The longest head recognized.
    static let maxHead = 4_096
    /// The most header lines recognized.
    static let maxHeaderLines = 32

    /// What a read's bytes are, so far.
    enum Recognition: Equatable {
        /// Exactly one raw append, whole.
        case whole(WholeRawAppend)
        /// The start of one: more bytes may make it whole.
        case incomplete
        /// Something else: NIO's decoder reads it.
        case other
    }

    /// Recognizes `bytes` as exactly one raw append whose body is at most `maxBody` bytes.
    static func recognize(_ bytes: UnsafeRawBufferPointer, maxBody: Int) -> Recognition {
        let count = bytes.count
        guard matches(requestStart, in: bytes, at: 0) else {
            return count < requestStart.count && isPrefix(bytes, of: requestStart) ? .incomplete : .other
        }
        var i = requestStart.count
        while i < count, bytes[i] != slash {
            guard isPathByte(bytes[i]), i < maxHead else { return .other }
            i += 1
        }
        let nameEnd = i
        guard nameEnd > requestStart.count || i == count else { return .other }
        guard matches(requestEnd, in: bytes, at: i) else {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[i...])
            return rest.count < requestEnd.count && isPrefix(rest, of: requestEnd) ? .incomplete : .other
        }
        i += requestEnd.count
        var contentLength: Int?
        var lines = 0
        while true {
            guard i < maxHead else { return .other }
            guard i < count else { return .incomplete }
            if bytes[i] == cr {
                guard i + 1 < count else { return .incomplete }
                guard bytes[i + 1] == lf else { return .other }
                i += 2
                break
            }
            lines += 1
            guard lines <= maxHeaderLines else { return .other }
            let nameStart = i
            while i < count, isTokenByte(bytes[i]) { i += 1 }
            guard i <= maxHead else { return .other }
            guard i < count else { return .incomplete }
            guard i > nameStart, bytes[i] == colon else { return .other }
            let name = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<i])
            i += 1
            let afterColon = i
            while i < count, bytes[i] == space || bytes[i] == tab { i += 1 }
            let valueStart = i
            while i < count, (bytes[i] >= space && bytes[i] < 0x7F) || bytes[i] == tab { i += 1 }
            guard i <= maxHead else { return .other }
            guard i + 1 < count else { return i == count || bytes[i] == cr ? .incomplete : .other }
            guard bytes[i] == cr, bytes[i + 1] == lf else { return .other }
            var valueEnd = i
            while valueEnd > valueStart, bytes[valueEnd - 1] == space || bytes[valueEnd - 1] == tab { valueEnd -= 1 }
            i += 2
            if equalsIgnoringCase(name, contentLengthName) {
                // Spaces, then digits up to the line's end: parsers differ on tabs and trailing white space here.
                let digits = bytes[valueStart..<valueEnd]
                guard contentLength == nil, (1...7).contains(digits.count), valueEnd == i - 2,
                      bytes[afterColon..<valueStart].allSatisfy({ $0 == space }),
                      digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
                else { return .other }
                contentLength = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            } else if refusedNames.contains(where: { equalsIgnoringCase(name, $0) }) {
                return .other
            }
        }
        guard i <= maxHead, let length = contentLength, length > 0, length <= maxBody, count - i <= length else {
            return .other
        }
        guard count - i == length else { return .incomplete }
        let stream = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[requestStart.count..<nameEnd]),
                            as: UTF8.self)
        return .whole(WholeRawAppend(stream: stream, bodyStart: i, bodyLength: length))
    }

    private static let requestStart = Array("POST /streams/".utf8)
    private static let requestEnd = Array("/events HTTP/1.1\r\n".utf8)
    private static let contentLengthName = Array("content-length".utf8)
    /// Headers that change how a request is framed or answered: such a request is left to NIO's decoder.
    private static let refusedNames = ["transfer-encoding", "connection", "expect", "upgrade"].map { Array($0.utf8) }
    private static let (slash, colon, cr, lf, space, tab): (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0x2F, 0x3A, 0x0D, 0x0A, 0x20, 0x09)

    /// Whether `bytes` is the start of `expected`.
    private static func isPrefix(_ bytes: UnsafeRawBufferPointer, of expected: [UInt8]) -> Bool {
        bytes.count <= expected.count && zip(bytes, expected).allSatisfy { $0 == $1 }
    }

    private static func matches(_ expected: [UInt8], in bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard bytes.count - offset >= expected.count else { return false }
        for (j, byte) in expected.enumerated() where bytes[offset + j] != byte { return false }
        return true
    }

    /// A header name's bytes against a lowercase name: only `A`–`Z` and `a`–`z` become `a`–`z` with bit 0x20 set,
    /// and the names compared hold letters and `-` alone.
    private static func equalsIgnoringCase(_ name: UnsafeRawBufferPointer, _ lowercase: [UInt8]) -> Bool {
        guard name.count == lowercase.count else { return false }
        for (j, byte) in lowercase.enumerated() where name[j] | 0x20 != byte { return false }
        return true
    }

    /// A stream name's byte: printable ASCII, none of `/ % ? # +` (an escape, a query, a fragment, a space).
    private static func isPathByte(_ byte: UInt8) -> Bool {
        byte > space && byte < 0x7F && byte != 0x25 && byte != 0x3F && byte != 0x23 && byte != 0x2B
    }

    /// RFC 9110's `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }
}
