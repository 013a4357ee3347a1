public import EventStore
public import Foundation
public import Ledger

/// A real store in a temporary directory with a small organisation published through the command handlers:
/// agency `S` (the superior, head `s-1`), agency `A` (a ward under `S`) with its board `A.LD` (head `a-1`), a desk
/// `A.MC` (`a-7`) and a division `A.P1` (head `a-2`, officers `a-3` … `a-6`: headcount 5, cap 1 at 1/3); the 2020
/// calendar, a Directive-16 policy for April 2020 and a five-working-day procedure `P1` (level 3).
public struct Scenario: Sendable {
    public let root: String
    public let store: Store
    public let service: LedgerService

    /// A signing certificate valid through 2020 (VNPT-CA), for `approval.sign` and `approval.seal`.
    public static let certificate: JSONValue = .object([
        "serial": "54020AF1", "issuer": "VNPT-CA", "validFrom": "2019-06-01T00:00:00+07:00",
        "validTo": "2022-06-01T00:00:00+07:00"])

    /// Creates the store and publishes the organisation.
    public static func make(_ name: String = "scenario") async throws -> Scenario {
        let root = temporaryPath(name)
        var options = StoreOptions()
        options.mapSize = 1 << 30
        let store = try Store.create(at: root + "/log", origin: "scenario.example/log", options: options)
        let s = Scenario(root: root, store: store, service: try LedgerService(store: store, durability: .relaxed))
        let at = "2020-03-31T08:00:00+07:00"
        try await s.run("agency.define", "hr", .system, at, ["id": "S", "name": "Tỉnh", "level": "province"])
        try await s.run("agency.define", "hr", .system, at, ["id": "A", "name": "Phường A", "level": "ward",
                                                             "superior": "S"])
        for (id, agency, desk) in [("S.LD", "S", false), ("A.LD", "A", false), ("A.MC", "A", true), ("A.P1", "A", false)] {
            try await s.run("unit.define", "hr", .system, at, ["id": .string(id), "agency": .string(agency),
                                                               "name": .string(id), "desk": .bool(desk)])
        }
        let staff: [(String, String, Bool, String?)] = [
            ("s-1", "S.LD", true, nil), ("a-1", "A.LD", true, nil), ("a-2", "A.P1", true, "a-1"),
            ("a-3", "A.P1", false, "a-2"), ("a-4", "A.P1", false, "a-2"), ("a-5", "A.P1", false, "a-2"),
            ("a-6", "A.P1", false, "a-2"), ("a-7", "A.MC", false, "a-1"),
        ]
        for (id, unit, leader, head) in staff {
            var body: [String: JSONValue] = ["staff": .string(id), "unit": .string(unit), "position": "officer",
                                             "leader": .bool(leader), "from": "2020-01-01"]
            if let head { body["head"] = .string(head) }
            try await s.run("staff.assign", "hr", .system, at, body)
        }
        try await s.run("calendar.publish", "hr", .system, at, [
            "id": "VN", "holidays": .array(["2020-01-01", "2020-04-02", "2020-04-30", "2020-05-01"].map(JSONValue.string))])
        for scope in ["S", "A"] {
            try await s.run("policy.declare", "hr", .system, at, [
                "scope": .string(scope), "ratioNumerator": 1, "ratioDenominator": 3, "minLeaders": 1,
                "validFrom": "2020-04-01", "validTo": "2020-04-30", "directive16Intake": true])
        }
        try await s.run("procedure.publish", "hr", .system, at, [
            "code": "P1", "name": "Thủ tục một", "field": "HT", "onlineLevel": 3, "durationUnit": "workingDays",
            "duration": 5, "channels": .array(["online", "direct"])])
        return s
    }

    /// A roster line: `person` at `location` (ONSITE by default) on `date`.
    public static func rosterEntry(_ date: String, _ person: String, _ location: String = "ONSITE") -> JSONValue {
        .object(["date": .string(date), "person": .string(person), "location": .string(location)])
    }

    /// Runs a command at a local time (`2020-04-01T10:00:00+07:00`); returns `nil` when a check found nothing.
    @discardableResult
    public func run(_ type: String, _ staff: String, _ role: Actor.Role, _ at: String, _ body: [String: JSONValue],
                    unit: String? = nil, id: UUID = UUID()) async throws -> AppendResult? {
        let envelope = CommandEnvelope(commandID: id, type: type, actor: Actor(staffID: staff, role: role, unit: unit),
                                       occurredAt: Instant.parse(at)!, body: body)
        return try await service.execute(envelope, principal: "test", trustedTime: true)
    }

    /// Runs a command that must be refused; returns the refusal (`nil` when it was accepted).
    public func refusal(_ type: String, _ staff: String, _ role: Actor.Role, _ at: String, _ body: [String: JSONValue],
                        unit: String? = nil) async throws -> LedgerError? {
        do {
            try await run(type, staff, role, at, body, unit: unit)
            return nil
        } catch let error as LedgerError {
            return error
        }
    }

    /// Submits a dossier of `P1` online at `submit` (local time, `2020-04-01T09:00:00`), receives it at `receive`,
    /// transfers it to `A.P1`, assigns it to `assignee` and starts processing, five minutes apart.
    public func openDossier(_ id: UUID, submit: String, receive: String, assignee: String) async throws {
        let d = JSONValue.string(id.uuidString)
        try await run("dossier.submit", "portal", .applicant, submit + "+07:00", [
            "dossier": d, "procedure": "P1", "agency": "A", "channel": "online", "applicantName": "Trần Thị Bình",
            "applicantId": "079190000001"])
        try await run("dossier.receive", "a-7", .oneStopOfficer, receive + "+07:00", ["dossier": d], unit: "A.MC")
        let at = Instant.parse(receive + "+07:00")!
        // The file changes hands a minute before the step is recorded.
        try await run("dossier.transfer", "a-7", .oneStopOfficer, Instant.format(at + 300, utcOffset: 25_200),
                      ["dossier": d, "unit": "A.P1", "handedOverAt": .string(Instant.format(at + 240, utcOffset: 25_200))],
                      unit: "A.MC")
        try await run("dossier.assign", "a-2", .unitHead, Instant.format(at + 600, utcOffset: 25_200),
                      ["dossier": d, "assignee": .string(assignee)])
        try await run("dossier.startProcessing", .init(assignee), .specialist,
                      Instant.format(at + 900, utcOffset: 25_200), ["dossier": d])
    }

    /// The draft of every test approval: a SHA-256 of 64 `c`s.
    public static let draftSha256 = String(repeating: "c", count: 64)

    /// Opens a dossier as ``openDossier(_:submit:receive:assignee:)`` does (assignee `a-3`, 1 April) and has `a-3` submit
    /// a draft granting it for approval on 3 April 09:00; returns the approval's id.
    public func dossierAwaitingApproval(_ id: UUID) async throws -> UUID {
        try await openDossier(id, submit: "2020-04-01T09:00:00", receive: "2020-04-01T10:00:00", assignee: "a-3")
        let approval = UUID()
        try await run("dossier.submitForApproval", "a-3", .specialist, "2020-04-03T09:00:00+07:00", [
            "dossier": .string(id.uuidString), "approval": .string(approval.uuidString),
            "draftSha256": .string(Self.draftSha256), "outcome": "grant"])
        return approval
    }

    /// Closes the store and removes the directory.
    public func remove() {
        store.close()
        try? FileManager.default.removeItem(atPath: root)
    }
}
