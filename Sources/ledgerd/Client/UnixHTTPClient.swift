import Foundation
import Glibc

/// A small blocking HTTP/1.1 client over a Unix-domain socket: what `ledgerd call` and the client subcommands use
/// to talk to a running daemon (one request per connection).
struct UnixHTTPClient {
    let socketPath: String

    /// An HTTP response.
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// A client failure: the socket could not be reached or the answer is not HTTP.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private func connect() throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket(): errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw Failure(description: "the socket path \(socketPath) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw Failure(description: "cannot connect to \(socketPath): \(String(cString: strerror(code)))"
                + (code == ENOENT ? " (is ledgerd serve running?)" : ""))
        }
        return fd
    }

    /// Whether something accepts connections on the socket.
    func probe() throws -> Bool {
        guard let fd = try? connect() else { return false }
        close(fd)
        return true
    }

    /// Sends one request and reads the response; `stop` may end reading early (for event streams).
    func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: Data? = nil,
                 stop: ((Data) -> Bool)? = nil) throws -> Response {
        let fd = try connect()
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: ledgerd\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        var out = Data(head.utf8)
        if let body { out.append(body) }
        try out.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                // The daemon may answer (413) and close before the whole body is sent: read that answer.
                if n < 0 && (errno == EPIPE || errno == ECONNRESET) { break }
                guard n > 0 else { throw Failure(description: "send(): errno \(errno)") }
                sent += n
            }
        }
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received.append(contentsOf: buffer[0..<n])
            if let stop, let split = received.range(of: Data("\r\n\r\n".utf8)),
               stop(Self.dechunk(Data(received[split.upperBound...]))) { break }
        }
        return try Self.parse(received)
    }

    static func parse(_ data: Data) throws -> Response {
        guard let split = data.range(of: Data("\r\n\r\n".utf8)) else {
            throw Failure(description: "the daemon's answer is not HTTP")
        }
        let lines = String(decoding: data[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw Failure(description: "bad status line \(lines[0])") }
        var headers = [String: String]()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Data(data[split.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
        return Response(status: status, headers: headers, body: body)
    }

    /// Decodes a chunked body as far as it goes.
    static func dechunk(_ data: Data) -> Data {
        var out = Data()
        var rest = data[...]
        while let lineEnd = rest.range(of: Data("\r\n".utf8)) {
            guard let size = Int(String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self)
                .split(separator: ";").first ?? "", radix: 16) else { break }
            if size == 0 { break }
            let start = lineEnd.upperBound
            let end = min(rest.endIndex, start + size)
            out.append(rest[start..<end])
            guard end + 2 <= rest.endIndex else { break }
            rest = rest[(end + 2)...]
        }
        return out.isEmpty && !data.isEmpty && Int(String(decoding: data.prefix(8), as: UTF8.self)
            .split(separator: "\r\n").first ?? "", radix: 16) == nil ? data : out
    }
}
