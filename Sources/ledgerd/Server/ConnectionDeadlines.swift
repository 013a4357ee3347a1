import NIOCore
import NIOHTTPTypes

/// Two limits per connection, beside Hummingbird's idle timeout:
///
/// - a request must arrive whole — head, body and end — within `request` of its head, so a client that trickles a
///   body (each chunk resetting the idle timer) cannot hold a connection and a handler forever; commands read their
///   whole body before acting, so closing here never interrupts an append;
/// - a connection whose socket stays unwritable for `stall` (its client stopped reading: a big page, an event
///   stream) is closed, so it holds no buffers, no task and no graceful shutdown; other connections never wait on it,
///   since each writes from a task of its own.
final class ConnectionDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let request: TimeAmount
    private let stall: TimeAmount
    /// When the request being read began (its head arrived), or `nil` between requests.
    private var requestStarted: NIODeadline?
    /// One timer per connection, not one per request: when it fires it closes an overdue request or re-arms for the
    /// request in progress.
    private var requestTimer: Scheduled<Void>?
    private var stallTimer: Scheduled<Void>?

    init(request: TimeAmount, stall: TimeAmount) {
        self.request = request
        self.stall = stall
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requestStarted = .now()
            if requestTimer == nil { armRequestTimer(context, at: requestStarted! + request) }
        case .end:
            requestStarted = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    private func armRequestTimer(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        requestTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            requestTimer = nil
            guard let started = requestStarted else { return }
            if NIODeadline.now() >= started + request {
                context.close(promise: nil)
            } else {
                armRequestTimer(context, at: started + request)
            }
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stallTimer?.cancel()
            stallTimer = nil
        } else if stallTimer == nil {
            stallTimer = context.eventLoop.assumeIsolated().scheduleTask(in: stall) {
                context.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        requestTimer?.cancel()
        stallTimer?.cancel()
    }
}
