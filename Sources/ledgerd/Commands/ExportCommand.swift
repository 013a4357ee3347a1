import ArgumentParser
import EventStore
import Foundation
import Ledger
import Projections

/// `ledgerd export …`: what analysts and data subjects take away — events as NDJSON or CSV, the timeliness table and
/// the evaluations as CSV, and everything held about one data subject.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export events, statistics, evaluations, or a data subject's records.",
        discussion: """
            Read-only: works beside a running daemon. Statistics and evaluations are computed from projections \
            rebuilt into a private state directory (--state to keep and reuse one). CSV is UTF-8 (--bom adds the \
            byte-order mark spreadsheets want); times are UTC with the Asia/Ho_Chi_Minh local time beside; \
            --zstd writes one standard zstd frame. Columns are documented in README.md.
            """,
        subcommands: [Events.self, Timeliness.self, Evaluations.self, Subject.self]
    )

    /// Options shared by the exports.
    struct Output: ParsableArguments {
        @Option(help: "The file to write (`-` for standard output).")
        var out: String = "-"
        @Flag(help: "Start a CSV with a UTF-8 byte-order mark.")
        var bom = false
        @Flag(help: "Compress the output as one zstd frame.")
        var zstd = false

        func write(_ text: String, csv: Bool) throws {
            var bytes = Array(text.utf8)
            if csv && bom { bytes = [0xEF, 0xBB, 0xBF] + bytes }
            if zstd { bytes = try ZstdFile.compress(bytes) }
            if out == "-" {
                FileHandle.standardOutput.write(Data(bytes))
            } else {
                try Data(bytes).write(to: URL(fileURLWithPath: out))
            }
        }
    }

    static func openReadOnly(_ path: String) throws -> Store {
        var options = StoreOptions()
        options.readOnly = true
        return try Store.open(at: path, options: options)
    }

    /// Runs `body` with projections over the read-only store in a private (or given) state directory, caught up.
    static func withModel<T>(store path: String, state: String?, _ body: (ReadModel) throws -> T) throws -> T {
        let log = try openReadOnly(path)
        defer { log.close() }
        let scratch = state == nil ? NSTemporaryDirectory() + "ledger-export-\(getpid())-\(UUID())" : nil
        defer { if let scratch { try? FileManager.default.removeItem(atPath: scratch) } }
        let model = try ReadModel(store: log, statePath: state ?? scratch!)
        try model.runner.catchUp()
        return try body(model)
    }

    static func csv(_ fields: [String]) -> String {
        fields.map { f in
            f.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : f
        }.joined(separator: ",") + "\r\n"
    }

    static func local(_ t: Int64?) -> String { t.map { Instant.format($0, utcOffset: 7 * 3600) } ?? "" }
    static func utc(_ t: Int64?) -> String { t.map { Instant.format($0) } ?? "" }

    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Events as NDJSON or CSV, selected by stream, category, type and domain-time period.")
        @Option(help: "The store.") var store: String
        @Option(help: "One stream.") var stream: String?
        @Option(help: "One category (the stream name before its first '-').") var category: String?
        @Option(help: "One event type, e.g. DossierReceived.v1.") var type: String?
        @Option(help: "Only events whose domain time falls in this period (2020-04, 2020-Q2, 2020-04-01..2020-04-15).")
        var period: String?
        @Option(help: "ndjson or csv.") var format = "ndjson"
        @Flag(help: "NDJSON only: add each event's exact parts (factsV1, and personalV1 where not erased) in base64, so `ledgerd import --events` recreates the events byte for byte. Carries personal data: for admins.")
        var exact = false
        @OptionGroup var output: Output

        func run() async throws {
            guard ["ndjson", "csv"].contains(format) else { throw ValidationError("--format must be ndjson or csv") }
            let bounds = try period.map { text -> (Int64, Int64) in
                guard let p = Period(text) else { throw ValidationError("--period \(text) is not a period") }
                return p.bounds(WorkingCalendar())
            }
            let log = try openReadOnly(store)
            defer { log.close() }
            var text = format == "csv" ? csv(["position", "stream", "version", "type", "event_id", "actor",
                                              "occurred_at_utc", "occurred_at_local", "recorded_at_utc", "principal",
                                              "role", "unit", "command", "subject", "facts"]) : ""
            var count = 0
            func emit(_ e: RecordedEvent) throws {
                guard e.record.leafType == .event else { return }
                // Facts v1 (domain events), else the JSON bytes of a raw append.
                func factsText() -> String {
                    e.facts.flatMap { try? Facts.json($0) } ?? e.facts.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
                }
                let at = e.facts.flatMap { f in try? Facts.decode(f) { r throws(Facts.DecodingError) in try r.instant("at") } }
                if let (start, end) = bounds { guard let at, at >= start, at < end else { return } }
                count += 1
                let recorded = e.record.recordedAt / 1_000_000
                let m = e.record.metadata
                if format == "csv" {
                    text += csv(["\(e.position)", e.record.stream, "\(e.record.streamVersion)", e.record.eventType,
                                 e.record.eventID.uuidString.lowercased(), e.record.actor, utc(at), local(at),
                                 utc(recorded), m["principal"] ?? "", m["role"] ?? "", m["unit"] ?? "",
                                 m["command"] ?? "", m["subject"] ?? "", factsText()])
                } else {
                    var o: [String: JSONValue] = [
                        "position": .number(Double(e.position)), "stream": .string(e.record.stream),
                        "version": .number(Double(e.record.streamVersion)), "type": .string(e.record.eventType),
                        "eventId": .string(e.record.eventID.uuidString.lowercased()), "actor": .string(e.record.actor),
                        "occurredAt": at.map { .string(utc($0)) } ?? .null, "occurredAtLocal": at.map { .string(local($0)) } ?? .null,
                        "recordedAt": .string(utc(recorded)),
                        "facts": e.facts.flatMap { try? JSONValue(facts: $0) }
                            ?? e.facts.flatMap { try? JSONValue(parsing: $0) } ?? .object([:]),
                    ]
                    var metadata = [String: JSONValue]()
                    for (k, v) in m.entries { metadata[k] = .string(String(decoding: v, as: UTF8.self)) }
                    o["metadata"] = .object(metadata)
                    if exact {
                        o["factsV1"] = .string(Data(e.facts ?? []).base64EncodedString())
                        if let p = e.personal { o["personalV1"] = .string(Data(p).base64EncodedString()) }
                        o["correlationId"] = .string(e.record.correlationID.uuidString.lowercased())
                        if let c = e.record.causationID { o["causationId"] = .string(c.uuidString.lowercased()) }
                    }
                    text += encodeJSONLine(JSONValue.object(o)) + "\n"
                }
            }
            var from: UInt64 = 0
            while true {
                let page: [RecordedEvent]
                if let stream { page = try log.readStream(stream, from: from == 0 ? nil : from, limit: 1_000, payloads: .facts) }
                else if let category { page = try log.readCategory(category, from: from, limit: 1_000, payloads: .facts) }
                else if let type { page = try log.readType(type, from: from, limit: 1_000, payloads: .facts) }
                else { page = try log.read(from: from, limit: 1_000, payloads: exact ? .all : .facts) }
                for e in page { try emit(e) }
                guard page.count == 1_000, let last = page.last else { break }
                from = stream == nil ? last.position + 1 : last.record.streamVersion + 1
            }
            try output.write(text, csv: format == "csv")
            FileHandle.standardError.write(Data("exported \(count) events\n".utf8))
        }
    }

    struct Timeliness: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The Decision 766 timeliness table of a period as CSV.")
        @Option(help: "The store.") var store: String
        @Option(help: "The agency.") var agency: String
        @Option(help: "The period.") var period: String
        @Option(help: "A projection state directory to keep (default: a private one, removed).") var state: String?
        @OptionGroup var output: Output

        func run() async throws {
            guard let p = Period(period) else { throw ValidationError("--period \(period) is not a period") }
            let rows = try withModel(store: store, state: state) { try $0.timeliness(agency: agency, period: p) }
            var text = csv(["agency", "period", "unit", "field", "procedure", "received", "carried_over", "new_online",
                            "new_direct", "new_postal", "resolved_early", "resolved_on_time", "resolved_overdue",
                            "in_progress_within", "in_progress_overdue", "withdrawn", "refused", "on_time_rate",
                            "online_share", "postal_share", "online_payment_share"])
            for (k, t) in rows {
                text += csv([agency, "\(p)", k.unit, k.field, k.procedure] + [
                    t.received, t.carriedOver, t.newOnline, t.newDirect, t.newPostal, t.resolvedEarly, t.resolvedOnTime,
                    t.resolvedOverdue, t.inProgressWithin, t.inProgressOverdue, t.withdrawn, t.refused,
                ].map(String.init) + [t.onTimeRate, t.onlineShare, t.postalShare, t.onlinePaymentShare].map {
                    String(format: "%.2f", $0)
                })
            }
            try output.write(text, csv: true)
        }
    }

    struct Evaluations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each official's evaluation of a period as CSV.")
        @Option(help: "The store.") var store: String
        @Option(help: "The agency.") var agency: String
        @Option(help: "The period, e.g. 2020-Q2.") var period: String
        @Option(help: "A projection state directory to keep (default: a private one, removed).") var state: String?
        @OptionGroup var output: Output

        func run() async throws {
            guard let p = Period(period) else { throw ValidationError("--period \(period) is not a period") }
            let evaluations = try withModel(store: store, state: state) { try $0.evaluations(agency: agency, period: p) }
            var text = csv(["agency", "period", "person", "unit", "assigned", "completed", "early", "on_time", "late",
                            "open_overdue", "supplements_requested", "second_supplements", "apologies",
                            "returned_drafts", "onsite_days", "remote_days", "leave_days", "no_shows", "reports_sent",
                            "reports_missing", "quantity", "progress", "quality", "score", "grade"])
            for e in evaluations {
                let a = e.attendance
                text += csv([agency, "\(p)", e.person, e.unit] + [
                    e.assigned, e.completed, e.early, e.onTime, e.late, e.openOverdue, e.supplementsRequested,
                    e.secondSupplements, e.apologies, e.returnedDrafts, a.onsiteDays, a.remoteDays, a.leaveDays, a.noShows,
                    a.reportsSent, a.reportsMissing,
                ].map(String.init) + [e.quantity, e.progress, e.quality, e.score].map { String(format: "%.2f", $0) }
                    + [e.grade])
            }
            try output.write(text, csv: true)
        }
    }

    struct Subject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Everything held about one data subject (the pair of erasure), as NDJSON with personal parts.")
        @Option(help: "The store.") var store: String
        @Option(help: "The subject's pseudonymous id.") var subject: String
        @OptionGroup var output: Output

        func run() async throws {
            guard let id = UUID(uuidString: subject) else { throw ValidationError("--subject must be a UUID") }
            let wanted = id.uuidString.lowercased()
            let log = try openReadOnly(store)
            defer { log.close() }
            var text = ""
            var count = 0
            var from: UInt64 = 0
            while true {
                let page = try log.read(from: from, limit: 1_000)
                for e in page where e.record.metadata["subject"] == wanted {
                    count += 1
                    var o: [String: JSONValue] = [
                        "position": .number(Double(e.position)), "stream": .string(e.record.stream),
                        "type": .string(e.record.eventType), "eventId": .string(e.record.eventID.uuidString.lowercased()),
                    ]
                    if let f = e.facts { o["facts"] = (try? JSONValue(facts: f)) ?? .null }
                    if let p = e.personal, let personal = try? JSONValue(facts: p) {
                        o["personal"] = personal
                    } else if e.record.leafType == .event {
                        o["personal"] = .string(e.record.personalLength > 0 ? "erased" : "none")
                    }
                    text += encodeJSONLine(JSONValue.object(o)) + "\n"
                }
                guard page.count == 1_000, let last = page.last else { break }
                from = last.position + 1
            }
            guard count > 0 else { throw ValidationError("the store holds nothing about subject \(wanted)") }
            try output.write(text, csv: false)
            FileHandle.standardError.write(Data("exported \(count) records about subject \(wanted)\n".utf8))
        }
    }
}
