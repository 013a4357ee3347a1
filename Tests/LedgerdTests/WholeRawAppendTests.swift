import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import Workload
@testable import ledgerd

/// The raw-append recognizer against NIO's HTTP/1.1 decoder: whatever it accepts, the decoder must read as one
/// request with the same path and body and nothing else, or the bytes the daemon answers itself and those it passes
/// on could be framed differently; and what it waits for more of, the decoder must not have read whole.
@Suite struct WholeRawAppendTests {
    static let body = #"{"events":[{"type":"Fast.v1","facts":{"n":1}}]}"#

    static func request(stream: String = "fast-1", head: String = "Host: ledgerd\r\nContent-Type: application/json\r\n",
                        length: Int? = nil, body: String = body) -> [UInt8] {
        Array(("POST /streams/\(stream)/events HTTP/1.1\r\n\(head)Content-Length: \(length ?? body.utf8.count)\r\n\r\n"
            + body).utf8)
    }

    static func recognition(_ bytes: [UInt8]) -> WholeRawAppend.Recognition {
        bytes.withUnsafeBytes { WholeRawAppend.recognize($0, maxBody: 64 << 10) }
    }

    static func recognize(_ bytes: [UInt8]) -> WholeRawAppend? {
        if case .whole(let request) = recognition(bytes) { request } else { nil }
    }

