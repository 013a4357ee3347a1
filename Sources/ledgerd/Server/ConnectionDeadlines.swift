import NIOCore
import NIOHTTP1

/// A connection's three time limits, enforced right after the HTTP/1.1 decoder, where every request and answer
/// passes (those ``RawAppendFastPath`` answers as well as the router's; ``RawAppendBytePath``, before the decoder,
/// tells it of the requests it takes and answers):
///
/// - **idle**: a connection that owes no answer and has read or written nothing for `idle` is closed;
/// - **request**: a request must arrive whole — head, body and end — within `request` of its head, so a client that
///   trickles a body cannot hold a connection and a handler forever; commands read their whole body before acting,
///   so closing here never interrupts an append;
/// - **stall**: a connection whose socket stays unwritable for `stall` (its client stopped reading: a big page, an
///   event stream) is closed, so it holds no buffers, no task and no graceful shutdown; other connections never
///   wait on it, since each writes from a task of its own.
///
/// Each limit has one timer per connection, not one per request: when it fires it closes the connection or re-arms
/// for what is in progress.
final class ConnectionDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The three limits.
    struct Limits: Sendable {
        /// How long a connection may owe nothing and do nothing.
        var idle: TimeAmount
        /// How long a request may take to arrive whole.
        var request: TimeAmount
        /// How long the socket may stay unwritable.
        var stall: TimeAmount
    }

    private let limits: Limits
    /// When the request being read began (its head arrived), or `nil` between requests.
    private var requestStarted: NIODeadline?
    /// Requests read whose answer has not been written whole.
    private var owed = 0
    /// The last request part read or answer ended.
    private var lastActive = NIODeadline.now()
    private var requestTimer: Scheduled<Void>?
    private var idleTimer: Scheduled<Void>?
    private var stallTimer: Scheduled<Void>?
    /// This handler's context, for the requests ``RawAppendBytePath`` tells of.
    private var context: ChannelHandlerContext?

    init(_ limits: Limits) {
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { armIdleTimer(context, at: .now() + limits.idle) }
    }

    func channelActive(context: ChannelHandlerContext) {
        lastActive = .now()
        if idleTimer == nil { armIdleTimer(context, at: lastActive + limits.idle) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            owed += 1
            beginRequest(context)
        case .end:
            requestStarted = nil
            lastActive = .now()
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { noteAnswerWritten() }
        context.write(data, promise: promise)
    }

    /// The first bytes of a request ``RawAppendBytePath`` waits to see whole: the request limit runs from here.
    func noteRequestBegun() {
        if let context { beginRequest(context) }
    }

    /// A request began now, unless it began earlier (its first bytes held by ``RawAppendBytePath``).
    private func beginRequest(_ context: ChannelHandlerContext) {
        lastActive = .now()
        guard requestStarted == nil else { return }
        requestStarted = lastActive
        if requestTimer == nil { armRequestTimer(context, at: lastActive + limits.request) }
    }

    /// A request ``RawAppendBytePath`` took whole from the socket's bytes, before this handler: it owes an answer.
    func noteRequestTaken() {
        owed += 1
        requestStarted = nil
        lastActive = .now()
    }

    /// An answer written whole (``RawAppendBytePath``'s, or the end of one passing here).
    func noteAnswerWritten() {
        owed = max(0, owed - 1)
        lastActive = .now()
    }

    private func armRequestTimer(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        requestTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            requestTimer = nil
            guard let started = requestStarted else { return }
            if NIODeadline.now() >= started + limits.request {
                context.close(promise: nil)
            } else {
                armRequestTimer(context, at: started + limits.request)
            }
        }
    }

    /// Closes the connection once it owes nothing and has been quiet for the idle limit; while an answer is owed
    /// (an append waiting for its commit, a stream open) it stays.
    private func armIdleTimer(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            idleTimer = nil
            let now = NIODeadline.now()
            if owed == 0, requestStarted == nil, now >= lastActive + limits.idle {
                context.close(promise: nil)
            } else {
                armIdleTimer(context, at: max(lastActive, now) + limits.idle)
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stallTimer?.cancel()
            stallTimer = nil
        } else if stallTimer == nil {
            stallTimer = context.eventLoop.assumeIsolated().scheduleTask(in: limits.stall) {
                context.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        cancelTimers()
    }

    private func cancelTimers() {
        requestTimer?.cancel()
        idleTimer?.cancel()
        stallTimer?.cancel()
        (requestTimer, idleTimer, stallTimer) = (nil, nil, nil)
    }
}
