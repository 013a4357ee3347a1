public import Foundation

/// An executable the package built beside the test bundle (`ledgerd`, `ledger-test-helper`), found by walking up
/// from the running test binary to the products directory.
public func builtExecutable(_ name: String) -> URL {
    var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    // The test bundle may sit inside `ledgerPackageTests.xctest/…`; walk up to the products directory.
    while !FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), directory.path != "/" {
        directory = directory.deletingLastPathComponent()
    }
    return directory.appendingPathComponent(name)
}

/// Reads a file handle to its end on a thread of its own, without blocking the cooperative pool.
public func readToEnd(_ handle: FileHandle) async -> Data {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: handle.readDataToEndOfFile()) }.start()
    }
}

/// Reads a file handle to its end on a thread of its own, calling `firstLine` once: when the first newline arrives,
/// or at the end if none does (so a caller waiting on it is never left waiting).
public func readToEnd(_ handle: FileHandle, firstLine: @escaping @Sendable () -> Void) async -> Data {
    await withCheckedContinuation { continuation in
        Thread {
            var data = Data()
            var told = false
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                data.append(chunk)
                if !told, chunk.contains(UInt8(ascii: "\n")) {
                    told = true
                    firstLine()
                }
            }
            if !told { firstLine() }
            continuation.resume(returning: data)
        }.start()
    }
}

/// Runs an executable to its end; returns (exit status, standard output, standard error).
public func runProcess(_ executable: URL, _ arguments: [String]) async throws -> (Int32, String, String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    try out.fileHandleForWriting.close()
    try err.fileHandleForWriting.close()
    async let stdout = readToEnd(out.fileHandleForReading)
    async let stderr = readToEnd(err.fileHandleForReading)
    let (o, e) = await (stdout, stderr)
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}
