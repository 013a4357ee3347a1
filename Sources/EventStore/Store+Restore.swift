import Foundation

extension Store {
    /// Copies a backup (or a store's directory) into the new directory `destination`, for a restore.
    ///
    /// The environments' data files and the store's own files are copied; lock files (`lock.mdb`, `writer.lock`) are
    /// not, as they belong to the processes of the source. The index is copied only when it is whole and compact, as
    /// ``backup(to:)`` writes it: a live store's index is a sparse file of its map's size (`MDB_WRITEMAP`) that a plain
    /// copy would write out whole, and one still marked unsynced may be torn; either is left behind and rebuilt from
    /// the log when the restored store is opened for writing.
    ///
    /// - Throws: ``StoreError`` when `source` holds no store (`data.mdb`), when its writer is running
    ///   (``StoreError/Code/locked``), when `destination` exists, or when a copy fails.
    public static func copyForRestore(from source: String, to destination: String) throws {
        let fm = FileManager.default
        guard fm.fileExists(atPath: source + "/data.mdb") else {
            throw StoreError(.invalidArgument, "\(source) holds no store or backup (no data.mdb)")
        }
        guard !fm.fileExists(atPath: destination) else {
            throw StoreError(.invalidArgument, "\(destination) already exists; restore into a new directory")
        }
        // A store's directory whose writer still runs would be copied mid-commit: hold its writer lock meanwhile
        // (a backup has no lock file and needs none).
        let held = fm.fileExists(atPath: source + "/writer.lock") ? try StoreLock(directory: source, exclusive: true) : nil
        defer { held?.release() }
        do {
            try fm.createDirectory(atPath: destination, withIntermediateDirectories: true,
                                   attributes: [.posixPermissions: 0o750])
            for item in try fm.contentsOfDirectory(atPath: source) where !lockFiles.contains(item) {
                if item == "index" {
                    guard isCompactIndex(source) else { continue }
                    try fm.createDirectory(atPath: destination + "/index", withIntermediateDirectories: false,
                                           attributes: [.posixPermissions: 0o750])
                    try fm.copyItem(atPath: source + "/index/data.mdb", toPath: destination + "/index/data.mdb")
                    continue
                }
                try fm.copyItem(atPath: source + "/" + item, toPath: destination + "/" + item)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.storage, "copying \(source) to \(destination): \(error.localizedDescription)")
        }
    }

    /// Files of a store directory that belong to the processes using it.
    static let lockFiles: Set<String> = ["lock.mdb", "writer.lock"]

    /// Whether the store at `path` has an index worth copying: not marked unsynced, and its data file mostly
    /// allocated (a backup's compact copy, not a sparse file of the map's size).
    static func isCompactIndex(_ path: String) -> Bool {
        let directory = StoreIndex.directory(path)
        guard !FileManager.default.fileExists(atPath: directory + "/" + StoreIndex.markerName) else { return false }
        var info = stat()
        guard stat(directory + "/data.mdb", &info) == 0 else { return false }
        return Int64(info.st_blocks) * 512 >= Int64(info.st_size) / 2
    }
}
