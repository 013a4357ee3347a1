/// One published version of an administrative procedure: what a dossier pins when it is received.
public struct ProcedureVersion: Hashable, Sendable {
    /// The legal duration.
    public enum Duration: Hashable, Sendable {
        /// Working days (8 working hours each).
        case workingDays(Int)
        /// Working hours.
        case workingHours(Int)
        /// Same day, with the calendar's cut-off (15:00): later receipts are due at the end of the next working day.
        case sameDay
    }

    /// The national code, e.g. `1.001193` (with a local suffix where one exists).
    public var code: String
    /// The version number.
    public var version: Int
    /// The field (sector) code.
    public var fieldCode: String
    /// The channels it can be submitted through.
    public var channels: Set<Channel>
    /// Online service level (1–4); level 3 and 4 may be submitted online under Directive 16.
    public var onlineLevel: Int
    /// The legal duration.
    public var duration: Duration
    /// Whether it is on Directive 16's urgent list (birth, death, certifications, COVID-related…), which may still be
    /// received on paper.
    public var urgentWhitelist: Bool

    /// A procedure version.
    public init(code: String, version: Int, fieldCode: String, channels: Set<Channel>, onlineLevel: Int,
                duration: Duration, urgentWhitelist: Bool) {
        self.code = code
        self.version = version
        self.fieldCode = fieldCode
        self.channels = channels
        self.onlineLevel = onlineLevel
        self.duration = duration
        self.urgentWhitelist = urgentWhitelist
    }
}

/// How a dossier reaches the one-stop desk (the national codes: 1 direct, 2 online, 3 public postal).
public enum Channel: Int, Hashable, Sendable, CaseIterable {
    /// At the counter.
    case direct = 1
    /// Online, through the public-service portal.
    case online = 2
    /// By public postal service.
    case postal = 3
}

extension Channel {
    /// The name commands and reference data use: `direct`, `online`, `postal`.
    public var name: String {
        switch self {
        case .direct: "direct"
        case .online: "online"
        case .postal: "postal"
        }
    }

    /// The channel of a name (`counter` is read as `direct`), or `nil`.
    public init?(name: String) {
        switch name {
        case "direct", "counter": self = .direct
        case "online": self = .online
        case "postal": self = .postal
        default: return nil
        }
    }
}
