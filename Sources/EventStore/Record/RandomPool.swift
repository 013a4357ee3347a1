import Foundation
import Synchronization

/// Bytes from the kernel's CSPRNG, fetched 4 KiB at a time, each handed out once and then wiped from the pool:
/// salts and event ids need a few random bytes per event, and a `getrandom` call per event cost more than the rest
/// of making an id. Keys (the subjects' erasure keys) do not come from here: they are read from the kernel each, and
/// never sit in a buffer.
final class RandomPool: Sendable {
    /// The process's pool.
    static let shared = RandomPool()

    private static let size = 4_096
    private let state = Mutex<(bytes: [UInt8], next: Int)>(([UInt8](repeating: 0, count: size), size))

    /// Fills `buffer` with random bytes not handed out before; a request over 256 bytes is read from the kernel.
    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        guard buffer.count <= 256 else {
            arc4random_buf(base, buffer.count)
            return
        }
        state.withLock { state in
            if state.next + buffer.count > Self.size {
                state.bytes.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
                state.next = 0
            }
            let range = state.next..<state.next + buffer.count
            state.bytes.withUnsafeMutableBytes { all in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[range]))
                // Wiped once handed out: a salt erased with its part does not linger here.
                UnsafeMutableRawBufferPointer(rebasing: all[range]).initializeMemory(as: UInt8.self, repeating: 0)
            }
            state.next += buffer.count
        }
    }

    /// Eight random bytes.
    func next64() -> UInt64 {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { fill($0) }
        return value
    }
}
