import Crypto
import EventStore
import Foundation
import Testing

/// The record layout against golden records written by an independent Python encoder
/// (`fixtures/records/make_golden.py`).
@Suite("Record format")
struct RecordFormatTests {
    struct Golden: Decodable {
        var name: String
        var leaf_type: UInt8
        var origin: String
        var position: UInt64
        var recorded_at: Int64
        var stream: String
        var stream_version: UInt64
        var previous_position: UInt64?
        var event_type: String
        var event_id: UUID
        var actor: String
        var correlation_id: UUID
        var causation_id: UUID
        var metadata: [String: String]
        var facts: String
        var facts_salt: String
        var personal: String?
        var personal_salt: String?
        var record_hex: String
        var leaf_hash_hex: String
    }

    static func goldens() throws -> [Golden] {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixturesDirectory + "/records/golden-records.json"))
        return try JSONDecoder().decode([Golden].self, from: data)
    }

    static func commitment(_ saltHex: String, _ part: String) -> [UInt8] {
        Array(SHA256.hash(data: bytes(hex: saltHex) + Array(part.utf8)))
    }

    @Test("golden records decode to their fields, re-encode to the same bytes, and hash to the leaf")
    func goldenRecords() throws {
        let goldens = try Self.goldens()
        #expect(goldens.count == 3)
        for g in goldens {
            let stored = bytes(hex: g.record_hex)
            let decoded = try EventRecord(bytes: stored)
            #expect(decoded.leafType.rawValue == g.leaf_type, "\(g.name)")
            #expect(decoded.origin == g.origin)
            #expect(decoded.position == g.position)
            #expect(decoded.recordedAt == g.recorded_at)
            #expect(decoded.stream == g.stream)
            #expect(decoded.streamVersion == g.stream_version)
            #expect(decoded.previousPosition == g.previous_position)
            #expect(decoded.eventType == g.event_type)
            #expect(decoded.eventID == g.event_id)
            #expect(decoded.actor == g.actor)
            #expect(decoded.correlationID == g.correlation_id)
            #expect(decoded.causationID == (g.causation_id.uuidString.hasPrefix("00000000-0000") ? nil : g.causation_id))
            #expect(decoded.metadata == Metadata(g.metadata))
            #expect(decoded.factsCommitment == Self.commitment(g.facts_salt, g.facts))
            #expect(decoded.factsLength == UInt32(g.facts.utf8.count))
            if let personal = g.personal, let salt = g.personal_salt {
                #expect(decoded.personalCommitment == Self.commitment(salt, personal))
                #expect(decoded.personalLength == UInt32(personal.utf8.count))
            } else {
                #expect(decoded.personalCommitment == nil)
                #expect(decoded.personalLength == 0)
            }

            let rebuilt = EventRecord(
                leafType: LeafType(rawValue: g.leaf_type)!, origin: g.origin, position: g.position,
                recordedAt: g.recorded_at, stream: g.stream, streamVersion: g.stream_version,
                previousPosition: g.previous_position, eventType: g.event_type, eventID: g.event_id, actor: g.actor,
                correlationID: g.correlation_id, causationID: decoded.causationID, metadata: Metadata(g.metadata),
                factsCommitment: Self.commitment(g.facts_salt, g.facts), factsLength: UInt32(g.facts.utf8.count),
                personalCommitment: g.personal.map { Self.commitment(g.personal_salt!, $0) },
                personalLength: UInt32(g.personal?.utf8.count ?? 0))
            #expect(try rebuilt.encoded() == stored, "\(g.name): encoding differs from the golden bytes")
            #expect(hex(SHA256.hash(data: [0x00] + stored)) == g.leaf_hash_hex)
            try stored.withUnsafeBytes { buffer in
                let view = try RecordView(buffer)
                let viewed = try view.record()
                #expect(viewed == decoded)
                #expect(view.personalLength == decoded.personalLength)
            }
        }
    }

    @Test("a record of an unknown format, leaf type or commitment algorithm, or with trailing bytes, is refused")
    func refusesMalformedRecords() throws {
        let stored = bytes(hex: try Self.goldens()[0].record_hex)
        var badFormat = stored
        badFormat[0] = 2
        var badLeaf = stored
        badLeaf[1] = 9
        let trailing = stored + [0]
        let truncated = Array(stored.dropLast(3))
        for (bytes, what) in [(badFormat, "format 2"), (badLeaf, "leaf type 9"), (trailing, "trailing bytes"),
                              (truncated, "personal length")] {
            let error = #expect(throws: StoreError.self) { try EventRecord(bytes: bytes) }
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains(what) == true, "\(error?.message ?? "") should name \(what)")
            let viewError = #expect(throws: StoreError.self) {
                try bytes.withUnsafeBytes { _ = try RecordView($0) }
            }
            #expect(viewError?.code == .corrupt)
        }
    }

    @Test("fields that do not fit their length prefix are refused when encoding")
    func refusesOversizedFields() {
        let record = EventRecord(
            leafType: .event, origin: "o", position: 0, recordedAt: 0, stream: String(repeating: "s", count: 256),
            streamVersion: 1, previousPosition: nil, eventType: "T", eventID: UUID(), actor: "", correlationID: UUID(),
            causationID: nil, metadata: Metadata(), factsCommitment: [UInt8](repeating: 0, count: 32), factsLength: 0,
            personalCommitment: nil, personalLength: 0)
        let error = #expect(throws: StoreError.self) { try record.encoded() }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("stream name") == true)
    }

    @Test("metadata encodes canonically: keys sorted bytewise whatever the insertion order")
    func canonicalMetadata() throws {
        var a = Metadata()
        a["unit"] = "SNV"
        a["principal"] = "clerk01"
        a["role"] = "clerk"
        let b = Metadata(["role": "clerk", "principal": "clerk01", "unit": "SNV"])
        #expect(a == b)
        #expect(a.entries.map(\.key) == ["principal", "role", "unit"])
        a["role"] = nil
        #expect(a.entries.map(\.key) == ["principal", "unit"])

        var bad = Metadata()
        bad["Bad Key"] = "x"
        let record = EventRecord(
            leafType: .event, origin: "o", position: 0, recordedAt: 0, stream: "s", streamVersion: 1,
            previousPosition: nil, eventType: "T", eventID: UUID(), actor: "", correlationID: UUID(), causationID: nil,
            metadata: bad, factsCommitment: [UInt8](repeating: 0, count: 32), factsLength: 0, personalCommitment: nil,
            personalLength: 0)
        let error = #expect(throws: StoreError.self) { try record.encoded() }
        #expect(error?.message.contains("Bad Key") == true)
    }

    @Test("the category is the stream name before its first dash")
    func categories() {
        #expect(EventRecord.category(of: "dossier-SNV-1") == "dossier")
        #expect(EventRecord.category(of: "roster") == "roster")
    }
}
