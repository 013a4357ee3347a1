/// A refused command: a stable code for programs (HTTP 422 bodies) and a sentence for people that says what to do.
///
/// ```swift
/// throw LedgerError(.invalidState, "dossier is resolved; a resolved dossier cannot be assigned")
/// ```
public struct LedgerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable code; new ones may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's text, e.g. `"invalid_state"`.
        public let rawValue: String
        /// A code from its text (codes read back from JSON).
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// A readable rendering.
        public var description: String { rawValue }

        /// The aggregate is not in a state that allows the command.
        public static let invalidState = Code("invalid_state")
        /// A required field is missing or malformed.
        public static let invalidCommand = Code("invalid_command")
        /// The Directive-16 intake policy refuses the channel for this procedure.
        public static let channelNotAllowed = Code("channel_not_allowed")
        /// The actor may not do this (role, four eyes, not the assignee).
        public static let notPermitted = Code("not_permitted")
        /// A deadline rule is broken (e.g. an apology after the due instant).
        public static let deadlineRule = Code("deadline_rule")
        /// The unit's on-site cap for the day is reached (Directive 16).
        public static let capReached = Code("cap_reached")
        /// A second supplementation request without the unit head's override.
        public static let secondSupplementNeedsOverride = Code("second_supplement_needs_override")
        /// A system check found nothing to record (not a failure).
        public static let nothingToRecord = Code("nothing_to_record")
        /// A command names something that does not exist (a dossier, a unit, a staff member, a procedure).
        public static let notFound = Code("not_found")
        /// A field of the command is missing or has the wrong type (HTTP 400, naming ``LedgerError/field``).
        public static let badField = Code("bad_field")
    }

    /// What went wrong, stably.
    public let code: Code
    /// What happened and what to do.
    public let message: String
    /// The command field at fault, for ``Code/badField``.
    public let field: String?

    /// A refusal.
    public init(_ code: Code, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    /// A readable rendering.
    public var description: String { "\(code): \(message)" }
}
