internal import CZstd

/// A zstd error code (internal; surfaced as ``StoreError``).
struct ZstdError: Error, CustomStringConvertible {
    let code: Int
    var description: String { String(cString: ZSTD_getErrorName(code)) }
}

/// Returns `result` or throws when zstd reports an error; the one place that reads zstd return codes.
@inline(__always)
func checkZstd(_ result: Int) throws(ZstdError) -> Int {
    if ZSTD_isError(result) != 0 { throw ZstdError(code: result) }
    return result
}
