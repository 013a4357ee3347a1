import EventStore
import Foundation

extension LedgerService {
    /// The steps of a graded approval taken only on site (numbering, issuing and withdrawing do not touch the draft).
    static let onsiteSteps: Set<String> = [
        "approval.approve", "approval.return", "approval.reject", "approval.resubmit", "approval.sign", "approval.seal",
    ]

    static let approvalCommands: Set<String> = [
        "approval.approve", "approval.return", "approval.reject", "approval.resubmit", "approval.sign", "approval.seal",
        "approval.number", "approval.issue", "approval.withdraw", "approval.request", "approval.reroute",
        "delegation.grant", "delegation.revoke",
    ]

    /// The delegations `person` gave, folded from `delegation-<person>`, and the stream's version (0: none).
    func delegations(from person: String) throws -> ([Delegation], UInt64) {
        try handler.load(Delegation.stream(from: person), [Delegation]()) { list, e in
            try Delegation.apply(e.record.eventType, e.facts ?? [], to: list, eventID: e.record.eventID)
        }
    }

    func executeApproval(_ c: Command) async throws -> AppendResult {
        let b = c.body
        if c.envelope.type == "delegation.grant" {
            return try await handler.execute(c.context) {
                // Only a leader gives away signing authority (it is theirs to give).
                let day = try c.today()
                guard c.reference.assignment(of: c.actor.staffID, on: day)?.isLeader == true else {
                    throw LedgerError(.notPermitted, "\(c.actor.staffID) is not a leader on \(day): only a leader "
                        + "delegates signing authority")
                }
                let read = try store.readCategory("delegation", limit: .max, payloads: .facts)
                var byStream = [String: [Delegation]]()
                for e in read {
                    byStream[e.record.stream] = try Delegation.apply(e.record.eventType, e.facts ?? [],
                                                                      to: byStream[e.record.stream] ?? [],
                                                                      eventID: e.record.eventID)
                }
                let all = byStream.keys.sorted().flatMap { byStream[$0]! }
                // The checks read every delegation: guard every stream read, and the delegate's own (a concurrent
                // grant back would close a cycle).
                var versions = [String: UInt64]()
                for e in read { versions[e.record.stream] = max(versions[e.record.stream] ?? 0, e.record.streamVersion) }
                var subjects = Set<Delegation.Subject>()
                for name in try b.strings("subjects") {
                    guard let subject = Delegation.Subject(rawValue: name) else {
                        throw LedgerError(.badField, "body.subjects lists \"\(name)\"; the subjects are "
                            + Delegation.Subject.allCases.map(\.rawValue).joined(separator: ", "), field: "body.subjects")
                    }
                    subjects.insert(subject)
                }
                let new = Delegation(id: b.fields["delegation"] == nil ? c.context.commandID : try b.uuid("delegation"),
                                     from: c.actor.staffID, to: try b.string("to"),
                                     capacity: try b.choice("capacity", Delegation.Capacity.self),
                                     validFrom: try b.instant("validFrom"), validTo: try b.instant("validTo"),
                                     recordedAt: c.at, subjects: subjects,
                                     documentRef: try b.optionalString("documentRef"))
                try Delegation.checkCapacity(new, reference: c.reference, on: day)
                try Delegation.validate(new, existing: all)
                if all.contains(where: { $0.id == new.id }) {
                    throw LedgerError(.invalidCommand, "delegation \(new.id) exists; give a new one a new id")
                }
                let stream = Delegation.stream(from: new.from)
                let target = Delegation.stream(from: new.to)
                versions[target] = versions[target] ?? 0
                let guards = versions.filter { $0.key != stream }.sorted { $0.key < $1.key }
                    .map { PlannedAppend(stream: $0.key, readVersion: $0.value, events: []) }
                return [PlannedAppend(stream: stream, readVersion: versions[stream] ?? 0, events: [new.new])] + guards
            }
        }
        if c.envelope.type == "delegation.revoke" {
            // The delegator, or their direct head, ends a delegation from now on.
            let from = try b.optionalString("from") ?? c.actor.staffID
            if from != c.actor.staffID {
                let head = c.reference.assignment(of: from, on: try c.today())?.directHead
                guard head == c.actor.staffID else {
                    throw LedgerError(.notPermitted, "only \(from) or their direct head (\(head ?? "none")) revokes "
                        + "\(from)'s delegations")
                }
            }
            // A revocation names the delegation (`delegation`), or its delegate and capacity (all of those).
            let id = b.fields["delegation"] == nil ? nil : try b.uuid("delegation")
            return try await handler.execute(c.context) {
                let stream = Delegation.stream(from: from)
                let (given, version) = try delegations(from: from)
                let target: Delegation
                if let id {
                    guard let d = given.first(where: { $0.id == id && $0.validTo > c.at }) else {
                        throw LedgerError(.invalidCommand, "\(from) has no delegation \(id) in force or to come")
                    }
                    target = d
                } else {
                    let to = try b.string("to")
                    let capacity = try b.choice("capacity", Delegation.Capacity.self)
                    guard let d = given.first(where: { $0.to == to && $0.capacity == capacity && $0.validTo > c.at }) else {
                        throw LedgerError(.invalidCommand, "\(from) has no \(capacity.rawValue) delegation to \(to) in force "
                            + "or to come")
                    }
                    target = d
                }
                return [PlannedAppend(stream: stream, readVersion: version,
                                      events: [Delegation.revocation(id: id, from: from, to: target.to,
                                                                     capacity: target.capacity, by: c.actor.staffID,
                                                                     at: c.at)])]
            }
        }
        let id = try b.uuid("approval")
        if c.envelope.type == "approval.request" {
            // An outgoing document's draft (a dossier's goes through dossier.submitForApproval): the chain is the
            // submitter's unit head, then the agency head, neither being the submitter.
            let day = try c.today()
            guard let mine = c.reference.assignment(of: c.actor.staffID, on: day),
                  let agency = c.reference.agency(ofUnit: mine.unit) else {
                throw LedgerError(.notFound, "\(c.actor.staffID) is on no unit's staff on \(day)")
            }
            let reference = try b.string("documentRef")
            guard !reference.isEmpty, reference.count <= 80 else {
                throw LedgerError(.badField, "body.documentRef names the draft document (1–80 characters)",
                                  field: "body.documentRef")
            }
            guard let agencyHead = c.reference.head(of: agency, on: day) else {
                throw LedgerError(.notPermitted, "agency \(agency) has no head on \(day) (the head left, with no deputy "
                    + "to act); a document cannot be approved until a head is assigned")
            }
            var seen = Set<String>()
            let chain = [c.reference.head(ofUnit: mine.unit, on: day), agencyHead]
                .compactMap { $0 }.filter { $0 != c.actor.staffID && seen.insert($0).inserted }
            guard !chain.isEmpty else {
                throw LedgerError(.notPermitted, "four eyes: nobody but the submitter heads \(mine.unit) or \(agency)")
            }
            let level = try b.optionalChoice("securityLevel", SecurityLevel.self)
            let stream = "approval-\(id.uuidString.lowercased())"
            return try await handler.execute(c.context) {
                var guards = [PlannedAppend]()
                var onsite = false
                if level != nil {
                    let (person, v) = try self.person(c.actor.staffID)
                    onsite = person.isOnsite(on: day)
                    guards.append(PlannedAppend(stream: "person-\(c.actor.staffID)", readVersion: v, events: []))
                }
                guard try store.streamInfo(stream) == nil else {
                    throw LedgerError(.invalidCommand, "approval \(id) already exists; a new draft takes a new id")
                }
                let events = try Approval.decide(Approval(), .request(processors: [c.actor.staffID], chain: chain,
                                                                      draftSha256: try b.string("draftSha256"),
                                                                      at: c.at, kind: .outgoingDocument,
                                                                      securityLevel: level),
                                                 by: c.actor.staffID, onsite: onsite)
                return [PlannedAppend(stream: stream, readVersion: 0,
                                      events: events.map { $0.new(subject: "document:" + reference) })] + guards
            }
        }
        return try await handler.execute(c.context) {
            let (state, subject, version) = try approval(id)
            let command: ApprovalCommand
            var register: PlannedAppend?
            var extraGuards = [PlannedAppend]()
            switch c.envelope.type {
            case "approval.number", "approval.issue", "approval.seal":
                guard [.clerk, .oneStopOfficer].contains(c.actor.role) else {
                    throw LedgerError(.notPermitted, "the clerk seals, numbers and issues signed documents")
                }
                let calendar = try c.workingCalendar().calendar
                let today = calendar.local(c.at).date
                // Only a clerk of the document's agency seals, numbers and issues it.
                let agency = try approvalAgency(state, subject: subject, c, on: today)
                guard let agency, let clerkUnit = c.reference.assignment(of: c.actor.staffID, on: today)?.unit,
                      c.reference.agency(ofUnit: clerkUnit) == agency else {
                    throw LedgerError(.notPermitted, "a clerk of \(agency ?? "the document's agency") handles its "
                        + "documents; \(c.actor.staffID) is not one")
                }
                switch c.envelope.type {
                case "approval.seal":
                    command = .seal(signedSha256: try b.string("signedSha256"), certificate: try Self.certificate(b),
                                    at: c.at)
                case "approval.issue":
                    let channel = try b.choice("channel", Approval.IssueChannel.self)
                    // Issued no later than the end of the next working day after signing (Decree 30).
                    let signed = calendar.local(state.signedAt ?? c.at).date
                    let next = calendar.nextWorkingDay(after: signed)
                    let deadline = calendar.instant(next, minute: calendar.sessions.last!.end)
                    command = .issue(recipients: try b.strings("recipients"), channel: channel, deadline: deadline,
                                     at: c.at)
                default:
                    // The register's numbers run 1, 2, … per calendar year: the next is its stream's version + 1, and
                    // the append expects that version, so two clerks never take the same number.
                    let name = try b.string("register")
                    guard !name.isEmpty, name.count <= 40,
                          name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._".contains($0)) }) else {
                        throw LedgerError(.badField, "body.register is 1–40 letters, digits, dots or underscores",
                                          field: "body.register")
                    }
                    let stream = "docregister-\(agency)-\(name)-\(today.year)"
                    let registerVersion = try store.streamInfo(stream)?.version ?? 0
                    let number = Int(registerVersion) + 1
                    var w = Facts.Writer()
                    w.field("approval", id)
                    w.field("number", number)
                    register = PlannedAppend(stream: stream, readVersion: registerVersion,
                                             events: [NewEvent("DocumentNumberTaken.v1", w)])
                    command = .number(register: name, number: number, symbol: try b.string("symbol"), issueDate: today,
                                      at: c.at)
                }
            case "approval.withdraw": command = .withdraw(reason: try b.string("reason"), at: c.at)
            case "approval.reroute":
                // The agency head hands a level whose holder left the service to another leader on staff.
                let today = try c.today()
                let agency = try approvalAgency(state, subject: subject, c, on: today)
                guard let agency, c.reference.head(of: agency, on: today) == c.actor.staffID else {
                    throw LedgerError(.notPermitted, "the head of \(agency ?? "the approval's agency") re-routes its "
                        + "approvals; \(c.actor.staffID) is not")
                }
                let level = Int(try b.int("level"))
                let to = try b.string("to")
                let holder = level >= 1 && level <= state.chain.count ? state.chain[level - 1] : ""
                let newHolder = c.reference.assignment(of: to, on: today)
                command = .reroute(level: level, to: to,
                                   holderOnStaff: c.reference.assignment(of: holder, on: today) != nil,
                                   toIsLeader: newHolder?.isLeader == true
                                       && newHolder.flatMap { c.reference.agency(ofUnit: $0.unit) } == agency,
                                   at: c.at)
                // Both officials' staff streams are guarded: a departure or an assignment racing the decision retries.
                for person in Set([holder, to]) where !person.isEmpty {
                    let stream = "staff-\(person)"
                    extraGuards.append(PlannedAppend(stream: stream, readVersion: try store.streamInfo(stream)?.version ?? 0,
                                                     events: []))
                }
            case "approval.approve":
                command = .approve(at: c.at, comment: try b.optionalString("comment").flatMap { $0.isEmpty ? nil : $0 })
            case "approval.return": command = .returnForRevision(comments: try b.strings("comments"), at: c.at)
            case "approval.reject": command = .reject(reasons: try b.strings("reasons"), at: c.at)
            case "approval.resubmit":
                let restart = try b.optionalString("restart") ?? "FIRST"
                guard ["FIRST", "RETURNING"].contains(restart) else {
                    throw LedgerError(.badField, "body.restart is FIRST (the chain starts again at level 1, the default) "
                        + "or RETURNING (at the level that returned it)", field: "body.restart")
                }
                command = .resubmit(draftSha256: try b.string("draftSha256"), at: c.at,
                                    changeNote: try b.optionalString("changeNote").flatMap { $0.isEmpty ? nil : $0 },
                                    fromReturningLevel: restart == "RETURNING")
            default:
                command = .sign(signedSha256: try b.string("signedSha256"), at: c.at, certificate: try Self.certificate(b))
            }
            // The delegations given by the chain's holders, each stream guarded as read.
            var delegations = [Delegation]()
            var guards = [PlannedAppend]()
            for holder in Set(state.chain).sorted() {
                let (given, v) = try self.delegations(from: holder)
                delegations += given
                // Guarded even when the holder has delegated nothing yet (version 0: no stream).
                guards.append(PlannedAppend(stream: Delegation.stream(from: holder), readVersion: v, events: []))
            }
            // A graded draft is handled on site: for the steps that touch it, the actor's check-in today is read, and
            // guarded.
            var onsite = false
            if state.securityLevel != nil, Self.onsiteSteps.contains(c.envelope.type) {
                let (person, v) = try self.person(c.actor.staffID)
                onsite = person.isOnsite(on: try c.today())
                guards.append(PlannedAppend(stream: "person-\(c.actor.staffID)", readVersion: v, events: []))
            }
            let events = try Approval.decide(state, command, by: c.actor.staffID, delegations: delegations,
                                             onsite: onsite)
            // A dossier's draft: a return or a rejection sends it back to its processor, a revised draft resubmitted
            // to the same approval puts the dossier back in it (awaiting approval, with the new draft's hash), and
            // free text goes in the personal part under the applicant's subject. The dossier is read once for both.
            var change: DossierCommand?
            switch events.first {
            case .returnedForRevision?: change = .approvalReturned(approvalID: id, rejected: false, at: c.at)
            case .withdrawn?: change = .approvalWithdrawn(approvalID: id, at: c.at)
            case .rejected?: change = .approvalReturned(approvalID: id, rejected: true, at: c.at)
            case .resubmitted(let sha, _, _, _)?:
                change = .submitForApproval(approvalID: id, draftSha256: sha,
                                            outcome: try b.choice("outcome", ProposedOutcome.self), at: c.at)
            default: break
            }
            let freeText = events.contains(where: \.carriesFreeText)
            var dossierShare: PlannedAppend?
            var dataSubject: UUID?
            if let subject, let dossier = Self.dossierID(ofSubject: subject), change != nil || freeText {
                let handler = DossierHandler(store: store)
                let (dossierState, dossierVersion) = try handler.load(dossier)
                if freeText {
                    dataSubject = try handler.personalSubject(dossierState, dossier: dossier,
                                                              commandID: c.context.commandID)
                }
                if let change {
                    // A withdrawal after a return finds the dossier back in processing already: nothing to move.
                    let waiting = dossierState.status == .pendingApproval && dossierState.approvalID == id
                    var nothingToMove = false
                    if case .approvalWithdrawn = change { nothingToMove = !waiting }
                    let moved = nothingToMove ? [] : try Dossier.decide(dossierState, change, by: c.actor)
                    dossierShare = PlannedAppend(stream: subject, readVersion: dossierVersion,
                                                 events: moved.map { NewEvent(type: $0.type, facts: $0.encoded.facts) })
                }
            }
            let shares = [PlannedAppend(stream: "approval-\(id.uuidString.lowercased())", readVersion: version,
                                        events: events.map { $0.new(dataSubject: dataSubject) })]
                + (dossierShare.map { [$0] } ?? [])
            return shares + guards + extraGuards + (register.map { [$0] } ?? [])
        }
    }

    /// The dossier an approval decides, from the subject its request names (`dossier-<id>`), or `nil`.
    static func dossierID(ofSubject subject: String?) -> UUID? {
        guard let subject, subject.hasPrefix("dossier-") else { return nil }
        return UUID(uuidString: String(subject.dropFirst(8)))
    }

    /// The agency an approval belongs to: its dossier's, or for an outgoing document its submitter's (on `day`).
    func approvalAgency(_ state: Approval, subject: String?, _ c: Command, on day: CivilDate) throws -> String? {
        if let dossier = Self.dossierID(ofSubject: subject) {
            return try DossierHandler(store: store).load(dossier).state.agencyID
        }
        // The submitter's assignment that day, else their last one (a submitter who has left).
        let assignment = c.reference.assignment(of: state.submitter, on: day) ?? c.reference.assignments[state.submitter]?.last
        return assignment.flatMap { c.reference.agency(ofUnit: $0.unit) }
    }

    /// A signature's certificate from `body.certificate` ({serial, issuer, validFrom, validTo}): every new
    /// signature names the certificate it was made with (events recorded before it was required may lack one).
    static func certificate(_ b: CommandBody) throws(LedgerError) -> Approval.Certificate? {
        guard let c = try b.object("certificate") else {
            throw LedgerError(.badField, "body.certificate names the signing certificate: {serial, issuer, validFrom, "
                + "validTo}", field: "body.certificate")
        }
        return .init(serial: try c.string("serial"), issuer: try c.string("issuer"), validFrom: try c.instant("validFrom"),
                     validTo: try c.instant("validTo"))
    }
}
