internal import CZstd

/// A trained zstd dictionary, prepared for both directions.
///
/// `@unchecked Sendable`: zstd documents `ZSTD_CDict` and `ZSTD_DDict` as read-only after creation and usable by
/// several threads at once; they are freed only in `deinit`.
final class ZstdDictionary: @unchecked Sendable {
    /// The store's id for this dictionary (1…255; 0 means "no dictionary").
    let id: UInt8
    /// The dictionary bytes as stored.
    let bytes: [UInt8]
    let compression: OpaquePointer
    let decompression: OpaquePointer

    init(id: UInt8, bytes: [UInt8], level: Int32) throws(ZstdError) {
        guard
            let c = bytes.withUnsafeBytes({ ZSTD_createCDict($0.baseAddress, $0.count, level) }),
            let d = bytes.withUnsafeBytes({ ZSTD_createDDict($0.baseAddress, $0.count) })
        else { throw ZstdError(code: -Int(ZSTD_error_dictionary_corrupted.rawValue)) }
        self.id = id
        self.bytes = bytes
        self.compression = c
        self.decompression = d
    }

    deinit {
        ZSTD_freeCDict(compression)
        ZSTD_freeDDict(decompression)
    }

    /// Trains a dictionary of at most `capacity` bytes on `samples`. The C function is `ZDICT_trainFromBuffer`.
    static func train(samples: [[UInt8]], capacity: Int) throws(ZstdError) -> [UInt8] {
        var joined = [UInt8]()
        joined.reserveCapacity(samples.reduce(0) { $0 + $1.count })
        var sizes = [Int]()
        sizes.reserveCapacity(samples.count)
        for sample in samples {
            joined.append(contentsOf: sample)
            sizes.append(sample.count)
        }
        var dictionary = [UInt8](repeating: 0, count: capacity)
        let size = dictionary.withUnsafeMutableBytes { out in
            joined.withUnsafeBytes { input in
                sizes.withUnsafeBufferPointer { sz in
                    ZDICT_trainFromBuffer(out.baseAddress, out.count, input.baseAddress, sz.baseAddress, UInt32(sz.count))
                }
            }
        }
        if ZDICT_isError(size) != 0 { throw ZstdError(code: size) }
        dictionary.removeSubrange(size...)
        return dictionary
    }
}
