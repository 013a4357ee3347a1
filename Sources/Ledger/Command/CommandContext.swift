public import Foundation

/// Who sends a command, on whose behalf and when: what every event the command causes records (design.md, "Who and
/// whom"; "Clocks").
public struct CommandContext: Sendable, Hashable {
    /// The client's command id; the events' ids derive from it (``CommandEventIDs``).
    public var commandID: UUID
    /// The acting official (the record's `actor`) and the role they act in.
    public var actor: Actor
    /// The Unix account that sent it (metadata `principal`).
    public var principal: String
    /// The domain time of the command (UTC seconds): the server's clock, or the sender's for import and system
    /// principals.
    public var occurredAt: Int64
    /// The acting official's unit, when known (metadata `unit`).
    public var unit: String?
    /// The official the actor acts for under a delegation (metadata `on_behalf_of`).
    public var onBehalfOf: String?
    /// The Decree-30 signing capacity (KT, TL, TUQ, Q; metadata `capacity`).
    public var capacity: String?
    /// The command's type (metadata `command_type`): a command id reused for another command is refused.
    public var commandType: String?
    /// The events' correlation id (the record's): the client's workflow id, else the command id.
    public var correlationID: UUID?
    /// The events' causation id (the record's): the event that prompted the command, else the command id.
    public var causationID: UUID?
    /// The count of reference-data changes the decision was made under (``ReferenceData/changesStream``'s version):
    /// the append expects it, so a reference change made meanwhile sends the command back to be decided again.
    /// `nil` for reference commands, which write the stream themselves.
    public var referenceChanges: UInt64?

    /// A command's context.
    public init(commandID: UUID, actor: Actor, principal: String, occurredAt: Int64, unit: String? = nil,
                onBehalfOf: String? = nil, capacity: String? = nil, commandType: String? = nil,
                correlationID: UUID? = nil, causationID: UUID? = nil) {
        self.commandType = commandType
        self.correlationID = correlationID
        self.causationID = causationID
        self.commandID = commandID
        self.actor = actor
        self.principal = principal
        self.occurredAt = occurredAt
        self.unit = unit
        self.onBehalfOf = onBehalfOf
        self.capacity = capacity
    }
}

/// One event a decision produces, before the handler gives it an id and metadata.
public struct NewEvent: Sendable, Hashable {
    /// The type with its schema version, e.g. `CheckedIn.v2`.
    public var type: String
    /// The facts part (facts v1).
    public var facts: [UInt8]
    /// The personal part, if any.
    public var personal: [UInt8]?
    /// The data subject the personal part is about (required with a personal part).
    public var subject: UUID?

    /// An event to append.
    public init(type: String, facts: [UInt8], personal: [UInt8]? = nil, subject: UUID? = nil) {
        self.type = type
        self.facts = facts
        self.personal = personal
        self.subject = subject
    }

    /// An event from a type and a facts writer.
    public init(_ type: String, _ facts: Facts.Writer) {
        self.init(type: type, facts: facts.finish())
    }
}

/// A stream's share of a decision: the events to append and the version the decision read (0 = no stream), which
/// becomes the append's exact expectation. A share without events guards a stream the decision only read.
public struct PlannedAppend: Sendable, Hashable {
    /// The stream.
    public var stream: String
    /// The version read.
    public var readVersion: UInt64
    /// The events.
    public var events: [NewEvent]

    /// A share.
    public init(stream: String, readVersion: UInt64, events: [NewEvent]) {
        self.stream = stream
        self.readVersion = readVersion
        self.events = events
    }
}
