import Crypto
import Foundation

/// An audit bundle: everything an auditor needs to verify a stretch of the log offline, without our code — the
/// layout is documented in ARCHITECTURE.md ("Audit bundles") precisely enough to write a verifier, and
/// `tools/verify-bundle.py` is one.
///
///     manifest.json              format, origin, from_size, to_size, checkpoint sizes, SHA-256 of every other file
///     log.vkey                   the log's verifier key (informative: auditors pin theirs out of band)
///     checkpoints/<size>.note    each signed checkpoint in [from_size, to_size], with cosignatures
///     consistency/<m>-<n>.txt    base64 hashes, one per line: from each checkpoint to the next
///     compact-range.txt          the compact range at from_size: lines "<level> <base64 hash>", left to right
///     entries.bin                the records [from_size, to_size): u32 BE length ‖ record bytes
///     payloads.bin               the payload parts present: u64 BE position ‖ u8 part (0 facts, 1 personal) ‖
///                                32 salt ‖ u32 BE length ‖ the part's bytes (decompressed)
public enum AuditBundle {
    /// The format name in the manifest.
    public static let format = "ledger-audit-bundle/1"

    /// What a bundle holds, as its manifest says.
    public struct Manifest: Codable, Sendable, Hashable {
        /// ``AuditBundle/format``.
        public var format: String
        /// The log's origin.
        public var origin: String
        /// First tree size covered (a signed size, or 0).
        public var fromSize: UInt64
        /// Last tree size covered (a signed size).
        public var toSize: UInt64
        /// Sizes of the checkpoints included, ascending.
        public var checkpoints: [UInt64]
        /// SHA-256 (hex) of every other file, by relative path.
        public var files: [String: String]

        enum CodingKeys: String, CodingKey {
            case format, origin, checkpoints, files
            case fromSize = "from_size"
            case toSize = "to_size"
        }
    }

    /// Writes a bundle of the log between two signed sizes into `directory` (which must not exist).
    ///
    /// - Parameters:
    ///   - from: A signed size (or 0) the auditor already trusts; default 0.
    ///   - to: A signed size; default the latest checkpoint.
    /// - Returns: The manifest written.
    public static func export(from store: Store, into directory: String, from: UInt64 = 0, to: UInt64? = nil,
                              verifierKey: String? = nil, progress: (UInt64, UInt64) -> Void = { _, _ in })
        throws -> Manifest
    {
        let all = try store.checkpoints()
        guard let latest = all.last else {
            throw StoreError(.invalidArgument, "no checkpoint signed yet: sign one before exporting a bundle")
        }
        let toSize = to ?? latest.checkpoint.size
        let sizes = Set(all.map(\.checkpoint.size))
        guard sizes.contains(toSize) else {
            throw StoreError(.invalidArgument, "--to-size \(toSize) is not a signed size (signed: "
                + "\(all.map { String($0.checkpoint.size) }.joined(separator: ", ")))")
        }
        guard from == 0 || sizes.contains(from), from <= toSize else {
            throw StoreError(.invalidArgument, "--from-size \(from) must be 0 or a signed size not above \(toSize)")
        }
        guard !FileManager.default.fileExists(atPath: directory) else {
            throw StoreError(.alreadyExists, "\(directory) exists; export into a new directory")
        }
        let included = all.filter { $0.checkpoint.size >= from && $0.checkpoint.size <= toSize }
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory + "/checkpoints", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: directory + "/consistency", withIntermediateDirectories: true)
        var files = [String: String]()
        func write(_ relative: String, _ data: Data) throws {
            try data.write(to: URL(fileURLWithPath: directory + "/" + relative))
            files[relative] = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        }
        for c in included {
            try write("checkpoints/\(c.checkpoint.size).note", Data(c.note.formatted.utf8))
        }
        let proofSizes = included.map(\.checkpoint.size).filter { $0 > 0 }
        for (m, n) in zip(proofSizes, proofSizes.dropFirst()) {
            let proof = try store.consistencyProof(from: m, to: n)
            try write("consistency/\(m)-\(n).txt", Data(proof.map { $0.base64 + "\n" }.joined().utf8))
        }
        let range = try store.compactRange(size: from)
        try write("compact-range.txt", Data(range.map { "\($0.level) \($0.hash.base64)\n" }.joined().utf8))

