import EventStore
import Foundation
import TestSupport

/// A fresh directory under the system's temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init(_ label: String = "store") {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("ledger-test-\(label)-\(UUID().uuidString.prefix(8))").path
    }

    /// A path inside the directory.
    func sub(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs `body` with a new store in a temporary directory, closing and removing it afterwards.
func withStore<T>(
    origin: String = "test.ledger.local/log", options: StoreOptions = StoreOptions(),
    _ body: (Store, TemporaryDirectory) async throws -> T
) async throws -> T {
    let directory = TemporaryDirectory()
    defer { directory.remove() }
    var options = options
    if options.mapSize == StoreOptions().mapSize { options.mapSize = 1 << 30 }
    let store = try Store.create(at: directory.sub("log"), origin: origin, options: options)
    defer { store.close() }
    return try await body(store, directory)
}

/// An event whose facts are `text` in UTF-8.
func event(_ type: String = "Thing.v1", _ text: String = "{}", personal: String? = nil, id: UUID? = nil,
           actor: String = "staff-1", metadata: Metadata = Metadata()) -> EventData {
    EventData(id: id, type: type, facts: Array(text.utf8), personal: personal.map { Array($0.utf8) }, actor: actor,
              metadata: metadata)
}

extension RecordedEvent {
    /// The facts part as text.
    var factsText: String { String(decoding: facts ?? [], as: UTF8.self) }
}

/// Lowercase hex of bytes.
func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

/// Bytes of a hex string.
func bytes(hex: String) -> [UInt8] {
    var out = [UInt8]()
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        out.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return out
}

/// The repository's `fixtures/` directory, found from this file's path (tests never need ../shared).
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures").path

/// The `ledger-test-helper` executable built beside the test bundle.
var helperExecutable: URL { builtExecutable("ledger-test-helper") }

/// Copies a store's directory keeping its files sparse (`cp -a --sparse=always`): the index environment is a sparse
/// file of its map's size (`MDB_WRITEMAP`), which a plain copy would write out whole.
func copySparse(_ from: String, to: String) throws {
    let cp = Process()
    cp.executableURL = URL(fileURLWithPath: "/bin/cp")
    #if os(Linux)
    cp.arguments = ["-a", "--sparse=always", from, to]
    #else
    cp.arguments = ["-a", from, to]  // APFS clones keep holes
    #endif
    try cp.run()
    cp.waitUntilExit()
    guard cp.terminationStatus == 0 else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: to])
    }
}

/// The bytes of a file's data regions, holes left out (`SEEK_DATA` / `SEEK_HOLE`): a sparse environment file of a
/// 64 GiB map reads as its few megabytes of pages.
func allocatedBytes(of path: String) throws -> Data {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
    defer { close(fd) }
    #if os(Linux)
    let seekData: Int32 = 3, seekHole: Int32 = 4  // SEEK_DATA and SEEK_HOLE (not imported)
    #else
    let seekData: Int32 = 4, seekHole: Int32 = 3
    #endif
    var out = Data()
    var offset = lseek(fd, 0, seekData)
    while offset >= 0 {
        let end = lseek(fd, offset, seekHole)
        guard end > offset else { break }
        var chunk = [UInt8](repeating: 0, count: Int(end - offset))
        let read = pread(fd, &chunk, chunk.count, offset)
        guard read == chunk.count else { throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: path]) }
        out.append(contentsOf: chunk)
        offset = lseek(fd, end, seekData)
    }
    return out
}
