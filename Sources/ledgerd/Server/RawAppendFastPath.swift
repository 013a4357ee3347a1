import EventStore
import Foundation
import HTTPTypes
import Ledger
import NIOCore
import NIOHTTP1

/// Answers `POST /streams/{stream}/events` on the connection's event loop: the body is parsed there, the append is
/// queued with ``Store/append(_:durability:completion:)``, and the writer's answer is written back from the loop. No
/// task, no router, no async channel: the raw append is what importers send by the million, and the route's own
/// path through Hummingbird costs about three times the store's work on it.
///
/// It sits right after the HTTP/1.1 decoder and ``ConnectionDeadlines`` (which time every request and answer,
/// whoever gives it), before the conversion to `HTTPTypes` and Hummingbird's handlers, and answers with NIO's own
/// response parts: the conversions both ways were the largest single cost of an append served behind them. A graceful
/// shutdown's quiesce waits here for the append being answered, whose answer then closes the connection. Every other
/// request, and a raw append it does not take (another role, HTTP/1.0, a query string, an escaped stream name,
/// `Connection` or `Expect` headers, a body over 64 KiB), passes on to the router, which answers it as before, and
/// nothing is taken once the connection is to close. Answers keep the order of their
/// requests: a raw append is taken only while the router owes no answer; requests pipelined behind it wait until it
/// is answered, and so do an end of input and a parse error that came after them. Reading pauses while requests wait
/// or while the client is not reading its answers, so a client cannot make the daemon hold an unbounded backlog.
///
/// The answers are the route's own: the same parsing (``RawAppendBody``), errors (``APIError``), statuses and bodies,
/// and the request is recorded in the metrics under the route.
final class RawAppendFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The route's pattern, as the metrics and the router name it.
    static let route = "/streams/{stream}/events"
    /// The route's request timers, by status.
    static let timers = DaemonMetrics.RouteTimers(route: route, method: "POST")

    private enum Mode {
        /// Between requests.
        case idle
        /// Passing the current request's parts on to the router.
        case passing
        /// Reading the body of a raw append this handler answers.
        case reading(HTTPRequestHead, stream: String, principal: String, body: ByteBuffer?,
                     started: ContinuousClock.Instant)
        /// Waiting for the writer's answer.
        case appending
    }

    private let daemon: Daemon
    private var mode = Mode.idle
    /// The caller's account and role, read once per connection (SO_PEERCRED).
    private var peer: PeerCredentials?
    /// Requests passed to the router whose answer has not been written whole.
    private var routerOwes = 0
    /// Request parts not yet taken: those that arrived while an append was being answered (a pipelining client) or
    /// while the client was not reading, in order.
    private var held = CircularBuffer<HTTPServerRequestPart>()
    /// A read asked for while parts waited or the socket was full, asked for once that is over.
    private var readPending = false
    /// The client's end of input, seen while an append was being answered: passed on after the answer, or the
    /// router's side would close the connection first.
    private var inputClosedPending = false
    /// An error seen while requests waited, passed on after them.
    private var errorPending: (any Error)?
    /// Set once the connection is to close (a `Connection: close` request or answer, a graceful shutdown).
    private var closing = false
    /// Set when a graceful shutdown began while an append was being read or answered: its answer closes the
    /// connection.
    private var quiescing = false
    /// A graceful shutdown's quiesce that came while requests were held: passed on once they have gone to the
    /// router, so Hummingbird's connection handler counts them before it decides to close.
    private var quiescePending = false
    /// Set once the connection is closing after a quiesced answer: nothing more is read or passed on.
    private var ended = false
    /// Set while ``drain(_:)`` runs.
    private var draining = false
    private var removed = false

    init(daemon: Daemon) {
        self.daemon = daemon
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        PeerCredentials.future(of: context.channel).whenSuccess { peer in bound.value.0.peer = peer }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
        held.removeAll()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !ended else { return }
        held.append(unwrapInboundIn(data))
        resume(context, inRead: true)
    }

    /// Takes the parts that arrived, in order, until one must wait: for an append's answer, or for the client to
    /// read what it was sent. Returns whether it passed parts to the router. Never re-entered: an answer given while
    /// draining (a body that does not parse) leaves the rest to the loop already running.
    @discardableResult
    private func drain(_ context: ChannelHandlerContext) -> Bool {
        guard !draining else { return false }
        draining = true
        defer { draining = false }
        let owed = routerOwes
        var passed = false
        while !held.isEmpty, !mustWait(context) {
            let part = held.removeFirst()
            if case .passing = mode { passed = true }
            take(part, context)
            if case .passing = mode { passed = true }
        }
        return passed || routerOwes != owed
    }

    /// Whether held parts wait: behind an append being answered, or, for a new request, until the client reads what
    /// it was sent (a client that pipelines and never reads cannot make the daemon keep its answers).
    private func mustWait(_ context: ChannelHandlerContext) -> Bool {
        switch mode {
        case .appending: true
        case .idle: !context.channel.isWritable
        case .passing, .reading: false
        }
    }

    /// The end of the client's input, and an error (a request that does not parse), wait behind the requests before
    /// them: passed on first, either would end the connection before their answers.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // Nothing more is taken; an append on its way is answered first (Hummingbird's connection handler, which
            // closes idle connections at once, does not know of it), and held requests reach the router first.
            closing = true
            switch mode {
            case .reading, .appending: quiescing = true
            case .idle, .passing:
                if held.isEmpty { context.fireUserInboundEventTriggered(event) } else { quiescePending = true }
            }
        } else if case .inputClosed? = event as? ChannelEvent, quiescing {
            // The append being read will not arrive whole, and the daemon is stopping: nothing is owed.
            context.close(promise: nil)
        } else if case .inputClosed? = event as? ChannelEvent, isBusy {
            inputClosedPending = true
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if quiescing, case .reading = mode {
            // A request that does not parse behind the append being read, and the daemon is stopping.
            context.close(promise: nil)
        } else if isBusy {
            if errorPending == nil { errorPending = error }
        } else {
            context.fireErrorCaught(error)
        }
    }

    /// Whether an append is being answered or parts wait for one.
    private var isBusy: Bool {
        if case .appending = mode { return true }
        return !held.isEmpty
    }

    /// Reading pauses once parts wait (a pipelining client) or the socket is full (a client not reading); pausing
    /// for every append would take the socket out of the event loop's interest set and put it back, two system
    /// calls per request.
    func read(context: ChannelHandlerContext) {
        if !held.isEmpty || !context.channel.isWritable { readPending = true } else { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        context.fireChannelWritabilityChanged()
        if context.channel.isWritable { resume(context) }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response) where !response.isKeepAlive: closing = true
        case .end: routerOwes -= 1
        default: break
        }
        context.write(data, promise: promise)
    }

    // MARK: - Requests

    private func take(_ part: HTTPServerRequestPart, _ context: ChannelHandlerContext) {
        switch (mode, part) {
        case (.idle, .head(let head)):
            if let (stream, principal) = taken(head) {
                mode = .reading(head, stream: stream, principal: principal, body: nil, started: .now)
            } else {
                pass(part, context)
            }
        case (.reading(let head, let stream, let principal, var body, let started), .body(var chunk)):
            guard (body?.readableBytes ?? 0) + chunk.readableBytes <= RawAppendExecution.maxBody else {
                // Too big for here: the router reads it (and answers 413 over its own limit).
                pass(.head(head), context)
                if let body { pass(.body(body), context) }
                pass(.body(chunk), context)
                if quiescing {
                    // The router has the request now; Hummingbird's handler closes after answering it.
                    quiescing = false
                    context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
                }
                return
            }
            if body == nil {
                body = chunk
            } else {
                mode = .idle  // Drops the enum's reference to the buffer, so the write below does not copy it.
                body!.writeBuffer(&chunk)
            }
            mode = .reading(head, stream: stream, principal: principal, body: body, started: started)
        case (.reading(_, let stream, let principal, let body, let started), .end):
            append(stream: stream, principal: principal, body: body ?? ByteBuffer(), started: started, context)
        case (.passing, _):
            context.fireChannelRead(wrapInboundOut(part))
            if case .end = part { mode = .idle }
        default:
            // A part out of order (the decoder never sends one): the router's handling closes the connection.
            pass(part, context)
        }
    }

    /// Passes a part on to the router.
    private func pass(_ part: HTTPServerRequestPart, _ context: ChannelHandlerContext) {
        if case .head(let head) = part {
            routerOwes += 1
            mode = .passing
            // The router closes the connection after answering it: nothing after it is taken here.
            if !head.isKeepAlive { closing = true }
        }
        context.fireChannelRead(wrapInboundOut(part))
        if case .end = part { mode = .idle }
    }

    /// The stream and principal of a raw append this handler answers, or `nil` for the router.
    private func taken(_ head: HTTPRequestHead) -> (stream: String, principal: String)? {
        let path = head.uri
        guard routerOwes == 0, !closing, head.method == .POST, head.version == .http1_1, let peer,
              let role = daemon.role(of: peer.uid), Routes.rawAppenders.contains(role),
              !head.headers.contains(name: "connection"), !head.headers.contains(name: "expect"),
              path.hasPrefix("/streams/"), path.hasSuffix("/events")
        else { return nil }
        let stream = path.utf8.dropFirst("/streams/".utf8.count).dropLast("/events".utf8.count)
        guard !stream.isEmpty, !stream.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "%")
            || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "+") })
        else { return nil }
        return (String(Substring(stream)), peer.account)
    }

    private func append(stream: String, principal: String, body: ByteBuffer, started: ContinuousClock.Instant,
                        _ context: ChannelHandlerContext) {
        mode = .appending
        RawAppendExecution.start(stream: stream, principal: principal, body: body, daemon: daemon,
                                 loop: context.eventLoop) { status, text in
            self.answer(status, text, started: started, context)
        }
    }

    /// Writes the answer, then goes on with the requests that waited for it (or, in a graceful shutdown, closes).
    private func answer(_ status: HTTPResponse.Status, _ text: [UInt8], started: ContinuousClock.Instant,
                        _ context: ChannelHandlerContext) {
        mode = .idle
        DaemonMetrics.record(Self.timers, status: status.code, since: started)
        guard !removed else { return }
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        RawAppendExecution.headerFields(length: text.count, closing: quiescing) { headers.add(name: $0, value: $1) }
        var buffer = context.channel.allocator.buffer(capacity: text.count)
        buffer.writeBytes(text)
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status.code,
                                                                                  reasonPhrase: status.reasonPhrase),
                                    headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        guard !quiescing else {
            // A graceful shutdown waited for this answer: the connection ends with it, and nothing read after it is
            // taken or passed on (the decoder may still hand over parts it had buffered).
            ended = true
            held.removeAll()
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            return
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        resume(context)
    }

    /// Goes on with what waited: held parts, then a held end of input or error, then reading.
    private func resume(_ context: ChannelHandlerContext, inRead: Bool = false) {
        guard !draining, !ended else { return }  // The drain running goes on by itself.
        if drain(context), !inRead {
            // Parts passed on outside a read: the async channel hands them to the router at a read's completion.
            context.fireChannelReadComplete()
        }
        guard !isBusy else { return }
        if quiescePending {
            quiescePending = false
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        if let error = errorPending {
            errorPending = nil
            context.fireErrorCaught(error)
        }
        if inputClosedPending {
            inputClosedPending = false
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
        // Parts of a request that has not arrived whole come in with the next read.
        if readPending, context.channel.isWritable {
            readPending = false
            context.read()
        }
    }
}