        var entries = Data()
        var payloads = Data()
        var exported: UInt64 = 0
        try store.scanRawParts(from: from, to: toSize) { record, parts in
            entries.append(contentsOf: withUnsafeBytes(of: UInt32(record.count).bigEndian, Array.init))
            entries.append(contentsOf: record)
            for part in parts {
                payloads.append(contentsOf: withUnsafeBytes(of: part.position.bigEndian, Array.init))
                payloads.append(part.personal ? 1 : 0)
                payloads.append(contentsOf: part.salt)
                payloads.append(contentsOf: withUnsafeBytes(of: UInt32(part.bytes.count).bigEndian, Array.init))
                payloads.append(contentsOf: part.bytes)
            }
            exported += 1
            if exported % 4_096 == 0 { progress(exported, toSize - from) }
        }
        progress(toSize - from, toSize - from)
        try write("entries.bin", entries)
        try write("payloads.bin", payloads)
        if let verifierKey { try write("log.vkey", Data((verifierKey + "\n").utf8)) }
        let manifest = Manifest(format: format, origin: store.origin, fromSize: from, toSize: toSize,
                                checkpoints: included.map(\.checkpoint.size), files: files)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try encoder.encode(manifest).write(to: URL(fileURLWithPath: directory + "/manifest.json"))
        return manifest
    }
}

// MARK: - Verification

extension AuditBundle {
    /// What a bundle verification established.
    public struct Report: Sendable, Hashable {
        /// Entries checked (to_size − from_size).
        public var entries: UInt64 = 0
        /// Checkpoints whose signature and root were checked.
        public var checkpoints = 0
        /// Consistency proofs checked (including from the trusted checkpoint).
        public var consistencyProofs = 0
        /// Payload parts whose commitment matched.
        public var partsVerified = 0
        /// Parts committed in a record but absent from the bundle (erased), as (position, part).
        public var missingParts: [String] = []
    }

