/// The one error type of the EventStore module.
///
/// ``code`` is stable (it is what programs and HTTP clients match on); ``message`` is a sentence for a person and
/// says what to do. The optional fields carry the facts an API needs to answer precisely, e.g. the actual
/// version of a stream after a failed expectation.
///
/// ```swift
/// do {
///     try await store.append(to: "dossier-42", expected: .exact(3), events)
/// } catch let error as StoreError where error.code == .wrongExpectedVersion {
///     print("stream is at", error.actualVersion ?? 0)
/// }
/// ```
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// A stable error code. New codes may be added; match with `==` against the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable text, e.g. `"wrong_expected_version"`.
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        /// A readable rendering.
        public var description: String { rawValue }

        /// An argument is not acceptable (a name too long, metadata not canonical, …). Nothing was written.
        public static let invalidArgument = Code("invalid_argument")
        /// A stream's version did not match the expectation. Nothing of that append was written.
        public static let wrongExpectedVersion = Code("wrong_expected_version")
        /// An event id is already stored with other content, or appears twice in one append.
        public static let idempotencyConflict = Code("idempotency_conflict")
        /// A payload part is larger than the store accepts.
        public static let eventTooLarge = Code("event_too_large")
        /// No store exists at the path.
        public static let notFound = Code("store_not_found")
        /// A store already exists at the path.
        public static let alreadyExists = Code("store_exists")
        /// The store was written by a newer format than this program understands.
        public static let unsupportedFormat = Code("unsupported_format")
        /// Another process holds the store's writer lock.
        public static let locked = Code("store_locked")
        /// This process already has the store open (LMDB forbids opening an environment twice in one process).
        public static let alreadyOpen = Code("store_already_open")
        /// The disk is full. Nothing of the failed batch was written; free space and retry.
        public static let diskFull = Code("disk_full")
        /// The store was closed.
        public static let closed = Code("store_closed")
        /// The store was opened read-only.
        public static let readOnly = Code("read_only")
        /// Stored bytes are not what the store wrote: the files were changed or damaged.
        public static let corrupt = Code("corrupt")
        /// A subscriber fell further behind the head than its subscription allows.
        public static let subscriberTooSlow = Code("subscriber_too_slow")
        /// Signing refused: the log does not extend the checkpoint signed before (a restore from an older backup,
        /// or a changed log).
        public static let rollbackDetected = Code("rollback_detected")
        /// An operating-system or LMDB error not covered by another code.
        public static let storage = Code("storage")
    }

    /// What went wrong, stably.
    public let code: Code
    /// A sentence saying what happened and what to do.
    public let message: String
    /// The stream concerned, when there is one.
    public var stream: String?
    /// The stream's actual version (0 = no stream) for ``Code/wrongExpectedVersion``.
    public var actualVersion: UInt64?
    /// The log position concerned, when there is one.
    public var position: UInt64?

    /// Creates an error.
    public init(_ code: Code, _ message: String, stream: String? = nil, actualVersion: UInt64? = nil,
                position: UInt64? = nil) {
        self.code = code
        self.message = message
        self.stream = stream
        self.actualVersion = actualVersion
        self.position = position
    }

    /// A readable rendering.
    public var description: String { "\(code): \(message)" }
}

extension StoreError {
    /// Wraps an LMDB failure with what the store was doing.
    init(_ error: LMDBError, while doing: String) {
        switch error {
        case .mapFull:
            self.init(.storage, "\(doing): the memory map is full (\(error)); reopen the store with a larger map size")
        case .noSpace:
            self.init(.diskFull, "\(doing): the disk is full; nothing of this batch was written, free space and retry")
        case .readersFull:
            self.init(.storage, "\(doing): all LMDB reader slots are taken; close idle readers or raise maxReaders")
        default:
            self.init(.storage, "\(doing): \(error) (LMDB code \(error.code))")
        }
    }

    /// Wraps a decoding failure of stored bytes.
    init(corrupt what: String, position: UInt64?, detail: String) {
        let at = position.map { " at position \($0)" } ?? ""
        self.init(.corrupt, "stored \(what)\(at) is malformed (\(detail)); run `ledgerd verify` and restore from a backup",
                  position: position)
    }
}
