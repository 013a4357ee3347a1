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
    /// The components a complete dossier holds (codes such as `TK01` for the application form); a dossier is
    /// received only with all of them.
    public var requiredComponents: [String]
    /// The fee schedule: what a financial obligation may ask, item by item (VND).
    public var fees: [Fee]
    /// The first day dossiers are received under this version (`nil`: from publication).
    public var effectiveFrom: CivilDate?
    /// The legal basis (the decision that published it), for the record.
    public var legalBasis: String?

    /// One item of a fee schedule.
    public struct Fee: Hashable, Sendable {
        /// The item's code (e.g. `LEPHI`, `PHI_THAM_DINH`).
        public var code: String
        /// The amount in VND.
        public var amount: Int64

        /// An item.
        public init(code: String, amount: Int64) {
            self.code = code
            self.amount = amount
        }
    }

    /// A procedure version.
    public init(code: String, version: Int, fieldCode: String, channels: Set<Channel>, onlineLevel: Int,
                duration: Duration, urgentWhitelist: Bool, requiredComponents: [String] = [], fees: [Fee] = [],
                effectiveFrom: CivilDate? = nil, legalBasis: String? = nil) {
        self.requiredComponents = requiredComponents
        self.fees = fees
        self.effectiveFrom = effectiveFrom
        self.legalBasis = legalBasis
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
