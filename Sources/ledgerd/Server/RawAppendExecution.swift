import EventStore
import HTTPTypes
import Ledger
import NIOCore

/// What both raw-append fast paths (``RawAppendBytePath`` and ``RawAppendFastPath``) do with a request they take:
/// parse its body as the route does (``RawAppendBody``), queue the append, and hand the route's answer back on the
/// connection's event loop; and the header fields that answer carries, spelled as the router's answers spell them.
enum RawAppendExecution {
    /// Appends of more events than this are encoded by a task rather than on the event loop.
    static let eventsOnLoop = 16
    /// Bodies over this go to the router (which takes up to 4 MiB).
    static let maxBody = 64 << 10

    /// Parses `body` and queues its append to `stream`; calls `answered` on `loop` with the status and JSON body of
    /// the answer: at once for a body refused, after the commit for an append.
    static func start(stream: String, principal: String, body: ByteBuffer, daemon: Daemon, loop: any EventLoop,
                      answered: @escaping (HTTPResponse.Status, [UInt8]) -> Void) {
        let share: StreamAppend
        do throws(APIError) {
            try RawAppendBody.check(stream: stream)
            share = try RawAppendBody.parse(body, stream: stream, principal: principal)
        } catch {
            answered(error.status, error.body.jsonText)
            return
        }
        let bound = NIOLoopBound(answered, eventLoop: loop)
        let completion: @Sendable (Result<AppendResult, StoreError>) -> Void = { result in
            bound.eventLoop.execute {
                switch result {
                case .success(let appended):
                    let (status, text) = RawAppendBody.answer(appended)
                    bound.value(status, text)
                case .failure(let error):
                    let refusal = APIError.from(error)
                    bound.value(refusal.status, refusal.body.jsonText)
                }
            }
        }
        // A larger append is encoded on both cores (by a task): the event loop does not wait for it.
        if share.events.count > eventsOnLoop {
            let store = daemon.store
            Task {
                do { completion(.success(try await store.append([share]))) } catch {
                    completion(.failure(error as? StoreError ?? StoreError(.storage, "\(error)")))
                }
            }
        } else {
            daemon.store.append([share], completion: completion)
        }
    }

    /// Calls `field` with each header field of an answer whose body is `length` bytes, in order; `closing` adds
    /// `Connection: close`.
    static func headerFields(length: Int, closing: Bool, _ field: (_ name: String, _ value: String) -> Void) {
        field("Content-Type", JSONResponse.contentType)
        field("Content-Length", String(length))
        field("Date", HTTPDate.now)
        field("Server", "ledgerd")
        if closing { field("Connection", "close") }
    }
}
