import EventStore
import Foundation
import Ledger
import Testing

@Suite("On-site cap")
struct AttendanceTests {
    static let calendar = WorkingCalendarTests.vietnam2020
    static let third = (numerator: 1, denominator: 3)

    static func request(_ person: String, _ day: String = "2020-04-03", rostered: Bool = true,
                        exception: DutyException? = nil) -> OnsiteCheckIn {
        OnsiteCheckIn(person: person, unit: "P.HTTT", date: CivilDate(day)!, at: WorkingCalendarTests.at(day, 7, 45),
                      headcount: 10, ratio: third, rostered: rostered, exception: exception)
    }

    @Test("cap = max(1, floor(headcount × ratio))")
    func caps() {
        #expect(UnitDay.cap(headcount: 10, ratio: Self.third) == 3)
        #expect(UnitDay.cap(headcount: 2, ratio: Self.third) == 1)
        #expect(UnitDay.cap(headcount: 9, ratio: (1, 2)) == 4)
    }

    @Test("the cap is hard, named precisely; an exception admits beyond it and is flagged; roster and days are checked")
    func decisions() throws {
        var day = UnitDay()
        for p in ["a", "b", "c"] {
            day = UnitDay.evolve(day, try UnitDay.decide(day, Self.request(p), calendar: Self.calendar)[0])
        }
        #expect { _ = try UnitDay.decide(day, Self.request("d"), calendar: Self.calendar) } throws: {
            ($0 as? LedgerError)?.code == .capReached && ($0 as? LedgerError)?.message == "on-site cap reached for unit "
                + "P.HTTT on 2020-04-03: 3 of 3 places taken (headcount 10, ratio 1/3); ask the superior head for a duty "
                + "exception"
        }
        #expect(throws: LedgerError.self, "an agency head's exception stays within the cap") {
            try UnitDay.decide(day, Self.request("d", rostered: false, exception: .withinCap), calendar: Self.calendar)
        }
        let beyond = try UnitDay.decide(day, Self.request("d", exception: .beyondCap), calendar: Self.calendar)
        #expect(beyond == [.placeTaken(person: "d", beyondCap: true, at: WorkingCalendarTests.at("2020-04-03", 7, 45))])
        #expect(throws: LedgerError.self) { try UnitDay.decide(day, Self.request("a"), calendar: Self.calendar) }
        #expect(throws: LedgerError.self) {
            try UnitDay.decide(UnitDay(), Self.request("e", rostered: false), calendar: Self.calendar)
        }
        #expect(throws: LedgerError.self) {
            try UnitDay.decide(UnitDay(), Self.request("e", "2020-04-02"), calendar: Self.calendar)  // Hung Kings' day
        }
    }

    @Test("two racing check-ins for the last place: exactly one gets it, on a real store", arguments: 0..<8)
    func racingForTheLastPlace(round: Int) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-cap-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = StoreOptions()
        options.mapSize = 1 << 30
        let store = try Store.create(at: path, origin: "ward.example/attendance", options: options)
        defer { store.close() }
        let handler = AttendanceHandler(store: store, calendar: Self.calendar)
        for p in ["a", "b"] { try await handler.checkIn(Self.request(p), commandID: UUID(), principal: p) }
        let outcomes = await withTaskGroup(of: String.self) { group in
            for p in ["x", "y"] {
                group.addTask {
                    do {
                        try await handler.checkIn(Self.request(p), commandID: UUID(), principal: p)
                        return "won"
                    } catch let error as LedgerError where error.code == .capReached {
                        return "capped"
                    } catch {
                        return "error: \(error)"
                    }
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outcomes.sorted() == ["capped", "won"], "round \(round): \(outcomes)")
        let (day, _) = try handler.load(unit: "P.HTTT", date: CivilDate("2020-04-03")!)
        #expect(day.onsite.count == 3)
        // A client's retry of a check-in that went through is answered, not refused.
        if round == 0 {
            let command = UUID()
            let first = try await handler.checkIn(Self.request("z", exception: .beyondCap), commandID: command,
                                                  principal: "z")
            let again = try await handler.checkIn(Self.request("z", exception: .beyondCap), commandID: command,
                                                  principal: "z")
            #expect(again.wasRetry && again.positions == first.positions)
        }
    }
}
