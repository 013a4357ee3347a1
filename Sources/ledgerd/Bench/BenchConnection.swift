import Foundation
import NIOCore
import NIOPosix

/// One keep-alive HTTP/1.1 connection of `bench serve`, driven from its event loop: each request is written when the
/// previous response has ended, and its latency recorded. Nothing hops to a task between requests, and requests and
/// responses are plain bytes (a request written in one buffer, a response framed by its `Content-Length`), so the
/// client spends little of the machine the daemon is measured on.
final class BenchConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The path and, for a POST, the JSON body of request `n`.
    typealias Request = @Sendable (_ n: Int) -> (path: String, body: String?)

    private let requests: Int
    private let expect: Int
    private let request: Request
    private let done: EventLoopPromise<[Double]>
    private var latencies: [Double] = []
    private var sent = 0
    private var started = NIODeadline.now()
    /// Response bytes not yet framed.
    private var pending: ByteBuffer?
    private var finished = false

    init(requests: Int, expect: Int, done: EventLoopPromise<[Double]>, request: @escaping Request) {
        self.requests = requests
        self.expect = expect
        self.done = done
        self.request = request
        latencies.reserveCapacity(requests)
    }

    func channelActive(context: ChannelHandlerContext) {
        if requests == 0 { finish(context, .success([])) } else { send(context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if pending == nil { pending = bytes } else { pending!.writeBuffer(&bytes) }
        while !finished, let buffer = pending, let (status, length) = Self.frame(buffer) {
            guard status == expect else {
                finish(context, .failure(BenchClientError.status(request: sent - 1, got: status, expected: expect)))
                return
            }
            pending!.moveReaderIndex(forwardBy: length)
            if pending!.readableBytes == 0 { pending = nil }
            latencies.append(Double((NIODeadline.now() - started).nanoseconds) / 1e9)
            if sent == requests { finish(context, .success(latencies)) } else { send(context) }
        }
    }

    /// The status and whole length of the response at the start of `buffer`, or `nil` until it has arrived whole.
    /// Responses carry a `Content-Length` (the daemon's bodies are whole buffers); one without is counted as 0.
    static func frame(_ buffer: ByteBuffer) -> (status: Int, length: Int)? {
        buffer.withUnsafeReadableBytes { bytes -> (Int, Int)? in
            // "HTTP/1.1 201 Created\r\n" at least.
            guard bytes.count >= 16 else { return nil }
            let status = (9..<12).reduce(0) { $0 * 10 + Int(bytes[$1] &- 48) }
            var length = 0
            var i = 0
            while i + 3 < bytes.count {
                guard bytes[i] == 13, bytes[i + 1] == 10 else { i += 1; continue }
                i += 2  // A header line starts here, or the head ends.
                if bytes[i] == 13, bytes[i + 1] == 10 {
                    let total = i + 2 + length
                    return bytes.count >= total ? (status, total) : nil
                }
                if i + contentLength.count < bytes.count,
                   contentLength.indices.allSatisfy({ bytes[i + $0] | 0x20 == contentLength[$0] }) {
                    var j = i + contentLength.count
                    while j < bytes.count, bytes[j] == 32 { j += 1 }
                    while j < bytes.count, (48...57).contains(bytes[j]) { length = length * 10 + Int(bytes[j] - 48); j += 1 }
                }
            }
            return nil
        }
    }

    /// `content-length:`, lowercase (a header name's letters are compared with bit 0x20 set).
    private static let contentLength = Array("content-length:".utf8)

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(context, .failure(error))
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context, .failure(BenchClientError.closed(after: latencies.count)))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        done.fail(BenchClientError.closed(after: latencies.count))
    }

    private func send(_ context: ChannelHandlerContext) {
        let (path, body) = request(sent)
        var out = context.channel.allocator.buffer(capacity: 160 + (body?.utf8.count ?? 0))
        if let body {
            out.writeString("POST \(path) HTTP/1.1\r\nhost: ledgerd\r\ncontent-type: application/json\r\n"
                + "content-length: \(body.utf8.count)\r\n\r\n")
            out.writeString(body)
        } else {
            out.writeString("GET \(path) HTTP/1.1\r\nhost: ledgerd\r\n\r\n")
        }
        sent += 1
        started = .now()
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    /// Completes the run once (a close after it changes nothing) and closes the connection.
    private func finish(_ context: ChannelHandlerContext, _ result: Result<[Double], any Error>) {
        guard !finished else { return }
        finished = true
        done.completeWith(result)
        context.close(promise: nil)
    }
}

/// Why a `bench serve` connection stopped early.
enum BenchClientError: Error, CustomStringConvertible {
    case status(request: Int, got: Int, expected: Int)
    case closed(after: Int)

    var description: String {
        switch self {
        case .status(let n, let got, let expected): "request \(n) was answered \(got), not \(expected)"
        case .closed(let n): "the daemon closed the connection after \(n) responses"
        }
    }
}

/// Opens one connection to `socket` and runs `requests` requests on it, one after another; returns each latency in
/// seconds.
func runBenchConnection(socket: String, requests: Int, expect: Int,
                        _ request: @escaping BenchConnectionHandler.Request) async throws -> [Double] {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let done = loop.makePromise(of: [Double].self)
    let channel: any Channel
    do {
        channel = try await ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(BenchConnectionHandler(requests: requests, expect: expect, done: done,
                                                               request: request))
                }
            }
            .connect(unixDomainSocketPath: socket).get()
    } catch {
        done.fail(error)
        throw error
    }
    // A run cancelled (another connection failed) closes this one, which ends its wait.
    return try await withTaskCancellationHandler {
        try await done.futureResult.get()
    } onCancel: {
        channel.close(promise: nil)
    }
}
