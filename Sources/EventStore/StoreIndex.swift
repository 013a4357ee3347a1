import Foundation

/// The index environment beside the log (`<store>/index/`): stream, event-id, category and type indexes.
///
/// It holds only what can be derived from the log's records, so it commits without fsync (`MDB_NOSYNC`), after the
/// log's own synced commit. A killed process loses nothing of it (its pages are in the page cache); a system crash
/// may lose or tear its last commits, so the writer keeps a marker naming the boot it runs in while the index has
/// unsynced commits: at open, a marker of another boot means the index is rebuilt from the log. Behind the log (a
/// crash between the two commits, a backup copied before its log), it is caught up at open. The writer opens it
/// `MDB_WRITEMAP` (its file is then sparse, the map's size) and allocates blocks ahead of each transaction
/// (``reserve``, ``reservePagesPerEvent``), so a full disk is an error rather than a `SIGBUS`.
struct StoreIndex: Sendable {
    let env: LMDBEnvironment
    let dbs: IndexDatabases

    /// The index directory of the store at `storePath`.
    static func directory(_ storePath: String) -> String { storePath + "/index" }

    /// Bytes of the index's file allocated ahead of its last used page before each write transaction, besides
    /// ``reservePagesPerEvent``: it is opened `MDB_WRITEMAP` (a commit changes the map in place: no copies of dirty pages,
    /// no `pwrite`), so a full disk must be met before a transaction begins, not as a `SIGBUS`
    /// (``LMDBEnvironment/reserveAhead(extra:)``).
    static let reserve = 1 << 20
    /// Pages a transaction reserves per event it indexes: the stream index's and the subject index's postings may
    /// each copy a leaf page spread over its tree (the other indexes append at their tails).
    static let reservePagesPerEvent = 2

    /// Bytes a transaction indexing `events` events reserves past ``reserve`` in the index environment `env`.
    static func reservation(events: Int, in env: LMDBEnvironment) -> Int { events * reservePagesPerEvent * env.pageSize }

    /// Present while the index has commits that were not synced; holds the boot id.
    static let markerName = "unsynced"
    /// What the marker holds where the system has no boot id to read: readers then trust a running writer's index,
    /// and a writer opening after any unclean stop rebuilds it.
    static let unknownBoot = "unknown"

    /// Opens the index of a store held for writing: drops an index a system crash may have torn, writes the
    /// marker (synced) before any unsynced commit, and opens or creates the environment.
    static func openForWriting(storePath: String, options: StoreOptions) throws -> StoreIndex {
        let directory = directory(storePath)
        let marker = directory + "/" + markerName
        let boot = currentBootID()
        let fm = FileManager.default
        if mayBeTorn(directory, openingWriter: true) {
            do { try fm.removeItem(atPath: directory) } catch {
                throw StoreError(.storage, "cannot remove the index at \(directory), which a system crash may have "
                    + "torn: \(error.localizedDescription)")
            }
        }
        for attempt in 0..<2 {
            do {
                try fm.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                       attributes: [.posixPermissions: 0o750])
                try writeMarker(marker, boot: boot ?? unknownBoot)
                fsyncDirectory(directory)
                fsyncDirectory(storePath)
                let env = try LMDBEnvironment(path: directory, options: .init(
                    mapSize: options.mapSize, maxDatabases: IndexDatabases.count + 2,
                    maxReaders: options.maxReaders, noSync: true, writeMap: true, reserve: reserve))
                return StoreIndex(env: env, dbs: try IndexDatabases(env))
            } catch let error as LMDBError where attempt == 0 && (error == .corrupted || error == .invalid) {
                try? fm.removeItem(atPath: directory)  // derived data: rebuilt from the log
            } catch let error as LMDBError {
                throw StoreError(error, while: "opening the index at \(directory)")
            }
        }
        throw StoreError(.storage, "the index at \(directory) could not be opened or rebuilt")
    }

    /// Opens the index of a store opened read-only, or `nil` when the store has none the reader can trust: none
    /// yet (a backup made before indexes had their own environment), or one still marked unsynced by another boot
    /// (a system crash may have torn it). The writer builds or rebuilds it at its next open.
    static func openReadOnly(storePath: String, options: StoreOptions) throws -> StoreIndex? {
        let directory = directory(storePath)
        guard FileManager.default.fileExists(atPath: directory + "/data.mdb") else { return nil }
        guard !mayBeTorn(directory, openingWriter: false) else { return nil }
        do throws(LMDBError) {
            let env = try LMDBEnvironment(path: directory, options: .init(
                mapSize: options.mapSize, maxDatabases: IndexDatabases.count + 2, maxReaders: options.maxReaders,
                readOnly: true))
            return StoreIndex(env: env, dbs: try IndexDatabases(env))
        } catch {
            throw StoreError(error, while: "opening the index at \(directory)")
        }
    }

    /// Syncs the index and removes the marker: the index on disk is whole again. Called at a clean close.
    func syncAndClearMarker(storePath: String) {
        guard (try? env.sync()) != nil else { return }
        let directory = Self.directory(storePath)
        unlink(directory + "/" + Self.markerName)
        fsyncDirectory(directory)
    }

    private static func writeMarker(_ path: String, boot: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw StoreError(.storage, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array((boot + "\n").utf8)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw StoreError(.storage, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Whether the index in `directory` may have lost unsynced commits to a system crash: its marker names another
    /// boot. Where there is no boot id to compare, a reader trusts the marker of a running writer (``unknownBoot``),
    /// and a writer that finds a marker at its own open does not (the last writer stopped uncleanly).
    static func mayBeTorn(_ directory: String, openingWriter: Bool) -> Bool {
        let marker = directory + "/" + markerName
        guard FileManager.default.fileExists(atPath: marker) else { return false }
        let written = (try? String(contentsOfFile: marker, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard let boot = currentBootID() else { return openingWriter || written != unknownBoot }
        return written != boot
    }

    /// This boot's id (Linux), or `nil` where the system has none to read.
    static func currentBootID() -> String? {
        (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