    /// Verifies a bundle offline, never opening a store: file hashes; every checkpoint's signature by `verifier`;
    /// consistency between consecutive checkpoints (and from `trusted`, an earlier checkpoint the auditor kept);
    /// the tree recomputed from the compact range and the entries to every checkpoint's root; every entry's
    /// position, origin and (within the bundle) stream chain; every present part's commitment.
    ///
    /// - Throws: ``StoreError/Code/corrupt`` saying what failed, where.
    public static func verify(directory: String, verifier: NoteVerifier, trusted: SignedCheckpoint? = nil) throws
        -> Report
    {
        func fail(_ message: String) -> StoreError { StoreError(.corrupt, "bundle \(directory): \(message)") }
        func read(_ relative: String) throws -> Data {
            guard let data = FileManager.default.contents(atPath: directory + "/" + relative) else {
                throw fail("\(relative) is missing")
            }
            return data
        }
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: try read("manifest.json")) } catch let e as StoreError {
            throw e
        } catch { throw fail("manifest.json is not a manifest (\(error))") }
        guard manifest.format == format else { throw fail("format \(manifest.format) is not \(format)") }
        for (path, digest) in manifest.files.sorted(by: { $0.key < $1.key }) {
            let actual = SHA256.hash(data: try read(path)).map { String(format: "%02x", $0) }.joined()
            guard actual == digest else { throw fail("\(path) does not match its hash in the manifest") }
        }
        var report = Report()

        // Checkpoints: signatures, origin, sizes.
        var checkpoints = [UInt64: Checkpoint]()
        for size in manifest.checkpoints {
            let text = String(decoding: try read("checkpoints/\(size).note"), as: UTF8.self)
            let signed = try SignedCheckpoint(parsing: text)
            guard signed.checkpoint.size == size, signed.checkpoint.origin == manifest.origin else {
                throw fail("checkpoints/\(size).note is for \(signed.checkpoint.origin) at size \(signed.checkpoint.size)")
            }
            guard !signed.note.valid(for: verifier).isEmpty else {
                throw fail("checkpoint \(size) is not signed by \(verifier.name)+\(String(format: "%08x", verifier.keyID))")
            }
            checkpoints[size] = signed.checkpoint
            report.checkpoints += 1
        }
        guard checkpoints[manifest.toSize] != nil else { throw fail("the checkpoint of to_size is missing") }
        guard manifest.fromSize == 0 || checkpoints[manifest.fromSize] != nil else {
            throw fail("the checkpoint of from_size is missing")
        }

        // Consistency: from the trusted checkpoint, then between consecutive ones.
        let proofSizes = manifest.checkpoints.filter { $0 > 0 }
        for (m, n) in zip(proofSizes, proofSizes.dropFirst()) {
            let lines = String(decoding: try read("consistency/\(m)-\(n).txt"), as: UTF8.self).split(separator: "\n")
            let proof = try lines.map { line in
                guard let h = TreeHash(base64: line) else { throw fail("consistency/\(m)-\(n).txt has a bad line") }
                return h.bytes
            }
            guard MerkleVerification.verifyConsistency(size1: m, size2: n, root1: checkpoints[m]!.root.bytes,
                                                       root2: checkpoints[n]!.root.bytes, proof: proof) else {
                throw fail("the consistency proof from checkpoint \(m) to \(n) does not verify")
            }
            report.consistencyProofs += 1
        }
        if let trusted {
            guard !trusted.note.valid(for: verifier).isEmpty, trusted.checkpoint.origin == manifest.origin else {
                throw fail("the trusted checkpoint is not a checkpoint of \(manifest.origin) signed by the key")
            }
            guard let same = checkpoints[trusted.checkpoint.size] else {
                throw fail("the bundle starts at size \(manifest.fromSize); export it with --from-size "
                    + "\(trusted.checkpoint.size) to prove consistency with the trusted checkpoint")
            }
            guard same.root == trusted.checkpoint.root else {
                throw fail("the log's checkpoint \(trusted.checkpoint.size) has another root than the trusted one: "
                    + "the log was rewritten (split view)")
            }
            report.consistencyProofs += 1
        }

        // The tree from the compact range at from_size and the entries.
        var frontier = Frontier()
        var level = 64
        var start: UInt64 = 0
        for line in String(decoding: try read("compact-range.txt"), as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let l = Int(fields[0]), l >= 0, l < level, let hash = TreeHash(base64: fields[1])
            else {
                throw fail("compact-range.txt has a bad line: \(line)")
            }
            level = l
            frontier.adopt(level: l, hash: hash)
            start += 1 << UInt64(l)
        }
        guard start == manifest.fromSize else { throw fail("the compact range covers \(start) leaves, not from_size") }
        if let c = checkpoints[manifest.fromSize], manifest.fromSize > 0, frontier.root != c.root {
            throw fail("the compact range does not fold to checkpoint \(manifest.fromSize)'s root")
        }
        var parts = try PartReader(try read("payloads.bin"))
        var streams = [String: (version: UInt64, position: UInt64)]()
        let entries = try read("entries.bin")
        try entries.withUnsafeBytes { (buffer) throws in
            var offset = 0
            var position = manifest.fromSize
            while offset < buffer.count {
                guard offset + 4 <= buffer.count else { throw fail("entries.bin ends inside a length") }
                let length = Int(UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                guard offset + 4 + length <= buffer.count else { throw fail("entries.bin ends inside entry \(position)") }
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[(offset + 4)..<(offset + 4 + length)])
                let view: RecordView
                do { view = try RecordView(bytes, position: position) } catch {
                    throw fail("entry \(position): \(error)")
                }
                guard view.position == position else { throw fail("entry \(position) says position \(view.position)") }
                guard view.originBytes.elementsEqual(manifest.origin.utf8) else { throw fail("entry \(position): origin") }
                let stream = view.stream
                if let previous = streams[stream] {
                    guard view.streamVersion == previous.version + 1, view.previousPosition == previous.position else {
                        throw fail("entry \(position), stream \"\(stream)\": version \(view.streamVersion) does not "
                            + "follow version \(previous.version) at \(previous.position)")
                    }
                } else if view.streamVersion == 1, view.previousPosition != nil {
                    throw fail("entry \(position), stream \"\(stream)\": version 1 names a previous position")
                }
                streams[stream] = (view.streamVersion, position)
                frontier.append(TreeHash.leaf(bytes)) { _, _ in }
                if let c = checkpoints[frontier.size], c.root != frontier.root {
                    throw fail("the entries up to \(frontier.size) give root \(frontier.root.hex), not checkpoint "
                        + "\(frontier.size)'s \(c.root.hex)")
                }
                for (personal, commitment) in [(false, view.factsCommitment), (true, view.personalCommitment)] {
                    guard let commitment else { continue }
                    guard let part = try parts.next(position: position, personal: personal) else {
                        // Facts are never erased; a personal part only when the record names its data subject.
                        guard personal, view.metadataValue("subject").flatMap(UUID.init(uuidString:)) != nil else {
                            throw fail("entry \(position): the \(personal ? "personal" : "facts") part is missing and "
                                + "cannot have been erased")
                        }
                        report.missingParts.append("\(position)/personal")
                        continue
                    }
                    let length = personal ? view.personalLength : view.factsLength
                    let digest = part.salt.withUnsafeBytes { s in
                        part.bytes.withUnsafeBytes { StoredPart.commitment(salt: s, part: $0) }
                    }
                    guard part.bytes.count == Int(length), digest.elementsEqual(commitment) else {
                        throw fail("entry \(position): the \(personal ? "personal" : "facts") part does not match its commitment")
                    }
                    report.partsVerified += 1
                }
                offset += 4 + length
                position += 1
            }
            guard position == manifest.toSize else {
                throw fail("entries.bin holds entries up to \(position), not to_size \(manifest.toSize)")
            }
        }
        guard parts.isAtEnd else { throw fail("payloads.bin holds parts of no entry") }
        report.entries = manifest.toSize - manifest.fromSize
        return report
    }

    /// Reads `payloads.bin` in order.
    private struct PartReader {
        let data: [UInt8]
        var offset = 0
        init(_ data: Data) throws { self.data = Array(data) }
        var isAtEnd: Bool { offset == data.count }

        mutating func next(position: UInt64, personal: Bool) throws -> (salt: [UInt8], bytes: [UInt8])? {
            guard offset + 45 <= data.count else { return nil }
            let p = data[offset..<(offset + 8)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard p == position, data[offset + 8] == (personal ? 1 : 0) else { return nil }
            let salt = Array(data[(offset + 9)..<(offset + 41)])
            let length = Int(data[(offset + 41)..<(offset + 45)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard offset + 45 + length <= data.count else {
                throw StoreError(.corrupt, "payloads.bin ends inside the part of entry \(position)")
            }
            let bytes = Array(data[(offset + 45)..<(offset + 45 + length)])
            offset += 45 + length
            return (salt, bytes)
        }
    }
}

extension Store {
    /// The compact range of the tree of `size` leaves: its perfect subtree roots, left to right.
    public func compactRange(size: UInt64) throws -> [(level: Int, hash: TreeHash)] {
        try readTransaction { txn in
            var out = [(level: Int, hash: TreeHash)]()
            var start: UInt64 = 0
            for level in stride(from: 63, through: 0, by: -1) where size & (1 << UInt64(level)) != 0 {
                out.append((level, try storedNode(level, start >> UInt64(level), txn)))
                start += 1 << UInt64(level)
            }
            return out
        }
    }

    /// A payload part as stored for an auditor: decoded bytes with their salt.
    public struct RawPart: Sendable {
        /// The event's position.
        public var position: UInt64
        /// Whether it is the personal part.
        public var personal: Bool
        /// The 32-byte salt.
        public var salt: [UInt8]
        /// The part's bytes.
        public var bytes: [UInt8]
    }

    /// Calls `body` with each record's bytes in [from, to) and its present parts, decoded, with their salts.
    public func scanRawParts(from: UInt64, to: UInt64, _ body: ([UInt8], [RawPart]) throws -> Void) throws {
        var next = from
        while next < to {
            let pageEnd = min(to, next + UInt64(Self.readPageSize))
            try readTransaction { txn in
                try txn.withCursor(dbs.records) { cursor in
                    var entry = try cursor.seek(integer: next)
                    while let e = entry, e.key.nativeUInt64 < pageEnd {
                        let position = e.key.nativeUInt64
                        let view = try RecordView(e.value, position: position)
                        var parts = [RawPart]()
                        for (personal, length) in [(false, view.factsLength), (true, view.personalLength)]
                        where !personal || view.personalCommitment != nil {
                            var buffer = [UInt8]()
                            guard let salt = try decodeStoredPart(position, personal: personal, length: length,
                                                                  into: &buffer, txn) else { continue }
                            parts.append(RawPart(position: position, personal: personal, salt: salt, bytes: buffer))
                        }
                        try body(Array(e.value), parts)
                        next = position + 1
                        entry = try cursor.get(.next)
                    }
                }
            }
            guard next == pageEnd else {
                throw StoreError(.corrupt, "position \(next) is missing from the log", position: next)
            }
        }
    }
}
