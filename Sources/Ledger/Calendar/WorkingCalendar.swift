/// Working time on a published calendar: working days (Monday to Friday, less public holidays, plus make-up
/// days), office sessions within a day, in a fixed UTC offset (Asia/Ho_Chi_Minh is UTC+7 without daylight saving).
///
/// Deadlines are working hours from a clock start (8 working hours = 1 working day, design.md "Office hours"):
///
/// ```swift
/// let calendar = WorkingCalendar(holidays: holidays2020)
/// let due = calendar.addingWorkingMinutes(40 * 60, to: received)   // 5 working days
/// ```
///
/// Instants are seconds since the Unix epoch (UTC).
public struct WorkingCalendar: Hashable, Sendable {
    /// One office session, in minutes after local midnight, `start < end`.
    public struct Session: Hashable, Sendable {
        /// First minute of the session.
        public var start: Int
        /// Minute the session ends (exclusive).
        public var end: Int

        /// A session from `start` to `end` minutes after midnight.
        public init(start: Int, end: Int) {
            precondition(0 <= start && start < end && end <= 24 * 60, "a session lies within one day")
            self.start = start
            self.end = end
        }
    }

    /// Public holidays (weekdays that are not working days).
    public var holidays: Set<CivilDate>
    /// Make-up days (weekend days that are working days).
    public var makeUpDays: Set<CivilDate>
    /// The office sessions of a working day, in order.
    public var sessions: [Session]
    /// Offset of local time from UTC, in seconds (UTC+7 = 25 200).
    public var utcOffset: Int
    /// Minutes after midnight of the same-day procedures' cut-off (15:00).
    public var sameDayCutoff: Int

    /// The default office hours: 07:30–11:30 and 13:00–17:00, 8 working hours.
    public static let defaultSessions = [Session(start: 7 * 60 + 30, end: 11 * 60 + 30),
                                         Session(start: 13 * 60, end: 17 * 60)]

    /// A calendar; the defaults are design.md's (UTC+7, 07:30–11:30 and 13:00–17:00, cut-off 15:00).
    public init(holidays: Set<CivilDate> = [], makeUpDays: Set<CivilDate> = [], sessions: [Session] = defaultSessions,
                utcOffset: Int = 7 * 3600, sameDayCutoff: Int = 15 * 60) {
        precondition(!sessions.isEmpty, "a working calendar needs at least one office session")
        self.holidays = holidays
        self.makeUpDays = makeUpDays
        self.sessions = sessions
        self.utcOffset = utcOffset
        self.sameDayCutoff = sameDayCutoff
    }

    /// Working minutes in a working day (480 with the defaults).
    public var minutesPerDay: Int { sessions.reduce(0) { $0 + $1.end - $1.start } }

    /// Whether `date` is a working day.
    public func isWorkingDay(_ date: CivilDate) -> Bool {
        if makeUpDays.contains(date) { return true }
        return date.weekday <= 5 && !holidays.contains(date)
    }

    /// The first working day strictly after `date`.
    public func nextWorkingDay(after date: CivilDate) -> CivilDate {
        var d = date.adding(days: 1)
        while !isWorkingDay(d) { d = d.adding(days: 1) }
        return d
    }

    /// The working day `n` working days after `date` (n ≥ 0; n = 0 gives `date`).
    public func adding(workingDays n: Int, to date: CivilDate) -> CivilDate {
        var d = date
        for _ in 0..<max(0, n) { d = nextWorkingDay(after: d) }
        return d
    }

    /// Working days in `[from, to]`.
    public func workingDays(from: CivilDate, through to: CivilDate) -> Int {
        var count = 0
        var d = from
        while d <= to {
            if isWorkingDay(d) { count += 1 }
            d = d.adding(days: 1)
        }
        return count
    }

    // MARK: - Instants

    /// The local date and minute of the day of an instant.
    public func local(_ instant: Int64) -> (date: CivilDate, minute: Int) {
        let seconds = instant + Int64(utcOffset)
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let minute = Int((seconds - Int64(days) * 86_400) / 60)
        return (CivilDate(daysSinceEpoch: days), minute)
    }

    /// The instant of a local date and minute.
    public func instant(_ date: CivilDate, minute: Int) -> Int64 {
        Int64(date.daysSinceEpoch) * 86_400 + Int64(minute) * 60 - Int64(utcOffset)
    }

    /// The instant `minutes` working minutes after `start`. Time outside the sessions does not count: a start
    /// before a session, in a break, after hours or on a day off counts from the next session's start.
    public func addingWorkingMinutes(_ minutes: Int, to start: Int64) -> Int64 {
        guard minutes > 0 else { return start }
        // Work in seconds of the local day, so a start with seconds keeps them across sessions.
        var (date, minute) = local(start)
        var second = minute * 60 + Int(((start + Int64(utcOffset)) % 60 + 60) % 60)
        var remaining = minutes * 60
        while true {
            if isWorkingDay(date) {
                for session in sessions where second < session.end * 60 {
                    let from = max(second, session.start * 60)
                    let available = session.end * 60 - from
                    if remaining <= available {
                        return instant(date, minute: 0) + Int64(from + remaining)
                    }
                    remaining -= available
                    second = session.end * 60
                }
            }
            date = date.adding(days: 1)
            second = 0
        }
    }

    /// Working minutes between two instants (0 when `end` ≤ `start`); seconds are truncated.
    public func workingMinutes(from start: Int64, to end: Int64) -> Int {
        guard end > start else { return 0 }
        let a = local(start), b = local(end)
        let aSecond = a.minute * 60 + Int(((start + Int64(utcOffset)) % 60 + 60) % 60)
        let bSecond = b.minute * 60 + Int(((end + Int64(utcOffset)) % 60 + 60) % 60)
        var total = 0
        var date = a.date
        while date <= b.date {
            if isWorkingDay(date) {
                let lower = date == a.date ? aSecond : 0
                let upper = date == b.date ? bSecond : 86_400
                for s in sessions {
                    total += max(0, min(s.end * 60, upper) - max(s.start * 60, lower))
                }
            }
            date = date.adding(days: 1)
        }
        return total / 60
    }

    /// The due instant of a same-day procedure received at `received`: the end of that day's last session when
    /// received on a working day before the cut-off, else the end of the next working day's last session.
    public func sameDayDue(receivedAt received: Int64) -> Int64 {
        let (date, minute) = local(received)
        let second = Int(((received + Int64(utcOffset)) % 60 + 60) % 60)
        let close = sessions.last?.end ?? 17 * 60
        let afterCutoff = minute > sameDayCutoff || (minute == sameDayCutoff && second > 0)
        if isWorkingDay(date) && !afterCutoff { return instant(date, minute: close) }
        return instant(nextWorkingDay(after: date), minute: close)
    }
}
