import HTTPTypes
import Ledger
import NIOCore

/// Answers a raw append straight from the socket's bytes, before NIO's HTTP/1.1 codec: the request is recognized by
/// ``WholeRawAppend``, its body appended by ``RawAppendExecution``, and the answer written as one buffer, head and
/// body. An importer's connection that sends one append at a time is served so end to end; parsing the request into
/// HTTP parts, passing them through the pipeline and encoding the answer's parts cost more than the store's whole
/// work on the append.
///
/// It sits first in the pipeline. A raw append that arrives over several reads (one larger than NIO's read buffer)
/// is gathered until whole, with the request limit running. Anything else from a connection that has sent only raw
/// appends so far (another request, a role not allowed to append raw, two requests in one read, a header that frames
/// or answers the request differently) goes on to NIO's decoder with the bytes gathered, and from then on every byte
/// of the connection does: the decoder never sees part of a request, and ``RawAppendFastPath`` and the router take
/// over with their own ordering of answers. Bytes that come while an append is being answered (a client that
/// pipelines) wait for its answer, then go on to the decoder; reading pauses while they wait.
///
/// ``ConnectionDeadlines`` is told of each request begun, taken and answered, so the request and idle limits hold.
/// A graceful shutdown's quiesce that comes while an append is being answered waits for that answer, which carries
/// `Connection: close` and closes the connection; otherwise it goes on to the handlers after this one.
final class RawAppendBytePath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let daemon: Daemon
    private let deadlines: ConnectionDeadlines
    /// The caller's account and role, read once per connection (SO_PEERCRED).
    private var peer: PeerCredentials?
    /// Set once bytes have gone to NIO's decoder: every later byte goes there too.
    private var passing = false
    /// Set while an append taken here waits for its answer.
    private var appending = false
    /// Bytes that came while an append was being answered, passed on after its answer.
    private var held: ByteBuffer?
    /// The start of a raw append that has not arrived whole.
    private var partial: ByteBuffer?
    /// A read asked for while bytes waited, asked for once they have gone on.
    private var readPending = false
    /// The client's end of input, seen while an append was being answered: passed on after the answer.
    private var inputClosedPending = false
    /// Set once a graceful shutdown began: nothing more is taken here.
    private var closing = false
    /// Set when the shutdown began while an append was being answered: its answer closes the connection.
    private var quiescing = false

    init(daemon: Daemon, deadlines: ConnectionDeadlines) {
        self.daemon = daemon
        self.deadlines = deadlines
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        PeerCredentials.future(of: context.channel).whenSuccess { peer in bound.value.0.peer = peer }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if passing {
            context.fireChannelRead(data)
            return
        }
        var bytes = unwrapInboundIn(data)
        if appending {
            if held == nil { held = bytes } else { held!.writeBuffer(&bytes) }
            return
        }
        if var start = partial {
            partial = nil
            start.writeBuffer(&bytes)
            bytes = start
        }
        guard !closing, let peer, let role = daemon.role(of: peer.uid), Routes.rawAppenders.contains(role) else {
            return pass(bytes, context)
        }
        switch bytes.withUnsafeReadableBytes({ WholeRawAppend.recognize($0, maxBody: RawAppendExecution.maxBody) }) {
        case .whole(let request):
            take(request, from: bytes, principal: peer.account, context)
        case .incomplete:
            // The rest is on its way (a request larger than a read); the request limit runs from now.
            partial = bytes
            deadlines.noteRequestBegun()
        case .other:
            pass(bytes, context)
        }
    }

    /// Passes `bytes` on to NIO's decoder, and every later byte of the connection.
    private func pass(_ bytes: ByteBuffer, _ context: ChannelHandlerContext) {
        passing = true
        context.fireChannelRead(wrapInboundOut(bytes))
    }

    /// The end of a read goes on only once bytes do: the handlers after this one have nothing to finish before.
    func channelReadComplete(context: ChannelHandlerContext) {
        if passing { context.fireChannelReadComplete() }
    }

    private func take(_ request: WholeRawAppend, from bytes: ByteBuffer, principal: String,
                      _ context: ChannelHandlerContext) {
        appending = true
        deadlines.noteRequestTaken()
        let started = ContinuousClock.now
        let body = bytes.getSlice(at: bytes.readerIndex + request.bodyStart, length: request.bodyLength)!
        RawAppendExecution.start(stream: request.stream, principal: principal, body: body, daemon: daemon,
                                 loop: context.eventLoop) { status, text in
            self.answer(status, text, started: started, context)
        }
    }

    /// Writes the answer, head and body in one buffer, then passes on what waited for it (or, in a graceful
    /// shutdown, closes).
    private func answer(_ status: HTTPResponse.Status, _ text: [UInt8], started: ContinuousClock.Instant,
                        _ context: ChannelHandlerContext) {
        appending = false
        DaemonMetrics.record(RawAppendFastPath.timers, status: status.code, since: started)
        deadlines.noteAnswerWritten()
        guard context.channel.isActive else { return }
        var out = context.channel.allocator.buffer(capacity: 192 + text.count)
        out.writeString("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n")
        RawAppendExecution.headerFields(length: text.count, closing: quiescing) { name, value in
            out.writeString(name)
            out.writeStaticString(": ")
            out.writeString(value)
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("\r\n")
        out.writeBytes(text)
        guard !quiescing else {
            held = nil
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(out))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            return
        }
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(out)), promise: nil)
        if let waiting = held {
            held = nil
            pass(waiting, context)
            context.fireChannelReadComplete()
        }
        if inputClosedPending {
            inputClosedPending = false
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
        if readPending {
            // Asked again from the pipeline's tail, so the handlers that now have the held bytes may hold it.
            readPending = false
            context.channel.read()
        }
    }

    /// Reading pauses while bytes wait for an answer, so a client that pipelines cannot make the daemon hold an
    /// unbounded backlog here.
    func read(context: ChannelHandlerContext) {
        if held != nil { readPending = true } else { context.read() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            closing = true
            if appending { quiescing = true } else { context.fireUserInboundEventTriggered(event) }
        } else if case .inputClosed? = event as? ChannelEvent, appending {
            inputClosedPending = true
        } else if case .inputClosed? = event as? ChannelEvent, let start = partial {
            // A request cut short: the decoder gets it, and answers or closes as for any other.
            partial = nil
            pass(start, context)
            context.fireChannelReadComplete()
            context.fireUserInboundEventTriggered(event)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
