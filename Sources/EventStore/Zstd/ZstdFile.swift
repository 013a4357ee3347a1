internal import CZstd

/// Standard zstd frames for files other tools read (exports): magic number, content size and checksum, no
/// dictionary — what `zstd -d` and DuckDB's `compression = 'zstd'` expect.
///
/// ```swift
/// let compressed = try ZstdFile.compress(Array(csv.utf8))
/// ```
public enum ZstdFile {
    /// Compresses `bytes` into one standard frame at `level` (3 is zstd's default).
    public static func compress(_ bytes: [UInt8], level: Int32 = 3) throws -> [UInt8] {
        let bound = ZSTD_compressBound(bytes.count)
        var out = [UInt8](repeating: 0, count: bound)
        let written = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in
                ZSTD_compress(output.baseAddress, bound, input.baseAddress, input.count, level)
            }
        }
        let size: Int
        do { size = try checkZstd(written) } catch { throw StoreError(.storage, "zstd could not compress: \(error)") }
        out.removeSubrange(size...)
        return out
    }
}
