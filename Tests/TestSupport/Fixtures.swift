public import Foundation

/// A file of the repository's `fixtures/` directory.
public func fixtureURL(_ relative: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures").appendingPathComponent(relative)
}

/// A fresh temporary directory path (not created).
public func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(name)-\(UUID())").path
}
