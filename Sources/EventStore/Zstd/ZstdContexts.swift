internal import CZstd
import Synchronization

/// Pools of zstd contexts, so any thread can compress or decompress without creating one per call.
///
/// zstd asks for one context per thread at a time; a context is taken out of the pool for the duration of a
/// single call and returned afterwards, so no two threads ever share one.
final class ZstdContexts: Sendable {
    private let compressors = Mutex<[ContextBox]>([])
    private let decompressors = Mutex<[ContextBox]>([])
    private let level: Int32

    init(level: Int32) { self.level = level }

    /// Compresses `input` as a lean frame (no magic number, no checksum, no content size: the store keeps the
    /// length and a commitment) with `dictionary`, or returns `nil` when compression does not make it smaller.
    func compress(_ input: UnsafeRawBufferPointer, dictionary: ZstdDictionary?, into out: inout [UInt8]) throws(ZstdError)
        -> Bool
    {
        let box = compressors.withLock { $0.popLast() } ?? ContextBox(compressor: level)
        defer { compressors.withLock { $0.append(box) } }
        let start = out.count
        let bound = ZSTD_compressBound(input.count)
        out.append(contentsOf: repeatElement(0, count: bound))
        let written = out.withUnsafeMutableBytes { buffer in
            let dst = buffer.baseAddress! + start
            // The advanced API keeps the lean-frame parameters; `ZSTD_compress_usingCDict` would reset them.
            // A reset first, so a frame left unfinished by a failed call cannot keep the previous dictionary.
            ZSTD_CCtx_reset(box.pointer, ZSTD_reset_session_only)
            let referenced = ZSTD_CCtx_refCDict(box.pointer, dictionary?.compression)
            if ZSTD_isError(referenced) != 0 { return referenced }
            return ZSTD_compress2(box.pointer, dst, bound, input.baseAddress, input.count)
        }
        let size = try checkZstd(written)
        guard size < input.count else {
            out.removeSubrange(start...)
            return false
        }
        out.removeSubrange((start + size)...)
        return true
    }

    /// Decompresses a lean frame of exactly `out.count` bytes into `out`.
    func decompress(_ frame: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer,
                    dictionary: ZstdDictionary?) throws(ZstdError) {
        let box = decompressors.withLock { $0.popLast() } ?? ContextBox(decompressor: ())
        defer { decompressors.withLock { $0.append(box) } }
        ZSTD_DCtx_reset(box.pointer, ZSTD_reset_session_only)
        _ = try checkZstd(ZSTD_DCtx_refDDict(box.pointer, dictionary?.decompression))
        let produced = try checkZstd(
            ZSTD_decompressDCtx(box.pointer, out.baseAddress, out.count, frame.baseAddress, frame.count))
        guard produced == out.count else { throw ZstdError(code: -Int(ZSTD_error_corruption_detected.rawValue)) }
    }
}

/// One zstd context. `@unchecked Sendable`: it lives in a pool and is used by one thread at a time.
private final class ContextBox: @unchecked Sendable {
    let pointer: OpaquePointer
    private let isCompressor: Bool

    init(compressor level: Int32) {
        pointer = ZSTD_createCCtx()
        isCompressor = true
        ZSTD_CCtx_setParameter(pointer, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(pointer, ZSTD_c_experimentalParam2,  // ZSTD_c_format (a macro Swift cannot import)
            Int32(ZSTD_f_zstd1_magicless.rawValue))
        ZSTD_CCtx_setParameter(pointer, ZSTD_c_checksumFlag, 0)
        ZSTD_CCtx_setParameter(pointer, ZSTD_c_contentSizeFlag, 0)
        ZSTD_CCtx_setParameter(pointer, ZSTD_c_dictIDFlag, 0)
    }

    init(decompressor: Void) {
        pointer = ZSTD_createDCtx()
        isCompressor = false
        ZSTD_DCtx_setParameter(pointer, ZSTD_d_experimentalParam1,  // ZSTD_d_format
            Int32(ZSTD_f_zstd1_magicless.rawValue))
    }

    deinit {
        if isCompressor { ZSTD_freeCCtx(pointer) } else { ZSTD_freeDCtx(pointer) }
    }
}
