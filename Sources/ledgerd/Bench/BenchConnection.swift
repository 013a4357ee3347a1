import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 connection of `bench serve`, driven from its event loop: each request is written when the
/// previous response has ended, and its latency recorded. Nothing hops to a task between requests,
/// so the client spends little of the machine the daemon is measured on.
final class BenchConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// The path and, for a POST, the JSON body of request `n`.
    typealias Request = @Sendable (_ n: Int) -> (path: String, body: String?)

    private let requests: Int
    private let expect: Int
    private let request: Request
    private let done: EventLoopPromise<[Double]>
    private var latencies: [Double] = []
    private var sent = 0
    private var started = NIODeadline.now()
    private var status = 0
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
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body:
            break
        case .end:
            guard status == expect else {
                finish(context, .failure(BenchClientError.status(request: sent - 1, got: status, expected: expect)))
                return
            }
            latencies.append(Double((NIODeadline.now() - started).nanoseconds) / 1e9)
            if sent == requests { finish(context, .success(latencies)) } else { send(context) }
        }
    }

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
        let (path, text) = request(sent)
        var head = HTTPRequestHead(version: .http1_1, method: text == nil ? .GET : .POST, uri: path)
        head.headers.add(name: "host", value: "ledgerd")
        sent += 1
        started = .now()
        guard let text else {
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        var body = context.channel.allocator.buffer(capacity: text.utf8.count)
        body.writeString(text)
        head.headers.add(name: "content-type", value: "application/json")
        head.headers.add(name: "content-length", value: String(body.readableBytes))
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
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
                    let sync = channel.pipeline.syncOperations
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(BenchConnectionHandler(requests: requests, expect: expect, done: done,
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
