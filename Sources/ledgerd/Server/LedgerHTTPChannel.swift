import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The daemon's HTTP/1.1 connection: ``RawAppendBytePath`` (an importer's raw appends, answered from the
/// socket's bytes), NIO's HTTP/1.1 codec, ``ConnectionDeadlines`` (idle, request and stall limits for every request),
/// ``RawAppendFastPath``, then Hummingbird's pipeline as `HTTP1Channel.setup` builds it (the
/// conversion to `HTTPTypes`, the connection-state handler for a graceful shutdown's quiesce, the async channel the
/// router reads from).
struct LedgerHTTPChannel: HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    /// The decoder's limits (header sizes and count).
    let decoderLimits: NIOHTTPDecoderLimitConfiguration
    let deadlines: ConnectionDeadlines.Limits
    let daemon: Daemon

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            try sync.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false,
                                                 withOutboundHeaderValidation: false, withEncoderConfiguration: .init(),
                                                 withDecoderLimitConfiguration: decoderLimits)
            let connectionDeadlines = ConnectionDeadlines(deadlines)
            try sync.addHandler(RawAppendBytePath(daemon: daemon, deadlines: connectionDeadlines), position: .first)
            try sync.addHandler(connectionDeadlines)
            try sync.addHandler(RawAppendFastPath(daemon: daemon))
            try sync.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            // Idle connections are closed by ConnectionDeadlines, which sees the fast path's requests too.
            try sync.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel,
                                       configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
