import Foundation

/// A C2SP `tlog-checkpoint` body: origin, tree size and root, each on its own line.
public struct Checkpoint: Sendable, Hashable {
    /// The log's origin.
    public var origin: String
    /// The tree size (number of events).
    public var size: UInt64
    /// The Merkle root of the first `size` events.
    public var root: TreeHash

    /// A checkpoint from its parts.
    public init(origin: String, size: UInt64, root: TreeHash) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// The note text: `origin\nsize\nbase64(root)\n`.
    public var text: String { "\(origin)\n\(size)\n\(root.base64)\n" }

    /// Parses a checkpoint's note text (extension lines are not allowed here).
    public init(text: String) throws {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard text.hasSuffix("\n"), lines.count == 4, !lines[0].isEmpty, let size = UInt64(lines[1]),
              String(size) == lines[1], let root = TreeHash(base64: lines[2])
        else {
            throw StoreError(.invalidArgument, "not a checkpoint (origin, decimal size and base64 root, one per line)")
        }
        origin = String(lines[0])
        self.size = size
        self.root = root
    }
}

/// A checkpoint with its signatures (the log's, then witnesses' cosignatures).
public struct SignedCheckpoint: Sendable, Hashable {
    /// The checkpoint.
    public var checkpoint: Checkpoint
    /// The signed note around it.
    public var note: SignedNote

    /// Parses a signed checkpoint note.
    public init(parsing text: String) throws {
        note = try SignedNote(parsing: text)
        checkpoint = try Checkpoint(text: note.text)
    }

    init(checkpoint: Checkpoint, note: SignedNote) {
        self.checkpoint = checkpoint
        self.note = note
    }
}