    /// What NIO's decoder reads from `bytes`: the requests' heads, bodies and ends, and whether it refused them.
    static func decode(_ bytes: [UInt8]) throws -> (heads: [HTTPRequestHead], bodies: [[UInt8]], ends: Int, failed: Bool) {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .fireError)))
        var failed = false
        do { try channel.writeInbound(ByteBuffer(bytes: bytes)) } catch { failed = true }
        var heads = [HTTPRequestHead](), bodies = [[UInt8]](), ends = 0
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
            switch part {
            case .head(let head): heads.append(head); bodies.append([])
            case .body(let chunk): bodies[bodies.count - 1] += chunk.readableBytesView
            case .end: ends += 1
            }
        }
        _ = try? channel.finish()
        return (heads, bodies, ends, failed)
    }

    /// The property: accepted means NIO reads exactly this one request, whole; the start of one (waited for) means
    /// NIO has not read a whole request from it either.
    static func agrees(_ bytes: [UInt8]) throws -> Bool {
        let found: WholeRawAppend
        switch recognition(bytes) {
        case .other: return true
        case .incomplete: return try decode(bytes).ends == 0
        case .whole(let request): found = request
        }
        let decoded = try decode(bytes)
        return !decoded.failed && decoded.heads.count == 1 && decoded.ends == 1 && decoded.heads[0].method == .POST
            && decoded.heads[0].version == .http1_1 && decoded.heads[0].uri == "/streams/\(found.stream)/events"
            && decoded.bodies[0] == Array(bytes[found.bodyStart...]) && found.bodyLength == decoded.bodies[0].count
    }

    @Test("plain raw appends are recognized: the stream and the body's place")
    func recognized() throws {
        let plain = Self.request()
        let found = try #require(Self.recognize(plain))
        #expect(found.stream == "fast-1" && found.bodyLength == Self.body.utf8.count)
        #expect(Array(plain[found.bodyStart...]) == Array(Self.body.utf8))
        // Header names in any case, spaces and tabs around values, empty values, leading zeros in the length.
        for head in ["", "HOST: x\r\n", "host:x\r\n", "X-Empty:\r\n", "Host: \t ledgerd \t\r\n", "content-LENGTH-x: 9\r\n"] {
            #expect(Self.recognize(Self.request(head: head)) != nil, "\(head)")
        }
        let zeros = Array("POST /streams/a/events HTTP/1.1\r\nContent-Length: 002\r\n\r\n{}".utf8)
        #expect(Self.recognize(zeros)?.bodyLength == 2)
        for bytes in [plain, zeros] { #expect(try Self.agrees(bytes)) }
    }

    @Test("every start of a raw append is waited for; one byte more than its length is not")
    func incomplete() throws {
        let plain = Self.request(head: "Host: ledgerd\r\nX-Tab:\tv \r\n")
        for end in 0..<plain.count {
            #expect(Self.recognition(Array(plain[..<end])) == .incomplete, "\(end)")
        }
        #expect(Self.recognize(plain) != nil)
        #expect(Self.recognition(plain + Array("P".utf8)) == .other)
        #expect(Self.recognition(Self.request(length: Self.body.utf8.count + 10)) == .incomplete)
    }

    @Test("anything else is left to NIO's decoder")
    func refused() throws {
        let body = Self.body
        let cases: [String: [UInt8]] = [
            "transfer-encoding": Self.request(head: "Transfer-Encoding: chunked\r\n"),
            "connection": Self.request(head: "Connection: close\r\n"),
            "expect": Self.request(head: "Expect: 100-continue\r\n"),
            "upgrade": Self.request(head: "Upgrade: h2c\r\n"),
            "two lengths": Self.request(head: "Content-Length: \(body.utf8.count)\r\n"),
            "tab after the length": Array("POST /streams/a/events HTTP/1.1\r\nContent-Length: 2\t\r\n\r\n{}".utf8),
            "tab before the length": Array("POST /streams/a/events HTTP/1.1\r\nContent-Length:\t2\r\n\r\n{}".utf8),
            "length list": Array("POST /streams/a/events HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\n{}".utf8),
            "signed length": Array("POST /streams/a/events HTTP/1.1\r\nContent-Length: +2\r\n\r\n{}".utf8),
            "no length": Array("POST /streams/a/events HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
            "zero length": Self.request(length: 0, body: ""),
            "long body": Self.request(length: body.utf8.count - 1),
            "two requests": Self.request() + Self.request(),
            "folded header": Self.request(head: "X-A: a\r\n b\r\n"),
            "space before colon": Self.request(head: "Host : x\r\n"),
            "bare LF": Array("POST /streams/a/events HTTP/1.1\nContent-Length: 2\n\n{}".utf8),
            "HTTP/1.0": Array("POST /streams/a/events HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}".utf8),
            "lowercase method": Array("post /streams/a/events HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}".utf8),
            "escaped stream": Self.request(stream: "a%2Fb"),
            "query": Array("POST /streams/a/events?x=1 HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}".utf8),
            "deeper path": Self.request(stream: "a/b"),
            "empty stream": Self.request(stream: ""),
            "non-ASCII stream": Self.request(stream: "hồ-sơ"),
            "non-ASCII value": Self.request(head: "X-Name: Nguyễn\r\n"),
            "control byte": Self.request(head: "X-A: a\u{1}b\r\n"),
            "long head": Self.request(head: "X-Pad: \(String(repeating: "p", count: 5_000))\r\n"),
            "big body": Self.request(body: "{\"pad\":\"\(String(repeating: "p", count: 70_000))\"}"),
        ]
        for (name, bytes) in cases {
            #expect(Self.recognition(bytes) == .other, "\(name)")
        }
    }

    @Test("50 000 random edits of a raw append: whatever is recognized, NIO's decoder reads the same; what is waited for, it has not read whole")
    func agreesWithNIO() throws {
        var random = SplitMix64(seed: 2026)
        let alphabet = Array(" \t\r\n:/%?#+,;=-_.0123456789aAzZ\u{7F}".utf8) + [0x00, 0x80, 0xC3, 0xFF]
        let seeds = [Self.request(), Self.request(head: ""), Self.request(head: "transfer-encoding: x\r\n")]
        var recognizedEdits = 0, waitedEdits = 0
        for _ in 0..<50_000 {
            var bytes = seeds[random.int(0...seeds.count - 1)]
            for _ in 0..<random.int(1...3) {
                // Edits fall in the head mostly, where the framing is decided.
                let at = random.int(0...min(bytes.count - 1, 110))
                let byte = alphabet[random.int(0...alphabet.count - 1)]
                switch random.int(0...2) {
                case 0: bytes[at] = byte
                case 1: bytes.insert(byte, at: at)
                default: bytes.remove(at: at)
                }
            }
            // A quarter are cut short, as a read that ends mid-request.
            if random.int(0...3) == 0 { bytes = Array(bytes.prefix(random.int(0...bytes.count))) }
            switch Self.recognition(bytes) {
            case .whole: recognizedEdits += 1
            case .incomplete: waitedEdits += 1
            case .other: break
            }
            #expect(try Self.agrees(bytes), "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
        }
        // The edits reach every outcome: some are still recognized or waited for, most are not.
        #expect(recognizedEdits > 200 && waitedEdits > 200 && recognizedEdits + waitedEdits < 40_000,
                "\(recognizedEdits) whole, \(waitedEdits) waited for")
    }
}
