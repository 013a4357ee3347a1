import Synchronization

/// Compression state shared by every thread that encodes or decodes payload parts: zstd context pools, every
/// dictionary the store has trained (by id), and the one currently used for new parts.
final class PayloadCodec: Sendable {
    let contexts: ZstdContexts
    let level: Int32
    private let dictionaries = Mutex<[UInt8: ZstdDictionary]>([:])
    private let current = Mutex<ZstdDictionary?>(nil)
    /// Parts encoded since the store opened: what triggers automatic training.
    let partsEncoded = Atomic<Int>(0)
    /// Parts count at which the next automatic training starts (0 = the configured threshold).
    let nextTraining = Atomic<Int>(0)

    init(level: Int32) {
        self.level = level
        self.contexts = ZstdContexts(level: level)
    }

    /// The dictionary for new parts, if one was trained.
    var currentDictionary: ZstdDictionary? { current.withLock { $0 } }

    /// A dictionary by id, for decoding.
    func dictionary(id: UInt8) -> ZstdDictionary? { dictionaries.withLock { $0[id] } }

    /// Highest dictionary id known (0 when none).
    var latestID: UInt8 { dictionaries.withLock { $0.keys.max() ?? 0 } }

    /// Adds a stored dictionary; when `makeCurrent`, new parts use it from now on.
    func install(_ dictionary: ZstdDictionary, makeCurrent: Bool) {
        dictionaries.withLock { $0[dictionary.id] = dictionary }
        if makeCurrent { current.withLock { $0 = dictionary } }
    }
}
