import EventStore
import Foundation
import HTTPTypes
import Ledger
import NIOCore

/// The raw append route's request and answer, shared by the route and by ``RawAppendFastPath``:
/// `{"expectedVersion": …, "events": [{"type", "id"?, "facts"?, "metadata"?, "actor"?}]}` in, positions out.
enum RawAppendBody {
    /// Refuses a domain stream: those are written by the command handlers (facts v1), never raw, since a raw event
    /// there would be one the aggregates and projections cannot read.
    static func check(stream: String) throws(APIError) {
        guard !Routes.domainCategories.contains(EventRecord.category(of: stream)) else {
            throw APIError(.unprocessableContent, "domain_stream", "\(stream) is a domain stream; send a command to "
                + "/commands/{type}, or import exact exports with `ledgerd import --events`")
        }
    }

    /// The append a body asks for, each event's metadata given the caller's principal.
    static func parse(_ buffer: ByteBuffer, stream: String, principal: String) throws(APIError) -> StreamAppend {
        let parsed: JSONValue
        do { parsed = try JSONValue(parsing: buffer.readableBytesView) } catch {
            throw APIError(.badRequest, "bad_field", "the body is not JSON: \(error)")
        }
        guard case .object(let top) = parsed else {
            throw APIError(.badRequest, "bad_field", "the body must be a JSON object {expectedVersion, events}")
        }
        let expected: ExpectedVersion
        switch top["expectedVersion"] {
        case nil, .string("any")?: expected = .any
        case .string("noStream")?: expected = .noStream
        case .string("streamExists")?: expected = .streamExists
        case .number(let n)? where n >= 0 && n < 9e15 && n.rounded() == n: expected = n == 0 ? .noStream : .exact(UInt64(n))
        default:
            throw APIError(.badRequest, "bad_field", "expectedVersion must be a version, \"any\", \"noStream\" or "
                + "\"streamExists\"", details: ["field": "expectedVersion"])
        }
        guard case .array(let items)? = top["events"], !items.isEmpty else {
            throw APIError(.badRequest, "bad_field", "events must be a non-empty array", details: ["field": "events"])
        }
        var events = [EventData]()
        events.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard case .object(let e) = item, case .string(let type)? = e["type"] else {
                throw APIError(.badRequest, "bad_field", "events[\(i)].type is required",
                               details: ["field": .string("events[\(i)].type")])
            }
            var id: UUID?
            if case .string(let text)? = e["id"] {
                guard let parsed = UUID(uuidString: text) else {
                    throw APIError(.badRequest, "bad_field", "events[\(i)].id must be a UUID",
                                   details: ["field": .string("events[\(i)].id")])
                }
                id = parsed
            }
            // The bytes JSONEncoder (.sortedKeys) wrote before, so a retry of an earlier append still matches.
            let facts = (e["facts"] ?? .object([:])).jsonText(escapingSlashes: true)
            var metadata = Metadata()
            if case .object(let m)? = e["metadata"] {
                for (k, v) in m { if case .string(let s) = v { metadata[k] = s } }
            }
            metadata["principal"] = principal
            var actor = ""
            if case .string(let a)? = e["actor"] { actor = a }
            // Without an id the store gives a UUIDv7, so the event-id index appends at its tail.
            events.append(EventData(id: id, type: type, facts: facts, actor: actor, metadata: metadata))
        }
        return StreamAppend(stream: stream, expected: expected, events: events)
    }

    /// The answer to an append: 201 with the positions, or 200 for a retry answered with the original ones; the
    /// JSON text `{"positions":[…],"retry":…,"streamVersions":{…}}` (keys sorted, as every JSON answer), written
    /// without building a value, since every raw append is answered so.
    static func answer(_ result: AppendResult) -> (HTTPResponse.Status, [UInt8]) {
        var out = [UInt8]()
        out.reserveCapacity(80)
        out += #"{"positions":["#.utf8
        for (i, position) in result.positions.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += String(position).utf8
        }
        out += #"],"retry":"#.utf8
        out += (result.wasRetry ? "true" : "false").utf8
        out += #","streamVersions":{"#.utf8
        for (i, (stream, version)) in result.streamVersions.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONValue.appendString(stream, to: &out)
            out.append(UInt8(ascii: ":"))
            out += String(version).utf8
        }
        out += "}}".utf8
        return (result.wasRetry ? .ok : .created, out)
    }
}
