import Crypto
import EventStore
import Foundation

extension LedgerService {
    static let dossierCommands: Set<String> = [
        "dossier.submit", "dossier.refuseIntake", "dossier.requestIntakeSupplement", "dossier.receive",
        "dossier.transfer", "dossier.assign", "dossier.startProcessing", "dossier.requestSupplement", "dossier.approveSecondSupplement",
        "dossier.receiveSupplement", "dossier.requestPayment", "dossier.payFee", "dossier.submitForApproval",
        "dossier.resolve", "dossier.refuse", "dossier.issueApology", "dossier.requestWithdrawal", "dossier.withdraw", "dossier.returnResult",
        "dossier.addNote", "dossier.consult", "dossier.recordConsultationAnswer", "dossier.confirmDelivery",
        "dossier.recordFeedback", "system.deadlineCheck",
    ]

    /// Steps the one-stop desk or the clerk takes, only for dossiers of their own agency.
    static let agencyStaffSteps: Set<String> = [
        "dossier.refuseIntake", "dossier.requestIntakeSupplement", "dossier.receiveSupplement", "dossier.payFee",
        "dossier.resolve", "dossier.refuse", "dossier.returnResult", "dossier.confirmDelivery", "dossier.requestWithdrawal",
        "dossier.withdraw",
    ]

