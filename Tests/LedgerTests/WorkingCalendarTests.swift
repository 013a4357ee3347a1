import Foundation
import Ledger
import Testing

@Suite("Working calendar")
struct WorkingCalendarTests {
    /// The 2020 Vietnamese calendar from `fixtures/reference/calendar-vn-2020.json`.
    static let vietnam2020: WorkingCalendar = {
        struct File: Decodable {
            struct Holiday: Decodable { var date: String }
            var holidays: [Holiday]
            var makeUpDays: [String]
        }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fixtures/reference/calendar-vn-2020.json")
        let file = try! JSONDecoder().decode(File.self, from: Data(contentsOf: url))
        return WorkingCalendar(holidays: Set(file.holidays.map { CivilDate($0.date)! }),
                               makeUpDays: Set(file.makeUpDays.map { CivilDate($0)! }))
    }()

    static func date(_ text: String) -> CivilDate { CivilDate(text)! }

    /// The instant of a local (UTC+7) time.
    static func at(_ day: String, _ hour: Int, _ minute: Int = 0) -> Int64 {
        vietnam2020.instant(date(day), minute: hour * 60 + minute)
    }

    @Test("civil dates: weekdays, day numbers and parsing")
    func civilDates() {
        #expect(Self.date("1970-01-01").daysSinceEpoch == 0)
        #expect(Self.date("2020-04-01").weekday == 3)  // a Wednesday
        #expect(Self.date("2020-04-05").weekday == 7)
        #expect(CivilDate(daysSinceEpoch: Self.date("2020-02-29").daysSinceEpoch) == Self.date("2020-02-29"))
        #expect(CivilDate("2021-02-29") == nil && CivilDate("2020-13-01") == nil && CivilDate("20-01-01") == nil)
        #expect(Self.date("2020-12-31").adding(days: 1) == Self.date("2021-01-01"))
        #expect(Self.date("1969-12-31").daysSinceEpoch == -1 && CivilDate(daysSinceEpoch: -1).description == "1969-12-31")
    }

    @Test("the domain's vectors: 1 Apr + 5 WD → 9 Apr; 28 Apr + 3 WD → 5 May; 2020 counts")
    func dayVectors() {
        let c = Self.vietnam2020
        #expect(c.adding(workingDays: 5, to: Self.date("2020-04-01")) == Self.date("2020-04-09"))
        #expect(c.adding(workingDays: 3, to: Self.date("2020-04-28")) == Self.date("2020-05-05"))
        #expect(c.workingDays(from: Self.date("2020-01-01"), through: Self.date("2020-12-31")) == 252)
        #expect(c.workingDays(from: Self.date("2020-04-01"), through: Self.date("2020-06-30")) == 62)
        #expect(c.workingDays(from: Self.date("2020-04-01"), through: Self.date("2020-04-15")) == 10)
        #expect(!c.isWorkingDay(Self.date("2020-04-02")) && !c.isWorkingDay(Self.date("2020-04-04")))
    }

    @Test("working hours: received Wed 1 Apr 2020 10:00, 5 working days → due Thu 9 Apr 2020 10:00")
    func hourVector() {
        let c = Self.vietnam2020
        #expect(c.addingWorkingMinutes(5 * 8 * 60, to: Self.at("2020-04-01", 10)) == Self.at("2020-04-09", 10))
        // A start in the lunch break, before hours, after hours and on a holiday counts from the next session.
        #expect(c.addingWorkingMinutes(60, to: Self.at("2020-04-01", 12)) == Self.at("2020-04-01", 14))
        #expect(c.addingWorkingMinutes(60, to: Self.at("2020-04-01", 6)) == Self.at("2020-04-01", 8, 30))
        #expect(c.addingWorkingMinutes(60, to: Self.at("2020-04-01", 18)) == Self.at("2020-04-03", 8, 30))
        #expect(c.addingWorkingMinutes(60, to: Self.at("2020-04-02", 9)) == Self.at("2020-04-03", 8, 30))
        // A whole working day from the first minute ends at 17:00 the same day.
        #expect(c.addingWorkingMinutes(480, to: Self.at("2020-04-03", 7, 30)) == Self.at("2020-04-03", 17))
        #expect(c.workingMinutes(from: Self.at("2020-04-01", 10), to: Self.at("2020-04-09", 10)) == 40 * 60)
        #expect(c.workingMinutes(from: Self.at("2020-04-09", 10), to: Self.at("2020-04-01", 10)) == 0)
    }

    @Test("boundaries: zero minutes, seconds across sessions, a start exactly at a session end")
    func boundaries() {
        let c = Self.vietnam2020
        #expect(c.addingWorkingMinutes(0, to: Self.at("2020-04-01", 17)) == Self.at("2020-04-01", 17))
        #expect(c.addingWorkingMinutes(1, to: Self.at("2020-04-01", 11, 29) + 30) == Self.at("2020-04-01", 13) + 30)
        #expect(c.addingWorkingMinutes(40 * 60, to: Self.at("2020-04-01", 10) + 30) == Self.at("2020-04-09", 10) + 30)
        #expect(c.addingWorkingMinutes(60, to: Self.at("2020-04-01", 11, 30)) == Self.at("2020-04-01", 14))
        #expect(c.workingMinutes(from: Self.at("2020-04-01", 10) + 59, to: Self.at("2020-04-01", 10, 1)) == 0)
        #expect(c.sameDayDue(receivedAt: Self.at("2020-04-01", 15)) == Self.at("2020-04-01", 17))
    }

    @Test("same-day procedures: before 15:00 due at 17:00; after 15:00 due at 17:00 on the next working day")
    func sameDay() {
        let c = Self.vietnam2020
        #expect(c.sameDayDue(receivedAt: Self.at("2020-04-01", 14, 59)) == Self.at("2020-04-01", 17))
        #expect(c.sameDayDue(receivedAt: Self.at("2020-04-01", 15, 1)) == Self.at("2020-04-03", 17))
        #expect(c.sameDayDue(receivedAt: Self.at("2020-04-04", 9)) == Self.at("2020-04-06", 17))
    }

    @Test("a make-up Saturday is a working day")
    func makeUpDay() {
        let c = WorkingCalendar(holidays: [Self.date("2025-04-30"), Self.date("2025-05-01"), Self.date("2025-05-02")],
                                makeUpDays: [Self.date("2025-04-26")])
        #expect(c.isWorkingDay(Self.date("2025-04-26")))
        #expect(c.adding(workingDays: 1, to: Self.date("2025-04-25")) == Self.date("2025-04-26"))
    }
}
