/// Where a projection stands (``ProjectionRunner/status(of:)``).
public struct ProjectionStatus: Sendable, Hashable {
    /// The next log position it folds (= events applied).
    public var position: UInt64
    /// How far behind the log's head it is.
    public var lag: UInt64
    /// Events folded per second over the last ten seconds (0 when idle).
    public var rate: Double
    /// Why it stopped, when an event could not be folded: the projection stays at the checkpoint before the batch
    /// that failed (its state untouched by it) and is skipped until it is rebuilt; the others go on.
    public var stopped: String?
}

/// One projection's recent progress and failure, kept in memory by the runner.
struct ProjectionHealth {
    static let window: Duration = .seconds(10)
    /// `(when, position reached)` of recent commits, oldest first.
    var samples: [(ContinuousClock.Instant, UInt64)] = []
    var stopped: String?

    mutating func committed(_ position: UInt64, at now: ContinuousClock.Instant = .now) {
        samples.append((now, position))
        samples.removeAll { now - $0.0 > Self.window }
    }

    /// Events per second between the oldest and the newest commit still inside the window (0 when idle).
    func rate(at now: ContinuousClock.Instant = .now) -> Double {
        guard let last = samples.last, now - last.0 <= Self.window, let first = samples.first, first.0 < last.0
        else { return 0 }
        let seconds = Double((last.0 - first.0).components.seconds) + Double((last.0 - first.0).components.attoseconds) / 1e18
        return seconds > 0 ? Double(last.1 - first.1) / seconds : 0
    }
}

/// A projection could not fold an event and stopped (see ``ProjectionStatus/stopped``); rebuild it once the cause
/// is fixed (`ledgerd rebuild --projection NAME`).
public struct ProjectionStopped: Error, CustomStringConvertible {
    /// The projection's name.
    public var projection: String
    /// What failed, with the positions of the batch.
    public var reason: String

    /// A readable description.
    public var description: String { reason }
}
