import EventStore
import Foundation

/// Synthetic dossier events like the raw-LMDB baseline's: ~5 000 dossiers open at any time, 3–17 events each
/// (10 on average), JSON facts of Vietnamese units and procedures, and the applicant's identity in the personal
/// part of each submission. Deterministic for a seed.
struct SyntheticWorkload: Sendable {
    struct Event: Sendable {
        var stream: String
        var data: EventData
    }

    let events: [Event]
    let rawPayloadBytes: Int

    init(events count: Int, seed: UInt64) {
        var rng = XorShift(seed: seed)
        var slots = [Dossier?](repeating: nil, count: 5_000)
        var dayCounter = [Int](repeating: 0, count: Self.units.count)
        var ms: UInt64 = 1_585_699_200_000  // 2020-04-01T00:00:00Z
        var out = [Event]()
        out.reserveCapacity(count)
        var raw = 0
        for _ in 0..<count {
            ms += 1 + rng.below(1_500)
            let s = Int(rng.below(UInt64(slots.count)))
            if slots[s] == nil || slots[s]!.version >= slots[s]!.planned {
                let unit = Int(rng.below(UInt64(Self.units.count)))
                dayCounter[unit] += 1
                let code = "H26.\(Self.units[unit].code)-\(Self.ymd(ms))-\(String(format: "%05d", dayCounter[unit]))"
                let subject = UUID(uuid: withUnsafeBytes(of: (rng.next(), rng.next())) { raw in
                    (raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], 0x40 | raw[6] & 0x0F, raw[7], 0x80 | raw[8] & 0x3F,
                     raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15])
                })
                slots[s] = Dossier(stream: "dossier-\(code)", unit: unit, procedure: Int(rng.below(UInt64(Self.procedures.count))),
                                   planned: 3 + Int(rng.below(15)), version: 0, subject: subject)
            }
            slots[s]!.version += 1
            let d = slots[s]!
            let (type, facts, personal) = Self.payload(d, ms: ms, rng: &rng)
            raw += facts.utf8.count + (personal?.utf8.count ?? 0)
            var metadata = Metadata()
            if personal != nil { metadata["subject"] = d.subject.uuidString.lowercased() }
            metadata["principal"] = "clerk\(rng.below(40))"
            metadata["role"] = "clerk"
            metadata["unit"] = Self.units[d.unit].code
            out.append(Event(stream: d.stream, data: EventData(
                id: UUID.v7(), type: type, facts: Array(facts.utf8), personal: personal.map { Array($0.utf8) },
                actor: "staff-\(Self.units[d.unit].code)-\(rng.below(400))", metadata: metadata)))
        }
        events = out
        rawPayloadBytes = raw
    }

    /// The events cut into appends of `size` events, each grouping a stream's events in order.
    func chunks(of size: Int) -> [[StreamAppend]] {
        stride(from: 0, to: events.count, by: size).map { start in
            var order = [String]()
            var byStream = [String: [EventData]]()
            for event in events[start..<min(start + size, events.count)] {
                if byStream[event.stream] == nil { order.append(event.stream) }
                byStream[event.stream, default: []].append(event.data)
            }
            return order.map { StreamAppend(stream: $0, expected: .any, events: byStream[$0]!) }
        }
    }

    // MARK: - Content

    private struct Dossier {
        var stream: String
        var unit: Int
        var procedure: Int
        var planned: Int
        var version: Int
        /// The applicant's pseudonymous subject id (their personal part is encrypted under its key).
        var subject: UUID
    }

    private static func payload(_ d: Dossier, ms: UInt64, rng: inout XorShift) -> (String, String, String?) {
        let unit = units[d.unit]
        let head = "{\"unit\":\"\(unit.name)\",\"at\":\"\(timestamp(ms))\","
        if d.version == 1 {
            let p = procedures[d.procedure]
            let facts = head + "\"procedure\":\"\(p.name)\",\"procedureCode\":\"\(p.code)\","
                + "\"channel\":\"\(rng.pick(channels))\",\"level\":\(3 + rng.below(2))}"
            let personal = "{\"applicant\":\"\(person(&rng))\",\"idNumber\":\"0\(10 + rng.below(86))\(rng.below(4))"
                + "\(String(format: "%08d", rng.below(100_000_000)))\",\"phone\":\"0\(3 + rng.below(7))"
                + "\(String(format: "%08d", rng.below(100_000_000)))\",\"address\":\"Số \(1 + rng.below(200)) "
                + "\(rng.pick(streets)), \(rng.pick(wards)), \(rng.pick(districts))\"}"
            return ("DossierSubmitted.v1", facts, personal)
        }
        if d.version == d.planned {
            if rng.below(10) == 0 {
                return ("DossierRefused.v1", head + "\"reason\":\"\(rng.pick(refusals))\"}", nil)
            }
            return ("ResultReturned.v1", head + "\"method\":\"\(rng.pick(channels))\","
                + "\"tracking\":\"EB\(String(format: "%09d", rng.below(1_000_000_000)))VN\"}", nil)
        }
        if d.version == d.planned - 1 {
            return ("DocumentSigned.v1", head + "\"signer\":\"staff-\(unit.code)-\(rng.below(20))\","
                + "\"title\":\"\(rng.pick(titles))\",\"decision\":\"\(1 + rng.below(9_000))/QĐ-\(unit.code)\"}", nil)
        }
        switch rng.below(6) {
        case 0:
            return ("DossierAssigned.v1", head + "\"officer\":\"staff-\(unit.code)-\(rng.below(400))\","
                + "\"department\":\"\(rng.pick(departments))\",\"stepDue\":\"\(ymdDash(ms + (3 + rng.below(10)) * 86_400_000))\"}", nil)
        case 1:
            return ("SupplementRequested.v1", head + "\"reason\":\"\(rng.pick(supplements))\","
                + "\"deadline\":\"\(ymdDash(ms + (5 + rng.below(10)) * 86_400_000))\"}", nil)
        case 2:
            return ("FeePaid.v1", head + "\"amount\":\((1 + rng.below(20)) * 5_000),\"method\":\"\(rng.pick(payments))\","
                + "\"transaction\":\"GD\(String(format: "%010d", rng.below(2_000_000_000)))\"}", nil)
        case 3:
            return ("ProcessingStarted.v1", head + "\"note\":\"\(rng.pick(notes))\"}", nil)
        case 4:
            return ("DossierTransferred.v1", head + "\"from\":\"\(rng.pick(departments))\","
                + "\"to\":\"\(rng.pick(departments))\"}", nil)
        default:
            return ("SubmittedForApproval.v1", head + "\"draft\":\"\(1 + rng.below(9_000))/TTr-\(unit.code)\","
                + "\"approver\":\"staff-\(unit.code)-\(rng.below(20))\"}", nil)
        }
    }

    private static func person(_ rng: inout XorShift) -> String {
        "\(rng.pick(familyNames)) \(rng.pick(middleNames)) \(rng.pick(givenNames))"
    }

    private static func civil(_ ms: UInt64) -> DateComponents {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 7 * 3600)!
        return calendar.dateComponents([.year, .month, .day, .hour, .minute, .second],
                                       from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    private static func ymd(_ ms: UInt64) -> String {
        let c = civil(ms)
        return String(format: "%02d%02d%02d", c.year! % 100, c.month!, c.day!)
    }

    private static func ymdDash(_ ms: UInt64) -> String {
        let c = civil(ms)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    private static func timestamp(_ ms: UInt64) -> String {
        let c = civil(ms)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d+07:00", c.year!, c.month!, c.day!, c.hour!, c.minute!,
                      c.second!)
    }

    static let units: [(code: String, name: String)] = [
        ("SNV", "Sở Nội vụ"), ("STTTT", "Sở Thông tin và Truyền thông"), ("STP", "Sở Tư pháp"),
        ("SXD", "Sở Xây dựng"), ("STNMT", "Sở Tài nguyên và Môi trường"), ("SKHDT", "Sở Kế hoạch và Đầu tư"),
        ("SYT", "Sở Y tế"), ("SGDDT", "Sở Giáo dục và Đào tạo"), ("SLDTBXH", "Sở Lao động - Thương binh và Xã hội"),
        ("SGTVT", "Sở Giao thông vận tải"), ("SCT", "Sở Công Thương"), ("UBND-HB", "UBND phường Hàng Bạc"),
        ("UBND-DB", "UBND phường Điện Biên"), ("UBND-LT", "UBND phường Láng Thượng"),
        ("UBND-TXT", "UBND phường Thanh Xuân Trung"), ("UBND-KM", "UBND phường Kim Mã"),
    ]
    static let procedures: [(code: String, name: String)] = [
        ("1.001193", "Đăng ký khai sinh"), ("1.000894", "Đăng ký kết hôn"), ("1.000656", "Đăng ký khai tử"),
        ("1.009972", "Cấp giấy phép xây dựng"), ("2.000635", "Cấp bản sao trích lục hộ tịch"),
        ("2.000815", "Chứng thực bản sao từ bản chính"), ("1.004227", "Đăng ký thành lập hộ kinh doanh"),
        ("1.001612", "Cấp phiếu lý lịch tư pháp"), ("1.002425", "Cấp đổi giấy phép lái xe"),
        ("2.001711", "Đăng ký biến động đất đai"),
    ]
    static let familyNames = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
    static let middleNames = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quốc", "Xuân", "Thu"]
    static let givenNames = ["An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hằng", "Hương", "Lan", "Linh", "Mai",
                             "Nam", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Yến"]
    static let streets = ["phố Hàng Bạc", "phố Huế", "đường Láng", "đường Nguyễn Trãi", "phố Đội Cấn",
                          "đường Giải Phóng", "phố Kim Mã", "đường Trường Chinh"]
    static let wards = ["phường Hàng Bạc", "phường Điện Biên", "phường Láng Thượng", "phường Thanh Xuân Trung",
                        "phường Kim Mã", "phường Đồng Tâm"]
    static let districts = ["quận Hoàn Kiếm", "quận Ba Đình", "quận Đống Đa", "quận Thanh Xuân", "quận Hai Bà Trưng"]
    static let departments = ["Phòng Hộ tịch", "Phòng Quản lý đô thị", "Bộ phận Một cửa", "Phòng Tư pháp",
                              "Phòng Tài nguyên và Môi trường", "Văn phòng"]
    static let channels = ["online", "counter", "postal"]
    static let payments = ["VNPay", "Payoo", "cash", "transfer", "MoMo"]
    static let titles = ["Giám đốc", "Phó Giám đốc", "Chủ tịch", "Phó Chủ tịch", "Trưởng phòng"]
    static let refusals = ["Không thuộc thẩm quyền giải quyết", "Quá hạn bổ sung hồ sơ",
                           "Hồ sơ không đủ điều kiện theo quy định"]
    static let supplements = ["Thiếu bản sao giấy chứng nhận kết hôn của cha mẹ",
                              "Bản chụp giấy tờ không rõ nét, đề nghị bổ sung bản rõ hơn",
                              "Thiếu văn bản ủy quyền có chứng thực", "Thông tin trên tờ khai chưa khớp với giấy tờ"]
    static let notes = ["Công dân gọi điện hỏi tiến độ", "Đã nhắn tin SMS thông báo cho công dân",
                        "Đã kiểm tra, đối chiếu thành phần hồ sơ", "Chuyển bộ phận chuyên môn xử lý"]
}

/// xorshift128+: a small deterministic generator (the same seed gives the same workload everywhere).
struct XorShift {
    private var s0: UInt64
    private var s1: UInt64

    init(seed: UInt64) {
        s0 = seed ^ 0x9E37_79B9_7F4A_7C15
        s1 = (seed &* 0xD1B5_4A32_D192_ED03) | 1
        for _ in 0..<8 { _ = next() }
    }

    mutating func next() -> UInt64 {
        var x = s0
        let y = s1
        s0 = y
        x ^= x << 23
        s1 = x ^ y ^ (x >> 17) ^ (y >> 26)
        return s1 &+ y
    }

    mutating func below(_ n: UInt64) -> UInt64 { next() % n }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(below(UInt64(items.count)))] }
}
