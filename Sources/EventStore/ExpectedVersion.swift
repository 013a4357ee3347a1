/// What an append expects of a stream's version (design.md: versions start at 1; no stream reports 0).
///
/// ```swift
/// try await store.append(to: "dossier-1", expected: .noStream, [submitted])
/// try await store.append(to: "dossier-1", expected: .exact(1), [received])
/// ```
public enum ExpectedVersion: Sendable, Hashable, CustomStringConvertible {
    /// No expectation.
    case any
    /// The stream has no events.
    case noStream
    /// The stream has at least one event.
    case streamExists
    /// The stream's last version is exactly this (0 means no stream, like ``noStream``).
    case exact(UInt64)

    /// Whether a stream at `version` (0 = no stream) satisfies the expectation.
    public func isSatisfied(by version: UInt64) -> Bool {
        switch self {
        case .any: true
        case .noStream: version == 0
        case .streamExists: version > 0
        case .exact(let expected): version == expected
        }
    }

    /// A readable rendering.
    public var description: String {
        switch self {
        case .any: "any"
        case .noStream: "no stream"
        case .streamExists: "stream exists"
        case .exact(let v): "version \(v)"
        }
    }
}
