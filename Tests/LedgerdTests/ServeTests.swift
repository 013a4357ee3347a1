import EventStore
import Foundation
import Ledger
import Projections
import TestSupport
import Testing
@testable import ledgerd

#if canImport(Glibc)
import Glibc
#endif

/// A real daemon on a real socket: a child process serving a store in a temporary directory.
final class RunningDaemon: @unchecked Sendable {
    let dir: String
    let socket: String
    let process = Process()
    let output = Pipe()

    /// Creates a store with the first `lines` commands of the sample and serves it; `roles` go into the config, and
    /// `tables` after them.
    init(lines: Int = 400, roles: [UInt32: String] = [:], tables: String = "", arguments: [String] = []) async throws {
        dir = temporaryPath("serve")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        socket = dir + "/ledgerd.sock"
        let (status, _, err) = try await ledgerd("init", "--store", dir + "/store", "--origin", "serve.example/log")
        guard status == 0 else { throw UnixHTTPClient.Failure(description: err) }
        var config = try String(contentsOfFile: dir + "/store.toml", encoding: .utf8)
        config = config.replacingOccurrences(of: "group = \"ledger\"", with: "group = \"nogroup\"")
        for (uid, role) in roles { config += "\(uid) = \"\(role)\"\n" }
        config += tables
        try config.write(toFile: dir + "/store.toml", atomically: true, encoding: .utf8)
        let sample = try String(contentsOf: fixtureURL("sample/commands.ndjson"), encoding: .utf8)
        try sample.split(separator: "\n").prefix(lines).joined(separator: "\n")
            .write(toFile: dir + "/part.ndjson", atomically: true, encoding: .utf8)
        _ = try await ledgerd("import", "--store", dir + "/store", "--commands", dir + "/part.ndjson")
        process.executableURL = builtExecutable("ledgerd")
        process.arguments = ["serve", "--store", dir + "/store", "--socket", socket] + arguments
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while !((try? client.probe()) ?? false) {
            guard Date() < deadline, process.isRunning else { throw UnixHTTPClient.Failure(description: "no socket") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    var client: UnixHTTPClient { UnixHTTPClient(socketPath: socket) }

    func call(_ method: String, _ path: String, _ body: String? = nil, headers: [(String, String)] = [])
        throws -> UnixHTTPClient.Response
    {
        try client.request(method, path, headers: headers, body: body.map { Data($0.utf8) })
    }

    func json(_ response: UnixHTTPClient.Response) throws -> [String: JSONValue] {
        guard case .object(let o) = try JSONDecoder().decode(JSONValue.self, from: response.body) else { return [:] }
        return o
    }

    /// SIGTERM, then the exit status; a daemon still running after 30 s is killed and reported as -1.
    func stop() async -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning {
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return -1
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: dir)
    }
}

@Suite("ledgerd serve", .serialized)
struct ServeTests {
    static func command(_ id: UUID, dossier: UUID, name: String = "Lê Văn Tám") -> String {
        """
        {"commandId":"\(id)","actor":{"staff":"portal","role":"applicant"},"occurredAt":"2020-04-03T09:00:00+07:00",
         "body":{"dossier":"\(dossier)","procedure":"1.001193","agency":"HBC","channel":"online",
                 "applicantName":"\(name)","applicantId":"079200000001"}}
        """
    }

    @Test("commands: 201, a retry 200 with the same positions, 422, 400 naming the field, 404, 409, 413")
    func commands() async throws {
        let d = try await RunningDaemon()
        let health = try d.call("GET", "/health")
        #expect(health.status == 200)
        let id = UUID(), dossier = UUID()
        let created = try d.call("POST", "/commands/dossier.submit", Self.command(id, dossier: dossier))
        #expect(created.status == 201, "\(created.text)")
        let retried = try d.call("POST", "/commands/dossier.submit", Self.command(id, dossier: dossier))
        let (retriedPositions, createdPositions) = (try d.json(retried)["positions"], try d.json(created)["positions"])
        #expect(retried.status == 200 && retriedPositions == createdPositions)
        let again = try d.call("POST", "/commands/dossier.submit", Self.command(UUID(), dossier: dossier))
        #expect(again.status == 422 && again.text.contains("\"code\":\"invalid_state\""))
        let missing = try d.call("POST", "/commands/dossier.submit",
                                 #"{"commandId":"\#(UUID())","actor":{"staff":"p","role":"applicant"},"body":{"dossier":"\#(UUID())"}}"#)
        #expect(missing.status == 400 && missing.text.contains("\"field\":\"body.procedure\""))
        #expect(try d.call("POST", "/commands/dossier.submit", "{").status == 400)
        let unknown = try d.call("POST", "/commands/dossier.fly", Self.command(UUID(), dossier: UUID()))
        #expect(unknown.status == 404 && unknown.text.contains("not_found"))
        let noRoute = try d.call("GET", "/nowhere")
        #expect(noRoute.status == 404 && noRoute.text.contains("no_route"))
        let raw = #"{"expectedVersion":"noStream","events":[{"type":"Note.v1","facts":{"n":1}}]}"#
        let appended = try d.call("POST", "/streams/note-1/events", raw)
        #expect(appended.status == 201)
        // An event sent without an id gets a UUIDv7 from the store (time-ordered: the id index appends at its tail).
        let stored = try d.call("GET", "/streams/note-1/events").text
        let idRange = try #require(stored.range(of: #""id":""#))
        #expect(stored[idRange.upperBound...].dropFirst(14).first == "7", "\(stored.prefix(300))")
        let conflict = try d.call("POST", "/streams/note-1/events", raw)
        #expect(conflict.status == 409 && conflict.text.contains("\"actualVersion\":1"))
        let huge = try d.client.request("POST", "/commands/dossier.submit",
                                        body: Data(repeating: 0x61, count: (4 << 20) + 65_536))
        #expect(huge.status == 413)
        // Hostile numbers and raw events on domain streams are refused; the daemon keeps serving.
        #expect(try d.call("GET", "/queues?agency=HBC&limit=18446744073709551615").status == 200)
        #expect(try d.call("GET", "/subscribe", headers: [("Last-Event-ID", "18446744073709551615")]).status == 400)
        #expect(try d.call("POST", "/streams/note-2/events", #"{"expectedVersion":1e20,"events":[{"type":"N.v1"}]}"#).status == 400)
        let domain = try d.call("POST", "/streams/eod-HBC-20200401/events", #"{"events":[{"type":"Note.v1","facts":{}}]}"#)
        #expect(domain.status == 422 && domain.text.contains("domain_stream"))
        let reused = try d.call("POST", "/commands/dossier.withdraw", #"{"commandId":"\#(id)","actor":{"staff":"x","role":"clerk"},"body":{"dossier":"\#(dossier)","reason":"r"}}"#)
        #expect(reused.status == 409 && reused.text.contains("idempotency_conflict"), "\(reused.text)")
        #expect(try d.call("GET", "/health").status == 200)
        let metrics = try d.call("GET", "/metrics").text
        #expect(metrics.contains(#"ledgerd_request_duration_seconds_count{route="/commands/{type}",method="POST",status="201"} 1"#)
                || metrics.contains(#"route="/commands/{type}""#), "\(metrics.prefix(400))")
        for name in ["ledgerd_commits", "ledgerd_events_appended", "ledgerd_commit_seconds_mean", "ledgerd_writer_queue_depth",
                     "ledgerd_map_used_bytes", "ledgerd_reader_slots_used", #"ledgerd_projection_lag{projection="dossiers"}"#] {
            #expect(metrics.contains(name), "missing \(name)")
        }
        #expect(await d.stop() == 0)
    }

    @Test("queries wait for the position they name; pages follow the cursor; the OpenAPI paths are the router's")
    func queries() async throws {
        let d = try await RunningDaemon(lines: 1_500)
        let created = try d.json(try d.call("POST", "/commands/dossier.submit",
                                            Self.command(UUID(), dossier: UUID(), name: "Đỗ Thị Hoa")))
        guard case .array(let positions)? = created["positions"], case .number(let p)? = positions.first else {
            Issue.record("no position"); return
        }
        var seen = Set<String>()
        var cursor = ""
        var pages = 0
        repeat {
            let page = try d.call("GET", "/queues?agency=HBC&limit=7&position=\(Int(p))" + (cursor.isEmpty ? "" : "&cursor=\(cursor)"))
            #expect(page.status == 200)
            let o = try d.json(page)
            guard case .array(let items)? = o["items"] else { break }
            for case .object(let item) in items { if case .string(let id)? = item["dossier"] { seen.insert(id) } }
            if case .string(let next)? = o["next"] { cursor = next } else { cursor = "" }
            pages += 1
        } while !cursor.isEmpty && pages < 100
        #expect(pages > 1 && seen.count > 7)
        let names = try d.call("GET", "/queues?agency=HBC&tab=new&limit=500&position=\(Int(p))").text
        #expect(names.contains("Đỗ Thị Hoa"))
        #expect(try d.call("GET", "/queues?agency=HBC&tab=sideways").status == 400)
        #expect(try d.call("GET", "/statistics/timeliness?agency=HBC&period=2020-04").status == 200)
        #expect(try d.call("GET", "/statistics/timeliness?agency=HBC&period=last-week").status == 400)
        #expect(try d.call("GET", "/attendance/unit-days?agency=HBC&period=0001-01-01..9999-12-31").status == 400)

        // The description served and the router's table list the same paths and methods.
        let yaml = try d.call("GET", "/openapi.yaml").text
        var described = Set<String>()
        var path = ""
        for line in yaml.split(separator: "\n") {
            if line.hasPrefix("  /"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()) }
            for method in ["get", "post", "put", "delete", "patch"] where line == "    \(method):" {
                described.insert("\(method.uppercased()) \(path)")
            }
        }
        let (_, routes, _) = try await ledgerd("serve", "--store", "unused", "--list-routes")
        #expect(described == Set(routes.split(separator: "\n").map(String.init)))
        #expect(await d.stop() == 0)
    }

    @Test("SSE: ids are positions; a resume with Last-Event-ID continues after it, without gap or duplicate, under appends")
    func events() async throws {
        let d = try await RunningDaemon(lines: 300)
        let writer = Task.detached {
            for i in 0..<40 {
                _ = try? d.call("POST", "/streams/tick-\(i % 3)/events", #"{"events":[{"type":"Tick.v1","facts":{"i":\#(i)}}]}"#)
            }
        }
        func ids(_ response: UnixHTTPClient.Response) -> [UInt64] {
            response.text.split(separator: "\n").compactMap { $0.hasPrefix("id: ") ? UInt64($0.dropFirst(4)) : nil }
        }
        func enough(_ n: Int) -> (Data) -> Bool {
            { String(decoding: $0, as: UTF8.self).components(separatedBy: "\nid: ").count > n }
        }
        let first = ids(try d.client.request("GET", "/subscribe?from=250", stop: enough(30)))
        let last = try #require(first.last)
        let resumed = ids(try d.client.request("GET", "/subscribe", headers: [("Last-Event-ID", "\(last)")],
                                               stop: enough(30)))
        #expect(first == Array(250..<(250 + UInt64(first.count))))
        #expect(resumed.first == last + 1 && resumed == Array((last + 1)..<(last + 1 + UInt64(resumed.count))))
        await writer.value
        #expect(await d.stop() == 0)
    }

    @Test("a second daemon on the same store fails and leaves the first serving; SIGTERM with a stream open exits 0")
    func lifecycle() async throws {
        let d = try await RunningDaemon(lines: 100)
        let (status, _, err) = try await ledgerd("serve", "--store", d.dir + "/store", "--socket", d.dir + "/second.sock")
        #expect(status != 0 && err.contains("store_locked"))
        let same = try await ledgerd("serve", "--store", d.dir + "/other", "--socket", d.socket)
        #expect(same.0 != 0)
        #expect(try d.call("GET", "/health").status == 200)
        let stream = Task.detached { try? d.client.request("GET", "/subscribe?from=0", stop: { _ in false }) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(await d.stop() == 0)
        _ = await stream.value
        #expect(!FileManager.default.fileExists(atPath: d.socket), "the socket is removed on exit")
    }

    @Test("roles from the peer's uid: an auditor reads but cannot command or append; an unmapped uid gets 403; SIGHUP reloads the map")
    func roles() async throws {
        let d = try await RunningDaemon(lines: 100, roles: [65534: "auditor"])
        func asUser(_ uid: Int, _ arguments: String...) async throws -> (Int32, String, String) {
            try await runProcess(URL(fileURLWithPath: "/usr/bin/setpriv"),
                                 ["--reuid", "\(uid)", "--regid", "65534", "--clear-groups",
                                  builtExecutable("ledgerd").path, "call", "--socket", d.socket] + arguments)
        }
        let read = try await asUser(65534, "GET", "/events?limit=2")
        #expect(read.0 == 0 && read.1.contains("\"items\""), "\(read.2)")
        let write = try await asUser(65534, "--data", Self.command(UUID(), dossier: UUID()), "POST", "/commands/dossier.submit")
        #expect(write.0 != 0 && write.2.contains("HTTP 403") && write.2.contains("auditor"))
        let notAdmin = try await asUser(65534, "POST", "/admin/checkpoints")
        #expect(notAdmin.0 != 0 && notAdmin.2.contains("HTTP 403"))
        let append = try await asUser(65534, "--data", #"{"events":[{"type":"X.v1"}]}"#, "POST", "/streams/raw-1/events")
        #expect(append.0 != 0 && append.2.contains("HTTP 403") && append.2.contains("auditor"), "\(append.2)")
        let stranger = try await asUser(65533, "GET", "/health")
        #expect(stranger.0 != 0 && stranger.2.contains("HTTP 403") && stranger.2.contains("no role"))

        // SIGHUP: the config is read again; the stranger becomes an analyst, the auditor loses its role.
        let path = d.dir + "/store.toml"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        try original.replacingOccurrences(of: "65534 = \"auditor\"\n", with: "65533 = \"analyst\"\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        kill(d.process.processIdentifier, SIGHUP)
        var reloaded = false
        for _ in 0..<50 where !reloaded {
            try await Task.sleep(for: .milliseconds(100))
            reloaded = try await asUser(65533, "GET", "/events?limit=1").0 == 0
        }
        #expect(reloaded, "the analyst's role took effect after SIGHUP")
        let former = try await asUser(65534, "GET", "/events?limit=2")
        #expect(former.0 != 0 && former.2.contains("no role"), "\(former.2)")
        // A config naming an unknown role: logged, the map in force kept, the daemon still serving.
        try original.replacingOccurrences(of: "65534 = \"auditor\"\n", with: "65533 = \"boss\"\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        kill(d.process.processIdentifier, SIGHUP)
        try await Task.sleep(for: .milliseconds(500))
        #expect(d.process.isRunning)
        #expect(try await asUser(65533, "GET", "/events?limit=1").0 == 0)
        #expect(await d.stop() == 0)
        let log = String(decoding: d.output.fileHandleForReading.availableData, as: UTF8.self)
        #expect(log.contains("uid 65533 needs one of") && log.contains("the role map in force is kept"), "\(log)")
    }

    @Test("admin routes: system checks once, a signed checkpoint, an erasure the queue reflects, a backup, a rebuild")
    func admin() async throws {
        let d = try await RunningDaemon(lines: 1_200)
        let at = #"{"at":"2020-04-06T18:00:00+07:00"}"#
        let first = try d.json(try d.call("POST", "/admin/checks", at))
        let second = try d.json(try d.call("POST", "/admin/checks", at))
        #expect(second["endOfDay"] == 0 && second["deadlines"] == 0, "a check sent twice records nothing new")
        #expect(first["refused"] == .array([]))
        for agency in ["HBC", "SNV", "UBND-T"] {
            let days = try d.json(try d.call("GET", "/streams/eod-\(agency)-20200406/events"))
            if case .array(let items)? = days["items"] { #expect(!items.isEmpty, "\(agency) closed 6 April") }
        }
        let signed = try d.call("POST", "/admin/checkpoints")
        let latest = try d.call("GET", "/checkpoint").text
        #expect(signed.status == 201 && latest == signed.text)

        let subject = UUID(), dossier = UUID()
        var body = Self.command(UUID(), dossier: dossier, name: "Vũ Thị Erase")
        body = body.replacingOccurrences(of: #""applicantId":"079200000001""#,
                                         with: #""applicantId":"079200000001","subject":"\#(subject)""#)
        #expect(try d.call("POST", "/commands/dossier.submit", body).status == 201)
        let erased = try d.json(try d.call("POST", "/admin/erasures", #"{"subject":"\#(subject)","reason":"Decree 13 request"}"#))
        guard case .number(let position)? = erased["position"] else { Issue.record("no erasure position"); return }
        let queue = try d.call("GET", "/queues?agency=HBC&tab=new&limit=500&position=\(Int(position))").text
        #expect(queue.contains(dossier.uuidString.lowercased()) && !queue.contains("Vũ Thị Erase"))

        let backup = d.dir + "/backup"
        #expect(try d.call("POST", "/admin/backups", #"{"directory":"\#(backup)"}"#).status == 201)
        let copy = try Store.open(at: backup, options: { var o = StoreOptions(); o.readOnly = true; return o }())
        #expect(copy.head == UInt64(position) + 1)
        copy.close()
        let rebuilt = try d.call("POST", "/admin/projections/dossiers/rebuild")
        #expect(rebuilt.status == 200 && rebuilt.text.contains("digest"))
        #expect(try d.call("GET", "/queues?agency=HBC&tab=new&limit=500").text.contains(dossier.uuidString.lowercased()))
        #expect(try d.call("POST", "/admin/projections/nothing/rebuild").status == 404)
        let attested = try d.json(try d.call("POST", "/admin/projections/dossiers/attestations"))
        #expect(attested["digest"] != nil && attested["logPosition"] != nil)
        #expect(await d.stop() == 0)
        // An auditor rebuilds each attested projection to its position and compares; a false digest is named.
        let (ok, out, _) = try await ledgerd("attest", "--check", "--store", d.dir + "/store")
        #expect(ok == 0 && out.contains("dossiers v\(DossierRegister().version) at") && out.contains("matches"), "\(out)")
        let store = try Store.open(at: d.dir + "/store")
        try await store.attest(Store.Attestation(projection: "work-items", version: 2, position: 10,
                                                 digest: String(repeating: "0", count: 64)))
        store.close()
        let (failed, _, err) = try await ledgerd("attest", "--check", "--store", d.dir + "/store")
        #expect(failed == 1 && err.contains("work-items v2 at position 10"), "\(err)")
    }

    @Test("64 concurrent clients append and read")
    func concurrentClients() async throws {
        let d = try await RunningDaemon(lines: 50)
        let failures = Mutex64()
        let threads = (0..<64).map { i in
            Thread {
                for j in 0..<5 {
                    let r = try? d.call("POST", "/streams/load-\(i)/events",
                                        #"{"expectedVersion":\#(j),"events":[{"type":"Load.v1","facts":{"j":\#(j)}}]}"#)
                    if r?.status != 201 { failures.add() }
                    if (try? d.call("GET", "/streams/load-\(i)/events"))?.status != 200 { failures.add() }
                }
            }
        }
        threads.forEach { $0.start() }
        while threads.contains(where: { !$0.isFinished }) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(failures.value == 0)
        let events = try d.json(try d.call("GET", "/categories/load/events?limit=1000"))
        if case .array(let items)? = events["items"] { #expect(items.count == 320) } else { Issue.record("no items") }
        #expect(await d.stop() == 0)
    }

    @Test("limits: huge headers get 400, a trickled request and a client that stops reading are cut off, others go on")
    func limits() async throws {
        let (zero, _, zeroErr) = try await ledgerd("serve", "--store", "/nonexistent", "--request-timeout", "0")
        #expect(zero == 64 && zeroErr.contains("--request-timeout must be 1 to 86400"))
        let d = try await RunningDaemon(lines: 50, arguments: ["--request-timeout", "1", "--stall-timeout", "1"])
        // Headers over the limit: 400, the connection closed, nothing else disturbed.
        let huge = try RawConnection(d.socket)
        huge.send("GET /health HTTP/1.1\r\nHost: ledgerd\r\nX-Big: \(String(repeating: "a", count: 100_000))\r\n\r\n")
        let refused = huge.drain(for: 5)
        #expect(refused.closed && refused.text.hasPrefix("HTTP/1.1 400"), "\(refused.text.prefix(80))")
        // A body announced and never finished: closed after the request timeout, not the idle timeout (60 s).
        let trickle = try RawConnection(d.socket)
        let started = Date()
        trickle.send("POST /commands/dossier.receive HTTP/1.1\r\nHost: ledgerd\r\nContent-Length: 1000\r\n\r\n{\"command")
        let cut = trickle.drain(for: 10)
        #expect(cut.closed && Date().timeIntervalSince(started) < 5)
        // A client that asks for megabytes and reads none of it: the daemon answers others meanwhile, then closes it.
        let big = String(repeating: "x", count: 60_000)
        for i in 0..<40 {
            let body = #"{"events":[{"type":"Bulk.v1","facts":{"i":\#(i),"pad":"\#(big)"}}]}"#
            #expect(try d.call("POST", "/streams/bulk-1/events", body).status == 201)
        }
        let slow = try RawConnection(d.socket, receiveBuffer: 4_096)
        slow.send("GET /subscribe?from=0 HTTP/1.1\r\nHost: ledgerd\r\n\r\n")
        try await Task.sleep(for: .milliseconds(300))
        let during = Date()
        #expect(try d.call("GET", "/health").status == 200)
        #expect(try d.call("GET", "/streams/bulk-1/events?limit=2").status == 200)
        #expect(Date().timeIntervalSince(during) < 2, "other clients do not wait on the one that stopped reading")
        try await Task.sleep(for: .seconds(3))
        let stalled = slow.drain(for: 10)
        #expect(stalled.closed && stalled.bytes < 40 * 60_000, "closed before the stream was delivered: \(stalled.bytes)")
        #expect(await d.stop() == 0)
    }

    @Test("raw appends answered on the event loop: pipelined requests answered in order, errors as the route's, metrics")
    func rawAppendFastPath() async throws {
        let d = try await RunningDaemon(lines: 50)
        func post(_ stream: String, _ body: String, close: Bool = false) -> String {
            "POST /streams/\(stream)/events HTTP/1.1\r\nHost: ledgerd\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\(close ? "Connection: close\r\n" : "")\r\n\(body)"
        }
        // Seven requests in one write: the router's answers and the fast path's come back in request order.
        let connection = try RawConnection(d.socket)
        connection.send(
            post("fast-1", #"{"expectedVersion":"noStream","events":[{"type":"Fast.v1","facts":{"n":1}}]}"#)
                + "GET /health HTTP/1.1\r\nHost: ledgerd\r\n\r\n"
                + post("fast-1", #"{"expectedVersion":1,"events":[{"type":"Fast.v1","facts":{"n":2}},{"type":"Fast.v1"}]}"#)
                + post("dossier-x", #"{"events":[{"type":"Fast.v1"}]}"#)
                + post("fast-1", #"{"events":[{"type":"Fast.v1""#)
                + post("fast-1", #"{"expectedVersion":1,"events":[{"type":"Fast.v1"}]}"#)
                + "GET /streams/fast-1/events HTTP/1.1\r\nHost: ledgerd\r\nConnection: close\r\n\r\n")
        let answer = connection.drain(for: 10)
        #expect(answer.closed)
        let responses = answer.text.components(separatedBy: "HTTP/1.1 ").dropFirst()
        #expect(responses.map { $0.prefix(3) } == ["201", "200", "201", "422", "400", "409", "200"], "\(answer.text)")
        let bodies = responses.map { $0.components(separatedBy: "\r\n\r\n").last ?? "" }
        if bodies.count == 7 {
            #expect(bodies[0].hasPrefix(#"{"positions":["#)
                && bodies[0].hasSuffix(#"],"retry":false,"streamVersions":{"fast-1":1}}"#), "\(bodies[0])")
            #expect(bodies[2].contains(#""streamVersions":{"fast-1":3}"#))
            #expect(bodies[3].contains(#""code":"domain_stream""#))
            #expect(bodies[4].contains(#""code":"bad_field""#) && bodies[4].contains("not JSON"))
            #expect(bodies[5].contains(#""code":"wrong_expected_version""#) && bodies[5].contains(#""actualVersion":3"#))
            #expect(bodies[6].contains(#""principal":"root""#) && bodies[6].components(separatedBy: "Fast.v1").count == 4)
        }
        #expect(responses.first?.contains("Content-Type: application/json; charset=utf-8") == true
            && responses.first?.lowercased().contains("date: ") == true)
        // A request that does not parse, behind two appends: both are answered before its 400.
        let broken = try RawConnection(d.socket)
        broken.send(post("fast-4", #"{"events":[{"type":"Fast.v1"}]}"#) + post("fast-4", #"{"events":[{"type":"Fast.v1"}]}"#)
            + "GET /health HTTP/1.1\r\nHost: ledgerd\r\nX-Big: \(String(repeating: "b", count: 20_000))\r\n\r\n")
        let brokenAnswer = broken.drain(for: 10)
        #expect(brokenAnswer.text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.prefix(3) }
            == ["201", "201", "400"], "\(brokenAnswer.text)")
        // A client that sends its append and closes its side still gets the answer.
        let halfClosed = try RawConnection(d.socket)
        halfClosed.send(post("fast-3", #"{"events":[{"type":"Fast.v1"}]}"#))
        halfClosed.shutdownWrite()
        let last = halfClosed.drain(for: 10)
        #expect(last.closed && last.text.hasPrefix("HTTP/1.1 201"), "\(last.text)")
        // A retry of an append with ids is answered 200 with the first positions; a body over 64 KiB goes to the
        // router and is appended the same.
        let id = UUID().uuidString
        let again = #"{"events":[{"id":"\#(id)","type":"Fast.v1"}]}"#
        let first = try d.call("POST", "/streams/fast-2/events", again)
        let retry = try d.call("POST", "/streams/fast-2/events", again)
        #expect(first.status == 201 && retry.status == 200 && retry.text.contains(#""retry":true"#))
        #expect(try d.json(first)["positions"] == d.json(retry)["positions"])
        let pad = String(repeating: "p", count: 70_000)
        #expect(try d.call("POST", "/streams/fast-2/events", #"{"events":[{"type":"Big.v1","facts":{"pad":"\#(pad)"}}]}"#)
            .status == 201)
        let metrics = try d.call("GET", "/metrics").text
        let line = metrics.split(separator: "\n").first {
            $0.hasPrefix("ledgerd_request_duration_seconds_count") && $0.contains(#"route="/streams/{stream}/events""#)
                && $0.contains(#"status="201""#)
        }
        #expect(line.map { $0.hasSuffix(" 7") } == true, "\(String(describing: line))")
        #expect(await d.stop() == 0)
    }

    @Test("raw appends are answered from their bytes as the router answers them, whole or over several reads; chunked or after another request they go through NIO's decoder; a start that never ends is cut off; SIGTERM answers those taken")
    func wholeRawAppends() async throws {
        let d = try await RunningDaemon(lines: 50, arguments: ["--request-timeout", "2"])
        let body = #"{"events":[{"type":"Whole.v1","facts":{"n":1}}]}"#
        func whole(_ stream: String) -> String {
            "POST /streams/\(stream)/events HTTP/1.1\r\nHost: ledgerd\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        let chunked = "POST /streams/whole-1/events HTTP/1.1\r\nHost: ledgerd\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "\(String(body.utf8.count, radix: 16))\r\n\(body)\r\n0\r\n\r\n"
        func exchange(_ parts: [String], on connection: RawConnection) -> String {
            for part in parts {
                connection.send(part)
                usleep(100_000)
            }
            return connection.drain(for: 0.5).text
        }
        // Whole, twice on one connection; split between head and body, then whole on that connection; chunked;
        // whole after a query on the same connection.
        let first = try RawConnection(d.socket), split = try RawConnection(d.socket)
        let chunks = try RawConnection(d.socket), mixed = try RawConnection(d.socket)
        let post = whole("whole-1")
        var answers = [exchange([post], on: first), exchange([post], on: first),
                       exchange([String(post.prefix(40)), String(post.dropFirst(40))], on: split),
                       exchange([post], on: split), exchange([chunked], on: chunks)]
        #expect(exchange(["GET /health HTTP/1.1\r\nHost: ledgerd\r\n\r\n"], on: mixed).hasPrefix("HTTP/1.1 200"))
        answers.append(exchange([post], on: mixed))
        // A 20 KiB append in three writes (larger than a read), then a small one on the same connection.
        let large = try RawConnection(d.socket)
        let padded = #"{"events":[{"type":"Whole.v1","facts":{"pad":"\#(String(repeating: "p", count: 20_000))"}}]}"#
        let big = "POST /streams/whole-1/events HTTP/1.1\r\nHost: ledgerd\r\nContent-Length: \(padded.utf8.count)\r\n\r\n"
            + padded
        let thirds = [big.prefix(30), big.dropFirst(30).prefix(9_000), big.dropFirst(9_030)].map(String.init)
        answers.append(exchange(thirds, on: large))
        answers.append(exchange([post], on: large))
        // The same answer every way, but for the date and the numbers.
        let shapes = answers.map { answer in
            answer.split(separator: "\r\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("Date: ") }
                .joined(separator: "\n").map { $0.isNumber ? "#" : $0 }
        }
        #expect(Set(shapes).count == 1, "\(answers)")
        #expect(answers.allSatisfy { $0.hasPrefix("HTTP/1.1 201 Created\r\n") && $0.contains("\r\nDate: ") }, "\(answers)")
        #expect(answers.last?.hasSuffix(#""streamVersions":{"whole-1":8}}"#) == true, "\(answers)")
        // A second append sent while the first is being answered: both answered, in order.
        let pipelining = try RawConnection(d.socket)
        pipelining.send(whole("whole-3"))
        pipelining.send(whole("whole-3"))
        let both = pipelining.drain(for: 1).text
        #expect(both.components(separatedBy: "HTTP/1.1 201").count == 3 && both.contains(#"{"whole-3":1}"#)
            && both.hasSuffix(#"{"whole-3":2}}"#), "\(both)")
        // The start of an append that never arrives whole is cut off at the request limit (2 s), unanswered.
        let trickle = try RawConnection(d.socket)
        let cutAt = Date()
        trickle.send("POST /streams/whole-4/events HTTP/1.1\r\nHost: ledgerd\r\nContent-Length: 100\r\n\r\n{")
        let cut = trickle.drain(for: 8)
        #expect(cut.closed && cut.bytes == 0 && Date().timeIntervalSince(cutAt) < 6, "\(cut)")
        // 64 connections each with one whole append on its way when SIGTERM comes: every append taken is answered
        // whole before its connection closes, and only those are in the log.
        let many = try (0..<64).map { _ in try RawConnection(d.socket) }
        for connection in many { connection.send(whole("whole-2")) }
        #expect(await d.stop() == 0)
        let replies = many.map { $0.drain(for: 5) }
        #expect(replies.allSatisfy { $0.closed })
        #expect(replies.allSatisfy { $0.text.isEmpty || ($0.text.hasPrefix("HTTP/1.1 201") && $0.text.hasSuffix("}")) },
                "\(replies.map { $0.text })")
        var options = StoreOptions()
        options.readOnly = true
        let store = try Store.open(at: d.dir + "/store", options: options)
        defer { store.close() }
        #expect(try store.streamInfo("whole-1")?.version == 8)
        #expect(try store.streamInfo("whole-4") == nil)
        #expect(try store.streamInfo("whole-2")?.version ?? 0 == UInt64(replies.filter { !$0.text.isEmpty }.count))
    }

    @Test("a client that pipelines raw appends and does not read: the daemon stops reading it, then answers all once it reads")
    func pipelinedWithoutReading() async throws {
        let d = try await RunningDaemon(lines: 50, arguments: ["--stall-timeout", "30"])
        let count = 5_000
        let body = #"{"events":[{"type":"Pipe.v1"}]}"#
        let request = "POST /streams/pipe-1/events HTTP/1.1\r\nHost: ledgerd\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let connection = try RawConnection(d.socket, receiveBuffer: 4_096)
        let sender = Thread { connection.send(String(repeating: request, count: count)) }
        sender.start()
        try await Task.sleep(for: .seconds(2))
        func appended() throws -> Int {
            var options = StoreOptions()
            options.readOnly = true
            let store = try Store.open(at: d.dir + "/store", options: options)
            defer { store.close() }
            return Int(try store.streamInfo("pipe-1")?.version ?? 0)
        }
        let paused = try appended()
        #expect(paused > 0 && paused < count, "reading stopped while the answers were not read: \(paused) of \(count)")
        // Reading now, the client gets every answer, in order, and every append is in the log.
        var statuses = 0
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while statuses < count, Date() < deadline {
            let chunk = connection.drain(for: 0.5, textLimit: .max)
            text += chunk.text
            statuses = text.components(separatedBy: "HTTP/1.1 201").count - 1
            if chunk.closed { break }
        }
        #expect(statuses == count)
        #expect(try appended() == count)
        #expect(await d.stop() == 0)
    }

    @Test("the idle timeout sees raw appends: a busy connection stays, an idle one is closed; SIGTERM answers appends in flight")
    func idleAndShutdownWithRawAppends() async throws {
        let d = try await RunningDaemon(lines: 50, arguments: ["--idle-timeout", "1"])
        func post(_ n: Int) -> String {
            let body = #"{"events":[{"type":"Idle.v1","facts":{"n":\#(n)}}]}"#
            return "POST /streams/idle-1/events HTTP/1.1\r\nHost: ledgerd\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        let idle = try RawConnection(d.socket)
        let busy = try RawConnection(d.socket)
        let started = Date()
        // Eight appends 0.3 s apart on one connection, for longer than the idle timeout.
        var answered = 0
        for n in 0..<8 {
            busy.send(post(n))
            let reply = busy.drain(for: 0.3)
            #expect(!reply.closed, "the busy connection was closed after \(Date().timeIntervalSince(started)) s")
            answered += reply.text.components(separatedBy: "HTTP/1.1 201").count - 1
        }
        #expect(answered == 8)
        let quiet = idle.drain(for: 3)
        #expect(quiet.closed && quiet.bytes == 0, "the idle connection is closed, with nothing written")
        // Appends pipelined just before SIGTERM (each waits for its own commit, so the batch takes far longer than
        // the shutdown): each is answered whole or not taken at all, and exactly those answered are in the log (an
        // append taken when the quiesce came is answered before the connection closes).
        let inFlight = try RawConnection(d.socket)
        let sent = 500
        inFlight.send((0..<sent).map { post(100 + $0) }.joined())
        #expect(await d.stop() == 0)
        let rest = inFlight.drain(for: 5, textLimit: .max)
        #expect(rest.closed)
        let replies = rest.text.components(separatedBy: "HTTP/1.1 ").dropFirst()
        #expect(replies.count < sent, "the shutdown came while the batch was being answered")
        #expect(replies.allSatisfy { $0.hasPrefix("201") && $0.hasSuffix("}") }, "\(rest.text.suffix(300))")
        var options = StoreOptions()
        options.readOnly = true
        let store = try Store.open(at: d.dir + "/store", options: options)
        defer { store.close() }
        #expect(try store.streamInfo("idle-1")?.version ?? 0 == UInt64(8 + replies.count))
    }

    @Test("SIGTERM with a request stuck mid-body and a stream whose client stopped reading: exit 0 within seconds")
    func shutdownWithStragglers() async throws {
        let d = try await RunningDaemon(lines: 50)
        let stuck = try RawConnection(d.socket)
        stuck.send("POST /commands/dossier.receive HTTP/1.1\r\nHost: ledgerd\r\nContent-Length: 1000\r\n\r\n{")
        let reader = try RawConnection(d.socket, receiveBuffer: 4_096)
        reader.send("GET /subscribe?from=0 HTTP/1.1\r\nHost: ledgerd\r\n\r\n")
        try await Task.sleep(for: .milliseconds(300))
        let started = Date()
        #expect(await d.stop() == 0)
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(!FileManager.default.fileExists(atPath: d.socket))
    }
}

/// A counter for threads.
final class Mutex64: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// A raw client on the daemon's socket, for what a well-behaved client never does: send huge headers, trickle a
/// request, stop reading.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(_ path: String, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw UnixHTTPClient.Failure(description: "connect: errno \(errno)") }
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Ends the client's side of the connection (the server sees end of input).
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads until the server closes the connection or `seconds` pass; returns what came and whether it closed.
    func drain(for seconds: Double, textLimit: Int = 65_536) -> (bytes: Int, text: String, closed: Bool) {
        var data = [UInt8]()
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return (data.count, String(decoding: data.prefix(textLimit), as: UTF8.self), true) }
            data += buffer[0..<n]
        }
        return (data.count, String(decoding: data.prefix(textLimit), as: UTF8.self), false)
    }

    deinit { close(fd) }
}
