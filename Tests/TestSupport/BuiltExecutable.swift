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
