public import Foundation
import Synchronization

extension UUID {
    /// Builds a UUID from 16 bytes.
    init(bytes raw: UnsafeRawBufferPointer) {
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw.prefix(16))) }
        self.init(uuid: value)
    }

    /// The all-zero UUID, which the record format uses for "none".
    static let zero = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// A new version-7 UUID (RFC 9562): 48 bits of Unix milliseconds, then random bits.
    ///
    /// Ids made in one process increase strictly (a 12-bit counter in `rand_a` breaks ties within a
    /// millisecond), which keeps the store's event-id index appending at its B-tree's tail.
    public static func v7() -> UUID {
        let (ms, counter) = UUIDv7Clock.shared.next()
        let tail = RandomPool.shared.next64()
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &value) { bytes in
            for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: ms >> (40 - 8 * UInt64(i))) }
            bytes[6] = 0x70 | UInt8(truncatingIfNeeded: counter >> 8)
            bytes[7] = UInt8(truncatingIfNeeded: counter)
            for i in 8..<16 { bytes[i] = UInt8(truncatingIfNeeded: tail >> (8 * UInt64(i - 8))) }
            bytes[8] = 0x80 | (bytes[8] & 0x3F)
        }
        return UUID(uuid: value)
    }
}

/// Hands out (millisecond, counter) pairs that never repeat or go backwards within the process.
private final class UUIDv7Clock: Sendable {
    static let shared = UUIDv7Clock()
    private let state = Mutex<(ms: UInt64, counter: UInt16)>((0, 0))

    func next() -> (UInt64, UInt16) {
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        return state.withLock { s in
            if now > s.ms {
                s = (now, 0)
            } else if s.counter == 0x0FFF {
                s = (s.ms + 1, 0)
            } else {
                s.counter += 1
            }
            return (s.ms, s.counter)
        }
    }
}
