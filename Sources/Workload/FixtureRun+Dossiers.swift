import Foundation
import Ledger

extension Run {
    /// The procedures an agency handles.
    func procedures(of a: FixtureGenerator.AgencyModel) -> [Catalogue.Procedure] {
        let ward = a.spec.level == "ward"
        let own = Catalogue.procedures.filter { $0.ward == ward }
        guard !ward else { return own }
        let prefix = a.spec.id == "SNV" ? "S.NV." : a.spec.id == "STTTT" ? "S.TT." : ""
        let mine = own.filter { prefix.isEmpty || $0.code.hasPrefix(prefix) }
        return mine.isEmpty ? own : mine
    }

    /// An applicant: one in ten comes back with another dossier (and keeps their data subject).
    mutating func applicant() -> (name: String, id: String) {
        if applicants.count > 20, rng.chance(0.1) { return pick(applicants) }
        let name = "\(pick(Catalogue.families)) \(pick(Catalogue.middles)) \(pick(Catalogue.givens))"
        let id = "0" + (0..<11).map { _ in String(rng.int(0...9)) }.joined()
        applicants.append((name, id))
        return (name, id)
    }

    /// One dossier's life, from submission to its result (or as far as the horizon).
    mutating func dossier(_ a: FixtureGenerator.AgencyModel, _ day: CivilDate) {
        guard let desk = a.desk, !a.divisions.isEmpty else { return }
        let procs = procedures(of: a)
        // 80 % of the volume in the first procedures of the list.
        let p = rng.chance(0.8) ? procs[rng.int(0...min(2, procs.count - 1))] : pick(procs)
        let id = uuid()
        let dossier = JSONValue.string(id.uuidString.lowercased())
        let clerk = pick(desk.members)
        let deskUnit = desk.id
        var t = wm(at(day, 7, 30), rng.int(5...440))

        // Intake channel under Directive 16: online for level 3/4, paper only for the urgent list.
        let roll = Double(rng.int(0...999)) / 1000
        var channel = roll < 0.75 ? "online" : roll < 0.90 ? "postal" : "direct"
        if !p.urgent { channel = "online" }
        var expectSubmit = GeneratedCommand.Expectation.accepted
        if p.level < 3 {
            // Not online under Directive 16, and not urgent: every channel is refused.
            expectSubmit = .refused(.channelNotAllowed)
        }
        let person = applicant()
        let submitter = channel == "online" ? ("portal", Actor.Role.applicant, nil as String?)
            : (clerk, Actor.Role.oneStopOfficer, deskUnit as String?)
        // The applicant attaches every required component, except now and then the identity papers (asked for at
        // intake, then presented at the counter). Files are named by the dossier, their digests derived from it.
        let incomplete = id.uuid.8 % 32 == 0
        let attached = Run.components.filter { !(incomplete && $0 == "GT01") }.map { code -> JSONValue in
            .object(["component": .string(code), "fileRef": .string("files/\(id.uuidString.lowercased())/\(code).pdf"),
                     "sha256": .string(Self.digest(id, code))])
        }
        emit(t, "dossier.submit", submitter.0, submitter.1, unit: submitter.2, [
            "dossier": dossier, "procedure": .string(p.code), "agency": .string(a.spec.id), "channel": .string(channel),
            "applicantName": .string(person.name), "applicantId": .string(person.id), "attachments": .array(attached),
            "returnMethod": .string(channel == "online" ? "online" : channel),
        ], expect: expectSubmit)
        guard expectSubmit == .accepted else { return }

        if rng.chance(0.02) {
            emit(wm(t, 20), "dossier.refuseIntake", clerk, .oneStopOfficer, unit: deskUnit,
                 ["dossier": dossier, "reason": .string("Hồ sơ không thuộc thẩm quyền giải quyết")])
            return
        }
        var receive: [String: JSONValue] = ["dossier": dossier]
        if incomplete {
            // Received without the identity papers: refused; asked for once; presented at the counter.
            emit(wm(t, 10), "dossier.receive", clerk, .oneStopOfficer, unit: deskUnit, ["dossier": dossier],
                 expect: .refused(.invalidState))
            t = wm(t, 15)
            emit(t, "dossier.requestIntakeSupplement", clerk, .oneStopOfficer, unit: deskUnit,
                 ["dossier": dossier, "items": .array(["GT01"])])
            t = wm(t, cal.minutesPerDay)
            receive["components"] = .array(["GT01"])
        }
        t = wm(t, rng.int(10...40))
        let received = t
        emit(t, "dossier.receive", clerk, .oneStopOfficer, unit: deskUnit, receive)
        var due = p.workingDays.map { cal.addingWorkingMinutes($0 * cal.minutesPerDay, to: received) }
            ?? cal.sameDayDue(receivedAt: received)
        if rng.chance(0.005) {
            emit(wm(t, 30), "dossier.requestWithdrawal", clerk, .oneStopOfficer, unit: deskUnit,
                 ["dossier": dossier, "reason": .string("Công dân xin rút hồ sơ")])
            let w = wm(t, 60)
            emit(w, "dossier.withdraw", clerk, .oneStopOfficer, unit: deskUnit, ["dossier": dossier])
            running.append((id, received, w))
            return
        }
        let division = a.divisions[(p.field == "DD" || p.field == "XH" || procs.firstIndex { $0.code == p.code }! % 2 == 1)
            ? min(1, a.divisions.count - 1) : 0]
        t = wm(t, 5)
        emit(t, "dossier.transfer", clerk, .oneStopOfficer, unit: deskUnit, ["dossier": dossier, "unit": .string(division.id)])
        let officers = division.members.count > 1 ? Array(division.members.dropFirst()) : division.members
        var assignee = pick(officers)
        t = wm(t, 10)
        emit(t, "dossier.assign", division.head, .unitHead, ["dossier": dossier, "assignee": .string(assignee)])
        t = wm(t, 5)
        // About one dossier in forty changes hands before work starts (the first holder is needed elsewhere); a
        // reassignment needs its reason, and one without is refused. Chosen from the id, so no extra draw.
        if officers.count > 1, id.uuid.11 % 40 < 2 {
            let next = officers[(officers.firstIndex(of: assignee)! + 1) % officers.count]
            if id.uuid.11 % 40 == 1 {
                emit(t, "dossier.assign", division.head, .unitHead, ["dossier": dossier, "assignee": .string(next)],
                     expect: .refused(.invalidCommand))
                t = wm(t, 5)
            }
            emit(t, "dossier.assign", division.head, .unitHead, [
                "dossier": dossier, "assignee": .string(next), "reason": "Cán bộ được điều động hỗ trợ bộ phận khác"])
            assignee = next
            t = wm(t, 5)
        }
        emit(t, "dossier.startProcessing", assignee, .specialist, ["dossier": dossier])

        let sameDay = p.workingDays == nil
        if !sameDay && rng.chance(0.10) {
            var requests = rng.chance(0.1) ? 2 : 1
            // The first dossier with a supplementation request also shows the refused second request.
            if requests == 1 && !refusedSecondSupplement { requests = 2 }
            for n in 1...requests {
                t = wm(t, rng.int(30...240))
                if n == 2 && !refusedSecondSupplement {
                    refusedSecondSupplement = true
                    emit(t, "dossier.requestSupplement", assignee, .specialist,
                         ["dossier": dossier, "items": .array([.string("Bản vẽ hiện trạng")])],
                         expect: .refused(.secondSupplementNeedsOverride))
                    t += 60
                }
                if n == 2 {
                    emit(t, "dossier.approveSecondSupplement", division.head, .unitHead, ["dossier": dossier])
                    t += 60
                }
                let requested = t
                emit(t, "dossier.requestSupplement", assignee, .specialist, [
                    "dossier": dossier, "items": .array([.string("Bản sao có chứng thực giấy tờ")])])
                t = wm(t, rng.int(120...900))
                emit(t, "dossier.receiveSupplement", clerk, .oneStopOfficer, unit: deskUnit, ["dossier": dossier])
                let paused = cal.workingMinutes(from: requested, to: t)
                if paused > 0 { due = cal.addingWorkingMinutes(paused, to: due) }
            }
        }
        if p.fee > 0 && !sameDay {
            t = wm(t, 15)
            emit(t, "dossier.requestPayment", assignee, .specialist, ["dossier": dossier, "items": .array([
                .object(["code": "LEPHI", "amount": .number(Double(p.fee))])])])
            t = wm(t, rng.int(30...240))
            emit(t, "dossier.payFee", "payment-gateway", .system, ["dossier": dossier, "amount": .number(Double(p.fee)),
                                                                     "online": .bool(rng.chance(0.6))])
        }

        // When the draft goes up: on time somewhere before the due instant, or late.
        // The first dossier with days to spare that falls due well inside the run is made late, with no apology (its
        // refused late one aside), so every run long enough holds an overdue dossier without an apology.
        let forced = !sameDay && !forcedLate && wm(due, 3 * cal.minutesPerDay) < horizon
        if forced { forcedLate = true }
        let overdue = rng.chance(sameDay ? 0.01 : 0.04) || forced
        let remaining = cal.workingMinutes(from: t, to: due)
        let step = remaining >= 200 ? 20 : 2
        let draftAt = overdue ? wm(due, rng.int(30...900))
            : wm(t, rng.int(1...max(1, remaining - 10 * step)))
        if overdue && !forced && rng.chance(0.9) {
            // The apology: signed by the agency head before the appointment passes.
            let before = cal.workingMinutes(from: t, to: due)
            let apologyAt = before > 30 ? wm(t, before - 30) : t + 60
            if apologyAt < due {
                emit(apologyAt, "dossier.issueApology", a.director, .agencyHead, [
                    "dossier": dossier, "newAppointmentAt": .string(Instant.format(wm(draftAt, 2 * cal.minutesPerDay))),
                    "reason": "Chờ ý kiến của cơ quan phối hợp"])
            }
        } else if overdue && !refusedLateApology {
            refusedLateApology = true
            emit(wm(due, 10), "dossier.issueApology", a.director, .agencyHead, [
                "dossier": dossier, "newAppointmentAt": .string(Instant.format(wm(due, 3 * cal.minutesPerDay))),
                "reason": "Chờ ý kiến của cơ quan phối hợp"], expect: .refused(.deadlineRule))
        }
        t = max(t + 60, draftAt)
        let chain = [division.head, a.director].filter { $0 != assignee }
        var outcome = "grant"
        var rounds = rng.chance(0.05) ? 2 : 1
        let rejected = rounds == 1 && rng.chance(0.01)
        if rejected { rounds = 2 }
        for round in 1...rounds {
            let approval = JSONValue.string(uuid().uuidString.lowercased())
            let draft = sha()
            emit(t, "dossier.submitForApproval", assignee, .specialist, [
                "dossier": dossier, "approval": approval, "draftSha256": .string(draft), "outcome": .string(outcome)])
            if !refusedFourEyes {
                refusedFourEyes = true
                emit(t + 30, "approval.approve", assignee, .specialist, ["approval": approval],
                     expect: .refused(.notPermitted))
            }
            t = wm(t, step)
            if round < rounds {
                if rejected {
                    emit(t, "approval.reject", chain[0], .unitHead, ["approval": approval,
                                                                     "reasons": .array([.string("Không đủ điều kiện cấp phép")])])
                    outcome = "refuse"
                } else {
                    emit(t, "approval.return", chain[0], .unitHead, ["approval": approval,
                                                                     "comments": .array([.string("Bổ sung căn cứ pháp lý")])])
                }
                t = wm(t, step)
                continue
            }
            for (level, approver) in chain.enumerated() {
                emit(t, "approval.approve", approver, level == chain.count - 1 ? .agencyHead : .unitHead,
                     ["approval": approval])
                t = wm(t, step)
            }
            emit(t, "approval.sign", chain.last!, .agencyHead, ["approval": approval, "certificate": Self.certificate,
                                                                  "signedSha256": .string(draft)])
            t = wm(t, max(1, step / 2))
        }
        let finished = t
        if outcome == "grant" {
            emit(t, "dossier.resolve", clerk, .oneStopOfficer, unit: deskUnit,
                 ["dossier": dossier, "resultNumber": .string("\(rng.int(1...999))/QĐ-\(a.spec.id)")])
        } else {
            emit(t, "dossier.refuse", clerk, .oneStopOfficer, unit: deskUnit,
                 ["dossier": dossier, "reasons": .array([.string("Không đủ điều kiện theo quy định")])])
        }
        running.append((id, received, finished))
        t = wm(t, rng.int(10...240))
        var returned: [String: JSONValue] = ["dossier": dossier, "method": .string(channel)]
        if channel == "postal" {
            // A VNPost tracking number (UPU S10 shape) from the dossier's id, so the random stream does not shift.
            let n = (UInt32(id.uuid.12) << 24 | UInt32(id.uuid.13) << 16 | UInt32(id.uuid.14) << 8 | UInt32(id.uuid.15))
                % 1_000_000_000
            returned["trackingNumber"] = .string("EB" + String(n).leftPadded(9) + "VN")
        }
        emit(t, "dossier.returnResult", clerk, .oneStopOfficer, unit: deskUnit, returned)
        // The post confirms its deliveries; some applicants rate the service (decided from the id, so the random
        // stream does not shift).
        if channel == "postal" {
            emit(wm(t, 480 + Int(id.uuid.11) % 240), "dossier.confirmDelivery", clerk, .oneStopOfficer, unit: deskUnit,
                 ["dossier": dossier])
        } else if id.uuid.10 % 4 == 0 {
            emit(wm(t, 60 + Int(id.uuid.11)), "dossier.recordFeedback", "portal", .applicant, [
                "dossier": dossier, "score": .number(Double(3 + Int(id.uuid.9) % 3)),
                "criteria": .array(["timeliness", "courtesy"].map(JSONValue.string))])
        }
    }

    /// The agency head's signing certificate (a licensed CA's, valid through the period).
    static let certificate: JSONValue = .object([
        "serial": "54020B77", "issuer": "VNPT-CA", "validFrom": .string("2019-01-01T00:00:00+07:00"),
        "validTo": .string("2021-12-31T23:59:59+07:00")])

    /// A stand-in SHA-256 (hex) of an attached file, derived from the dossier and the component.
    static func digest(_ id: UUID, _ component: String) -> String {
        var bytes = withUnsafeBytes(of: id.uuid) { Array($0) } + Array(component.utf8)
        while bytes.count < 32 { bytes += bytes }
        return bytes.prefix(32).map { String($0, radix: 16).leftPadded(2) }.joined()
    }

    /// The scheduler's deadline checks: each working day at 16:45, every dossier received and still open.
    mutating func schedulerChecks() {
        for day in days {
            let t = at(day, 16, 45)
            for r in running where r.from < t && (r.to ?? .max) > t {
                emit(t, "system.deadlineCheck", "scheduler", .system, ["dossier": .string(r.dossier.uuidString.lowercased())],
                     expect: .check)
            }
        }
    }
}
