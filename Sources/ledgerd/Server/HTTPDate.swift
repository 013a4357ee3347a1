import Glibc
import Synchronization

/// The `Date` header's value (RFC 9110 IMF-fixdate), formatted once a second.
enum HTTPDate {
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))

    /// Now, as `Sun, 06 Nov 1994 08:49:37 GMT`.
    static var now: String {
        let second = time(nil)
        return cache.withLock { cache in
            if cache.second == second { return cache.text }
            var t = second
            var parts = tm()
            gmtime_r(&t, &parts)
            var bytes = [CChar](repeating: 0, count: 40)
            let count = strftime(&bytes, bytes.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
            cache = (second, String(decoding: bytes[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self))
            return cache.text
        }
    }
}
