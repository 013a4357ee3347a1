/// UTC instants (seconds since 1970) as RFC 3339 text: what commands and exports carry.
public enum Instant {
    /// Parses `2020-04-01T03:00:00Z` or `2020-04-01T10:00:00+07:00` (seconds required, fractions ignored).
    public static func parse(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        guard u.count >= 20, u[4] == 45, u[7] == 45, u[10] == 84 || u[10] == 32, u[13] == 58, u[16] == 58 else {
            return nil
        }
        func n(_ from: Int, _ count: Int) -> Int? {
            var v = 0
            for i in from..<(from + count) {
                guard i < u.count, (48...57).contains(u[i]) else { return nil }
                v = v * 10 + Int(u[i] - 48)
            }
            return v
        }
        guard let y = n(0, 4), let mo = n(5, 2), let d = n(8, 2), let h = n(11, 2), let mi = n(14, 2), let s = n(17, 2),
              let date = CivilDate(year: y, month: mo, day: d), h < 24, mi < 60, s < 60
        else { return nil }
        var i = 19
        if i < u.count, u[i] == 46 { i += 1; while i < u.count, (48...57).contains(u[i]) { i += 1 } }
        guard i < u.count else { return nil }
        var offset = 0
        if u[i] == 90 || u[i] == 122 {
            guard i + 1 == u.count else { return nil }
        } else if u[i] == 43 || u[i] == 45, i + 6 == u.count, u[i + 3] == 58, let oh = n(i + 1, 2), let om = n(i + 4, 2) {
            offset = (oh * 3600 + om * 60) * (u[i] == 43 ? 1 : -1)
        } else {
            return nil
        }
        return Int64(date.daysSinceEpoch) * 86_400 + Int64(h * 3600 + mi * 60 + s) - Int64(offset)
    }

    /// `2020-04-01T03:00:00Z`, or with `utcOffset` seconds as `+07:00`.
    public static func format(_ instant: Int64, utcOffset: Int = 0) -> String {
        let local = instant + Int64(utcOffset)
        let days = Int(local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
        let second = Int(local - Int64(days) * 86_400)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let zone: String
        if utcOffset == 0 { zone = "Z" } else {
            let o = abs(utcOffset)
            zone = (utcOffset > 0 ? "+" : "-") + two(o / 3600) + ":" + two(o % 3600 / 60)
        }
        return "\(CivilDate(daysSinceEpoch: days))T\(two(second / 3600)):\(two(second % 3600 / 60)):\(two(second % 60))"
            + zone
    }
}