    func executeDossier(_ c: Command) async throws -> AppendResult {
        let b = c.body
        let id = try b.uuid("dossier")
        let dossiers = DossierHandler(store: store)
        // The applicant's subject: the one given, else the citizen's own (the same across their dossiers), else a new
        // one derived from the command (so a retry carries it).
        var subject: UUID?
        if let text = try b.optionalString("subject") {
            guard let given = UUID(uuidString: text) else {
                throw LedgerError(.badField, "body.subject must be a UUID (a pseudonymous data-subject id)",
                                  field: "body.subject")
            }
            subject = given
        }
        // (A missing ID number is named in the order of the body's fields, by the decision below.)
        if c.envelope.type == "dossier.submit", let idNumber = try b.optionalString("applicantId") {
            // A retry is answered with its original result before anything is checked again.
            if let earlier = try handler.appliedBefore(c.context) { return earlier }
            let (known, givenIsAnothers) = try await citizens.lookup(idNumber, given: subject, in: store)
            if let given = subject {
                // A subject given by the client must be the citizen's own, and never an erased one.
                guard known == nil || known == given else {
                    throw LedgerError(.badField, "body.subject is not the subject this applicant already has; omit it",
                                      field: "body.subject")
                }
                guard !givenIsAnothers else {
                    throw LedgerError(.badField, "body.subject belongs to another applicant; omit it", field: "body.subject")
                }
                guard try !store.isErased(given) else {
                    throw LedgerError(.badField, "body.subject was erased; omit it and a new subject is given",
                                      field: "body.subject")
                }
            }
            subject = subject ?? known ?? CommandEventIDs.eventID(command: c.context.commandID, index: 9_999)
        }
        return try await handler.execute(c.context) {
            let (state, version) = try dossiers.load(id)
            // The desk's and the clerk's steps are taken by staff of the dossier's agency.
            if Self.agencyStaffSteps.contains(c.envelope.type), [.oneStopOfficer, .clerk].contains(c.actor.role),
               state.status != nil {
                let day = try c.today()
                guard let unit = c.reference.assignment(of: c.actor.staffID, on: day)?.unit,
                      c.reference.agency(ofUnit: unit) == state.agencyID else {
                    throw LedgerError(.notPermitted, "\(c.actor.staffID) is not on the staff of \(state.agencyID), whose "
                        + "dossier this is")
                }
            }
            func pinned() throws -> WorkingCalendar {
                guard let versions = c.reference.calendars[calendarID], versions.indices.contains(state.calendarVersion - 1)
                else { return try c.workingCalendar().calendar }
                return versions[state.calendarVersion - 1]
            }
            var extra = [PlannedAppend]()
            let command: DossierCommand
            switch c.envelope.type {
            case "dossier.submit":
                let code = try b.string("procedure")
                let version = b.fields["version"] == nil ? nil : Int(try b.int("version"))
                let day = try c.today()
                // A dossier is received under the version in force that day; another is not applied for.
                guard let current = c.reference.procedure(code, inForceOn: day) else {
                    throw LedgerError(.notFound, "no procedure \(code) in force on \(day)")
                }
                if let version, c.reference.procedure(code, version: version) == nil {
                    throw LedgerError(.notFound, "no procedure \(code) version \(version)")
                }
                if let version, version != current.version {
                    throw LedgerError(.invalidCommand, "procedure \(code) version \(version) is not the one in force on "
                        + "\(day) (version \(current.version)); submit under it (omit body.version)", field: "body.version")
                }
                let procedure = current
                let agency = try b.string("agency")
                guard c.reference.agencies[agency] != nil else { throw LedgerError(.notFound, "no agency \(agency)") }
                let channel = try Self.channel(b, "channel")
                var attachments = [DossierEvent.Attachment]()
                for a in try b.objects("attachments") {
                    attachments.append(.init(component: try a.string("component"), fileRef: try a.string("fileRef"),
                                             sha256: try a.string("sha256")))
                }
                command = .submit(procedure: procedure, agencyID: agency, channel: channel,
                                  applicantName: try b.string("applicantName"), applicantID: try b.string("applicantId"),
                                  at: c.at, intake: c.reference.policy(for: agency, on: day)?.intake,
                                  attachments: attachments,
                                  returnMethod: b.fields["returnMethod"] == nil ? nil : try Self.channel(b, "returnMethod"),
                                  applicantPhone: try b.optionalString("applicantPhone"))
            case "dossier.refuseIntake":
                command = .refuseIntake(reason: try b.string("reason"), at: c.at,
                                        code: try b.optionalChoice("reasonCode", DossierEvent.IntakeRefusalCode.self),
                                        legalBasis: try b.optionalString("legalBasis"),
                                        slipRef: try Self.slipRef(b) ?? "03/\(Self.shortID(id))")
            case "dossier.requestIntakeSupplement":
                command = .requestIntakeSupplement(
                    items: try b.strings("items"),
                    required: c.reference.procedure(state.procedureCode, version: state.procedureVersion)?
                        .requiredComponents ?? [], at: c.at,
                    slipRef: try Self.slipRef(b) ?? "02/\(Self.shortID(id))-\(state.intakeSupplements + 1)")
            case "dossier.receive":
                // The receiving officer works at the one-stop desk of the dossier's agency.
                let day = try c.today()
                guard let desk = c.reference.assignment(of: c.actor.staffID, on: day)?.unit,
                      let unit = c.reference.units[desk], unit.isOneStopDesk, unit.agency == state.agencyID else {
                    throw LedgerError(.notPermitted, "\(c.actor.staffID) does not work at the one-stop desk of "
                        + "\(state.agencyID.isEmpty ? "the dossier's agency" : state.agencyID) on \(day)")
                }
                let (calendar, version) = try c.workingCalendar()
                guard let procedure = c.reference.procedure(state.procedureCode, version: state.procedureVersion) else {
                    throw LedgerError(.invalidState, "the dossier is not submitted under a known procedure")
                }
                command = .receive(receiptCode: try b.optionalString("receiptCode") ?? "", procedure: procedure,
                                   calendar: calendar, calendarVersion: version, at: c.at,
                                   presented: try b.strings("components"),
                                   securityLevel: try b.optionalChoice("securityLevel", SecurityLevel.self))
            case "dossier.transfer":
                let unit = try b.string("unit")
                guard c.reference.units[unit]?.agency == state.agencyID else {
                    throw LedgerError(.notFound, "no unit \(unit) in agency \(state.agencyID)")
                }
                // A unit that declares its fields takes only dossiers of those fields.
                let fields = c.reference.units[unit]?.fields ?? []
                let handedOver = try b.optionalString("handedOverAt").map { _ in try b.instant("handedOverAt") }
                command = .transfer(toUnit: unit, at: c.at, competent: fields.isEmpty || fields.contains(state.fieldCode),
                                    handedOverAt: handedOver)
            case "dossier.assign":
                let assignee = try b.string("assignee")
                let day = try c.today()
                if let unit = state.unit, c.reference.assignment(of: assignee, on: day)?.unit != unit {
                    throw LedgerError(.invalidCommand, "\(assignee) is not on the staff of \(unit) on \(day)")
                }
                let role = try b.optionalChoice("role", DossierEvent.AssignmentRole.self) ?? .main
                // The head of the dossier's unit assigns: a leader of it, or the agency head.
                let leads = state.unit.map { c.reference.leads($0, staff: c.actor.staffID, on: day) }
                    ?? (c.reference.head(of: state.agencyID, on: day) == c.actor.staffID)
                // An assignee on approved leave today is assigned with a warning, and a graded dossier only to one
                // checked in on site today; their stream is guarded as read.
                let (person, personVersion) = try self.person(assignee)
                extra.append(PlannedAppend(stream: "person-\(assignee)", readVersion: personVersion, events: []))
                command = .assign(assignee: assignee, reason: try b.optionalString("reason"), at: c.at, role: role,
                                  stepDueAt: b.fields["stepDueAt"] == nil ? nil : try b.instant("stepDueAt"),
                                  note: try b.optionalString("note"), leads: leads, onLeave: person.onLeave(day),
                                  assigneeOnsite: person.isOnsite(on: day))
            case "dossier.startProcessing": command = .startProcessing(at: c.at)
            case "dossier.requestSupplement":
                // The override is the unit head's own act (dossier.approveSecondSupplement), never the requester's say.
                command = .requestSupplement(items: try b.strings("items"),
                                             headOverride: state.secondSupplementApprovedBy != nil,
                                             at: c.at, reason: try b.optionalString("reason"),
                                             contactVia: try b.optionalChoice("contactVia", DossierEvent.ContactChannel.self))
            case "dossier.approveSecondSupplement":
                let day = try c.today()
                let unit = state.unit ?? ""
                let head = c.reference.head(ofUnit: unit, on: day)
                let mine = c.reference.assignment(of: c.actor.staffID, on: day)
                let deputy = c.actor.role == .deputyHead && mine?.unit == unit && mine?.isLeader == true
                guard c.actor.staffID != state.assignee else {
                    throw LedgerError(.notPermitted, "the dossier's assignee cannot allow their own second request")
                }
                guard c.actor.staffID == head || deputy else {
                    throw LedgerError(.notPermitted, "only the head of \(unit) (\(head ?? "none") on \(day)) or a deputy "
                        + "of that unit allows a second supplementation request")
                }
                command = .approveSecondSupplement(at: c.at)
            case "dossier.receiveSupplement":
                command = .receiveSupplement(calendar: try pinned(), at: c.at,
                                             receivedVia: b.fields["receivedVia"] == nil ? nil
                                                 : try Self.channel(b, "receivedVia"))
            case "dossier.requestPayment":
                var items = [ProcedureVersion.Fee]()
                for item in try b.objects("items") {
                    items.append(.init(code: try item.string("code"), amount: try item.int("amount")))
                }
                let schedule = c.reference.procedure(state.procedureCode, version: state.procedureVersion)?.fees ?? []
                command = .requestPayment(amount: b.fields["amount"] == nil ? 0 : try b.int("amount"), items: items,
                                          schedule: schedule, at: c.at)
            case "dossier.payFee": command = .payFee(amount: try b.int("amount"), online: try b.bool("online"), at: c.at)
            case "dossier.submitForApproval":
                let approval = try b.uuid("approval")
                guard try store.streamInfo("approval-\(approval.uuidString.lowercased())") == nil else {
                    throw LedgerError(.invalidCommand, "approval \(approval) already exists; a new draft takes a new id")
                }
                let sha = try b.string("draftSha256")
                command = .submitForApproval(approvalID: approval, draftSha256: sha,
                                             outcome: try b.choice("outcome", ProposedOutcome.self), at: c.at)
                let chain = try approvalChain(state, c)
                // A graded draft is submitted on site: the submitter's check-in today is read, and guarded.
                var onsite = false
                if state.securityLevel != nil {
                    let (person, v) = try self.person(c.actor.staffID)
                    onsite = person.isOnsite(on: try c.today())
                    extra.append(PlannedAppend(stream: "person-\(c.actor.staffID)", readVersion: v, events: []))
                }
                let requested = try Approval.decide(Approval(), .request(processors: state.processors, chain: chain,
                                                                         draftSha256: sha, at: c.at,
                                                                         securityLevel: state.securityLevel),
                                                    by: c.actor.staffID, onsite: onsite)
                extra.append(PlannedAppend(stream: "approval-\(approval.uuidString.lowercased())", readVersion: 0,
                                           events: requested.map { $0.new(subject: DossierHandler.stream(id)) }))
            case "dossier.resolve", "dossier.refuse":
                guard let approvalID = state.approvalID else {
                    throw LedgerError(.invalidState, "the dossier has no draft result submitted for approval")
                }
                let (approval, _, version) = try self.approval(approvalID)
                extra.append(PlannedAppend(stream: "approval-\(approvalID.uuidString.lowercased())",
                                           readVersion: version, events: []))
                command = c.envelope.type == "dossier.resolve"
                    ? .resolve(resultNumber: try b.string("resultNumber"), approval: approval, at: c.at,
                               approvalID: approvalID, documentRef: try b.optionalString("resultDocRef"),
                               eResultLink: try b.optionalString("eResultLink"))
                    : .refuse(reasons: try b.strings("reasons"), approval: approval, at: c.at, approvalID: approvalID)
            case "dossier.issueApology":
                // The agency head signs, or an official the head delegated to (KT, TL, TUQ, Q) at that instant; the
                // head's delegation stream is guarded as read.
                let day = try c.today()
                guard let head = c.reference.head(of: state.agencyID, on: day) else {
                    throw LedgerError(.notPermitted, "agency \(state.agencyID) has no head on \(day) to sign apology slips")
                }
                if c.actor.staffID != head {
                    let stream = Delegation.stream(from: head)
                    let (given, version) = try delegations(from: head)
                    guard given.contains(where: { $0.to == c.actor.staffID && $0.covers(c.at, .apologySlip) }) else {
                        throw LedgerError(.notPermitted, "apology slips are signed by the head of \(state.agencyID) "
                            + "(\(head)) or an official \(head) delegated to at that time; \(c.actor.staffID) holds no "
                            + "such delegation")
                    }
                    extra.append(PlannedAppend(stream: stream, readVersion: version, events: []))
                }
                command = .issueApology(newAppointmentAt: try b.instant("newAppointmentAt"), at: c.at,
                                        reason: try b.string("reason"), slipRef: try Self.slipRef(b))
            case "dossier.requestWithdrawal": command = .requestWithdrawal(reason: try b.string("reason"), at: c.at)
            case "dossier.withdraw": command = .withdraw(reason: try b.optionalString("reason") ?? "", at: c.at)
            case "dossier.returnResult":
                command = .returnResult(method: try Self.channel(b, "method"),
                                        trackingNumber: try b.optionalString("trackingNumber"), at: c.at,
                                        recipient: try b.optionalString("recipient"))
            case "dossier.addNote": command = .addNote(note: try b.string("note"), at: c.at)
            case "dossier.consult":
                let agency = try b.string("toAgency")
                guard c.reference.agencies[agency] != nil else { throw LedgerError(.notFound, "no agency \(agency)") }
                command = .consult(consultation: try b.uuid("consultation"), toAgency: agency,
                                   question: try b.string("question"), dueAt: try b.instant("dueAt"), at: c.at)
            case "dossier.recordConsultationAnswer":
                command = .recordConsultationAnswer(consultation: try b.uuid("consultation"),
                                                    answerRef: try b.string("answerRef"), at: c.at)
            case "dossier.confirmDelivery": command = .confirmDelivery(at: c.at)
            case "dossier.recordFeedback":
                command = .recordFeedback(score: Int(try b.int("score")), criteria: try b.strings("criteria"),
                                          comment: try b.optionalString("comment"), at: c.at)
            case "system.deadlineCheck":
                try c.requireSystem()
                command = .checkDeadline(calendar: try pinned(), at: c.at)
            default: throw LedgerError(.notFound, "unknown dossier command \(c.envelope.type)")
            }
            // A number the desk gives a slip is its agency's own numbering: no two slips of the agency carry it.
            if Self.numberedSlipSteps.contains(c.envelope.type), let number = try Self.slipRef(b) {
                extra.append(try slipNumberShare(number, agency: state.agencyID, dossier: id,
                                                 command: c.context.commandID))
            }
            // A graded dossier's material is handled on site: for such a step the actor's check-in today is read,
            // and guarded.
            var onsite = false
            // The system (the scheduler, the portal's sync) never checks in: it is let off only when the sender is
            // trusted, never for a role a client merely claims.
            if state.securityLevel != nil, command.handlesMaterial, c.actor.role == .system {
                onsite = c.trusted
            } else if state.securityLevel != nil, command.handlesMaterial, c.actor.role != .applicant {
                let (person, v) = try self.person(c.actor.staffID)
                onsite = person.isOnsite(on: try c.today())
                extra.append(PlannedAppend(stream: "person-\(c.actor.staffID)", readVersion: v, events: []))
            }
            return try dossiers.plan(command, dossier: id, by: c.actor, commandID: c.context.commandID,
                                     subject: subject, loaded: (state, version), actorOnsite: onsite) + extra
        }
    }

    /// The approval chain of a dossier's draft, from the org chart: the unit head, then the agency head — without
    /// anyone who processed it (four eyes); a unit whose only possible approver processed it routes to the agency
    /// head alone.
    func approvalChain(_ state: Dossier, _ c: Command) throws -> [String] {
        let day = try c.today()
        guard let agencyHead = c.reference.head(of: state.agencyID, on: day) else {
            throw LedgerError(.notPermitted, "agency \(state.agencyID) has no head on \(day) (the head left, with no "
                + "deputy to act); a draft cannot be approved until a head is assigned")
        }
        var chain = [String]()
        if let unit = state.unit, let head = c.reference.head(ofUnit: unit, on: day) { chain.append(head) }
        chain.append(agencyHead)
        var seen = Set<String>()
        chain = chain.filter { $0 != c.actor.staffID && !state.processors.contains($0) && seen.insert($0).inserted }
        guard !chain.isEmpty else {
            throw LedgerError(.notPermitted, "four eyes: nobody in the approval chain of agency \(state.agencyID) is "
                + "free of this dossier; the agency head must not have processed it")
        }
        return chain
    }

    /// The steps that issue a slip the desk may number itself (`body.slipRef`).
    static let numberedSlipSteps: Set<String> = ["dossier.refuseIntake", "dossier.requestIntakeSupplement",
                                                 "dossier.issueApology"]

    /// The guard of a slip number the desk gave: the stream `slip-<agency>-<first 16 hex digits of the SHA-256 of
    /// the number in capitals without spaces>`, created with the slip (its `SlipNumberTaken.v1` names the number and
    /// the dossier), so a second slip of the agency with that number is refused — also when two race, by the store's
    /// expectation that the stream is new. The same command sent twice at once finds its own slip and is answered as
    /// a retry by the store.
    func slipNumberShare(_ number: String, agency: String, dossier: UUID, command: UUID) throws -> PlannedAppend {
        let key = number.filter { !$0.isWhitespace }.uppercased()
        let digest = SHA256.hash(data: Array(key.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
        let stream = "slip-\(agency)-\(digest)"
        if let first = try store.readStream(stream, limit: 1, payloads: .facts).first,
           first.record.metadata["command"] != command.uuidString.lowercased() {
            let holder = (try? Facts.decode(first.facts ?? []) { r throws(Facts.DecodingError) in
                try r.optionalString("dossier")
            }) ?? nil
            throw LedgerError(.invalidCommand, "slip number \(number) is already used in \(agency)"
                + (holder.map { " (dossier \($0))" } ?? "") + "; give this slip another number, or none to have one "
                + "made", field: "body.slipRef")
        }
        var w = Facts.Writer()
        w.field("slipRef", number)
        w.field("dossier", dossier.uuidString.lowercased())
        return PlannedAppend(stream: stream, readVersion: 0, events: [NewEvent("SlipNumberTaken.v1", w)])
    }

    /// The slip number a client gives (`body.slipRef`: the agency's own numbering of its printed forms), or `nil`.
    static func slipRef(_ b: CommandBody) throws(LedgerError) -> String? {
        guard let text = try b.optionalString("slipRef") else { return nil }
        guard (1...60).contains(text.count), !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw LedgerError(.badField, "body.slipRef is the slip's number as printed: 1–60 characters, no control "
                + "characters", field: "body.slipRef")
        }
        return text
    }

    /// A dossier's short id for slip numbers before it has a receipt code: its first twelve hex digits (48 bits).
    static func shortID(_ id: UUID) -> String { String(id.uuidString.lowercased().filter { $0 != "-" }.prefix(12)) }

    /// Folds an approval stream: its state, the subject it names, its version.
    func approval(_ id: UUID) throws -> (Approval, String?, UInt64) {
        var subject: String?
        let (state, version) = try handler.load("approval-\(id.uuidString.lowercased())", Approval()) { state, e in
            guard let (event, s) = try ApprovalEvent.decode(type: e.record.eventType, facts: e.facts ?? []) else {
                return state
            }
            if let s { subject = s }
            return Approval.evolve(state, event)
        }
        guard version > 0 else { throw LedgerError(.notFound, "no approval \(id)") }
        return (state, subject, version)
    }

    static func channel(_ b: CommandBody, _ key: String) throws(LedgerError) -> Channel {
        let name = try b.string(key)
        guard let channel = Channel(name: name) else {
            throw LedgerError(.badField, "body.\(key) must be direct, online or postal (got \"\(name)\")", field: "body.\(key)")
        }
        return channel
    }
}
