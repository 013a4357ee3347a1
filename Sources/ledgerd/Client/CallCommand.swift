import ArgumentParser
import Foundation

/// `ledgerd call`: one request to a running daemon, the way `curl --unix-socket` would send it.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Send one HTTP request to a running daemon and print the response body.",
        discussion: "Exit code 0 for a 2xx answer, 1 otherwise (the status and body go to standard error)."
    )

    @Option(help: "The daemon's socket.")
    var socket = "/run/ledgerd/ledgerd.sock"

    @Option(help: "A JSON body, or @FILE to read it from a file.")
    var data: String?

    @Option(name: .customLong("header"), help: "A header NAME: VALUE (repeatable).")
    var headers: [String] = []

    @Argument(help: "The method, e.g. GET or POST.")
    var method: String

    @Argument(help: "The path with its query, e.g. /queues?agency=HBC.")
    var path: String

    func run() async throws {
        var body: Data?
        if let data {
            if data.hasPrefix("@") {
                guard let contents = FileManager.default.contents(atPath: String(data.dropFirst())) else {
                    throw ValidationError("cannot read \(data.dropFirst())")
                }
                body = contents
            } else {
                body = Data(data.utf8)
            }
        }
        let pairs = try headers.map { h -> (String, String) in
            guard let colon = h.firstIndex(of: ":") else { throw ValidationError("--header must be NAME: VALUE") }
            return (String(h[..<colon]), h[h.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let response = try UnixHTTPClient(socketPath: socket).request(method.uppercased(), path, headers: pairs, body: body)
        if (200..<300).contains(response.status) {
            print(response.text)
        } else {
            FileHandle.standardError.write(Data("HTTP \(response.status)\n\(response.text)\n".utf8))
            throw ExitCode(1)
        }
    }
}
