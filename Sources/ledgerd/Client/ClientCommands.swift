import ArgumentParser
import Foundation

/// `ledgerd query …`: a projection query to a running daemon, printed as JSON.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Ask a running daemon: queue, timeliness, unit-days, agency-days, evaluations, accountability, apologies.")

    @Argument(help: "What to ask: queue, timeliness, unit-days, agency-days, evaluations, accountability, apologies.")
    var what: String
    @Option(help: "The daemon's socket.") var socket = "/run/ledgerd/ledgerd.sock"
    @Option(help: "The agency.") var agency: String
    @Option(help: "A unit (queue).") var unit: String?
    @Option(help: "An officer's staff id (queue).") var assignee: String?
    @Option(help: "A queue tab.") var tab: String?
    @Option(help: "A period (2020-04, 2020-Q2, 2020-04-01..2020-04-15).") var period: String?
    @Option(help: "The instant the flags are computed at (RFC 3339; default now).") var asOf: String?
    @Option(help: "A log position the answer must reflect.") var position: UInt64?

    func run() async throws {
        let routes = ["queue": "/queues", "timeliness": "/statistics/timeliness", "unit-days": "/attendance/unit-days",
                      "agency-days": "/attendance/agency-days", "evaluations": "/evaluations",
                      "accountability": "/accountability", "apologies": "/apologies"]
        guard let route = routes[what] else {
            throw ValidationError("unknown query \(what); ask " + routes.keys.sorted().joined(separator: ", "))
        }
        var items = [URLQueryItem(name: "agency", value: agency)]
        for (name, value) in [("unit", unit), ("assignee", assignee), ("tab", tab), ("period", period), ("asOf", asOf),
                              ("position", position.map(String.init))] {
            if let value { items.append(URLQueryItem(name: name, value: value)) }
        }
        var components = URLComponents()
        components.path = route
        components.queryItems = items
        let path = (components.percentEncodedPath) + "?" + (components.percentEncodedQuery ?? "")
            .replacingOccurrences(of: "+", with: "%2B")
        try viaDaemon(UnixHTTPClient(socketPath: socket), "GET", path)
    }
}

/// `ledgerd submit TYPE`: one command to a running daemon (the body's envelope as JSON, or @FILE).
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Send one command to a running daemon; prints the positions.")
    @Argument(help: "The command type, e.g. dossier.receive (GET /commands lists them).") var type: String
    @Option(help: "The daemon's socket.") var socket = "/run/ledgerd/ledgerd.sock"
    @Option(help: "The command envelope as JSON, or @FILE.") var data: String

    func run() async throws {
        let body: String
        if data.hasPrefix("@") {
            guard let contents = FileManager.default.contents(atPath: String(data.dropFirst())) else {
                throw ValidationError("cannot read \(data.dropFirst())")
            }
            body = String(decoding: contents, as: UTF8.self)
        } else {
            body = data
        }
        try viaDaemon(UnixHTTPClient(socketPath: socket), "POST", "/commands/\(type)", body: body)
    }
}
