import Foundation

extension Store {
    /// The stream of projection attestations (leaf type 3).
    public static let attestationStream = "projection-attestations"
    /// Their event type.
    public static let attestationType = "ProjectionAttested.v1"

    /// A digest of derived state as of a log position, recorded in the log itself (leaf type 3), so the next signed
    /// checkpoint commits to it: anyone holding the log can rebuild the projection to `position` and compare.
    public struct Attestation: Sendable, Hashable, Codable {
        /// The projection's name.
        public var projection: String
        /// Its code version.
        public var version: UInt32
        /// The log position the state reflects (the events before it).
        public var position: UInt64
        /// The state's SHA-256 in hex, over the projection's documented canonical encoding.
        public var digest: String

        /// An attestation.
        public init(projection: String, version: UInt32, position: UInt64, digest: String) {
            self.projection = projection
            self.version = version
            self.position = position
            self.digest = digest
        }
    }

    /// Records an attestation; the state must reflect a position the log holds.
    ///
    /// - Throws: ``StoreError`` (`invalid_argument` for a position past the head or a digest that is not 64 hex
    ///   digits).
    @discardableResult
    public func attest(_ attestation: Attestation, actor: String = "") async throws -> AppendResult {
        guard attestation.position <= head else {
            throw StoreError(.invalidArgument, "an attestation at position \(attestation.position) is past the log's "
                + "head \(head)")
        }
        guard attestation.digest.count == 64, attestation.digest.allSatisfy(\.isHexDigit),
              !attestation.projection.isEmpty else {
            throw StoreError(.invalidArgument, "an attestation names a projection and a SHA-256 digest in 64 hex digits")
        }
        let facts = try JSONEncoder.sorted.encode(attestation)
        return try await appendAdmin(StreamAppend(stream: Self.attestationStream, events: [
            EventData(type: Self.attestationType, facts: Array(facts), actor: actor, leafType: .attestation),
        ]))
    }

    /// Every attestation recorded, in log order, with the log position of its own record.
    public func attestations() throws -> [(position: UInt64, attestation: Attestation)] {
        try readStream(Self.attestationStream, limit: .max, payloads: .facts).map {
            ($0.position, try JSONDecoder().decode(Attestation.self, from: Data($0.facts ?? [])))
        }
    }
}

extension JSONEncoder {
    /// Keys sorted, so equal values encode to equal bytes.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
