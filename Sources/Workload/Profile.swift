/// The organisation a fixture run simulates (domain.md §5.2): agencies with a leadership board, a one-stop desk and
/// divisions, and the dossiers each receives per working day.
public struct Profile: Sendable {
    /// One agency.
    public struct Agency: Sendable {
        /// Its id.
        public var id: String
        /// Its name.
        public var name: String
        /// Its level.
        public var level: String
        /// The superior agency.
        public var superior: String?
        /// Division names and their sizes (the head included).
        public var divisions: [(name: String, size: Int)]
        /// One-stop officers.
        public var deskSize: Int
        /// Dossiers received per working day.
        public var dossiersPerDay: Int
        /// The on-site ratio of its duty policy (1/3; wards 1/2).
        public var ratio: (Int, Int)
    }

    /// Its name.
    public var name: String
    /// Agencies by id.
    public var agencies: [Agency]

    /// The committed sample: the province's People's Committee, Thủ Đức district, two departments and two wards.
    public static let sample = Profile(name: "sample", agencies: [
        Agency(id: "UBND-T", name: "Ủy ban nhân dân tỉnh", level: "province", superior: nil,
               divisions: [("Văn phòng", 4)], deskSize: 0, dossiersPerDay: 0, ratio: (1, 3)),
        Agency(id: "UBND-TD", name: "Ủy ban nhân dân quận Thủ Đức", level: "district", superior: "UBND-T",
               divisions: [("Văn phòng", 4)], deskSize: 0, dossiersPerDay: 0, ratio: (1, 3)),
        Agency(id: "SNV", name: "Sở Nội vụ", level: "department", superior: "UBND-T",
               divisions: [("Phòng Tổ chức biên chế", 8), ("Phòng Công chức viên chức", 7)], deskSize: 3,
               dossiersPerDay: 4, ratio: (1, 3)),
        Agency(id: "STTTT", name: "Sở Thông tin và Truyền thông", level: "department", superior: "UBND-T",
               divisions: [("Phòng Báo chí Xuất bản", 7), ("Phòng Bưu chính Viễn thông", 6)], deskSize: 3,
               dossiersPerDay: 3, ratio: (1, 3)),
        Agency(id: "HBC", name: "Ủy ban nhân dân phường Hiệp Bình Chánh", level: "ward", superior: "UBND-TD",
               divisions: [("Tư pháp - Hộ tịch", 4), ("Địa chính - Xây dựng", 4)], deskSize: 4, dossiersPerDay: 8,
               ratio: (1, 2)),
        Agency(id: "LT", name: "Ủy ban nhân dân phường Linh Tây", level: "ward", superior: "UBND-TD",
               divisions: [("Tư pháp - Hộ tịch", 3), ("Văn hóa - Xã hội", 3)], deskSize: 3, dossiersPerDay: 5,
               ratio: (1, 2)),
    ])

    /// Province-M (domain.md §5.2): 20 departments, 10 districts, 150 wards — 181 agencies, 5 391 staff (wards of
    /// 13 officials plus their leaders) and about 2 000 dossiers per working day. Wards keep a desk and two divisions,
    /// so there are about 900 units where domain.md counts 450 (a commune there is one desk).
    public static let province: Profile = {
        var agencies = [Agency(id: "UBND-T", name: "Ủy ban nhân dân tỉnh", level: "province", superior: nil,
                               divisions: [("Văn phòng", 8)], deskSize: 0, dossiersPerDay: 0, ratio: (1, 3))]
        for d in 1...20 {
            agencies.append(Agency(id: "S\(d)", name: "Sở \(d)", level: "department", superior: "UBND-T",
                                   divisions: (1...6).map { ("Phòng \($0)", 12) }, deskSize: 4, dossiersPerDay: 12,
                                   ratio: (1, 3)))
        }
        for q in 1...10 {
            agencies.append(Agency(id: "Q\(q)", name: "Ủy ban nhân dân huyện \(q)", level: "district",
                                   superior: "UBND-T", divisions: (1...12).map { ("Phòng \($0)", 11) }, deskSize: 5,
                                   dossiersPerDay: 40, ratio: (1, 3)))
            for p in 1...15 {
                agencies.append(Agency(id: "Q\(q)P\(p)", name: "Ủy ban nhân dân xã \(q)-\(p)", level: "ward",
                                       superior: "Q\(q)", divisions: [("Tư pháp - Hộ tịch", 5),
                                                                       ("Địa chính - Văn hóa - Xã hội", 5)],
                                       deskSize: 3, dossiersPerDay: 9, ratio: (1, 2)))
            }
        }
        return Profile(name: "province", agencies: agencies)
    }()

    /// A profile by name.
    public static func named(_ name: String) -> Profile? {
        switch name {
        case "sample": sample
        case "province": province
        default: nil
        }
    }
}
