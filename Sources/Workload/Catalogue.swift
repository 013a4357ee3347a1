/// The reference data the fixtures publish: agencies of a Province-M subset, their units and staff, the 2020
/// calendar, the Directive-16 duty policies and a procedure catalogue.
public enum Catalogue {
    /// A procedure of the catalogue. Codes of the national database are used where known; the others are marked
    /// illustrative.
    public struct Procedure: Sendable {
        /// The national (or illustrative) code.
        public var code: String
        /// Its name.
        public var name: String
        /// The field (sector) code.
        public var field: String
        /// Its level.
        public var level: Int
        /// `sameDay`, or working days.
        public var workingDays: Int?
        /// Whether it is on Directive 16's urgent list.
        public var urgent: Bool
        /// Whether the code is illustrative.
        public var illustrative: Bool
        /// Ward (commune) level, else department level.
        public var ward: Bool
        /// Whether a fee is collected.
        public var fee: Int64
    }

    /// The procedures.
    public static let procedures: [Procedure] = [
        Procedure(code: "1.001193", name: "Đăng ký khai sinh", field: "HT", level: 3, workingDays: nil, urgent: true,
                  illustrative: false, ward: true, fee: 0),
        Procedure(code: "1.000656", name: "Đăng ký khai tử", field: "HT", level: 3, workingDays: nil, urgent: true,
                  illustrative: false, ward: true, fee: 0),
        Procedure(code: "1.000894", name: "Đăng ký kết hôn", field: "HT", level: 3, workingDays: 5, urgent: false,
                  illustrative: false, ward: true, fee: 0),
        Procedure(code: "2.000815", name: "Chứng thực bản sao từ bản chính", field: "CT", level: 3, workingDays: nil,
                  urgent: true, illustrative: true, ward: true, fee: 2_000),
        Procedure(code: "2.000884", name: "Chứng thực hợp đồng vay, di chúc", field: "CT", level: 3, workingDays: 2,
                  urgent: true, illustrative: true, ward: true, fee: 50_000),
        Procedure(code: "X.DC.001", name: "Xác nhận tình trạng nhà đất", field: "DD", level: 2, workingDays: 10,
                  urgent: false, illustrative: true, ward: true, fee: 0),
        Procedure(code: "X.XH.002", name: "Hỗ trợ người lao động mất việc do COVID-19", field: "XH", level: 3,
                  workingDays: 5, urgent: true, illustrative: true, ward: true, fee: 0),
        Procedure(code: "S.NV.010", name: "Thẩm định đề án vị trí việc làm", field: "TCBM", level: 3, workingDays: 15,
                  urgent: false, illustrative: true, ward: false, fee: 0),
        Procedure(code: "S.NV.021", name: "Công nhận ban vận động thành lập hội", field: "HOI", level: 3,
                  workingDays: 10, urgent: false, illustrative: true, ward: false, fee: 0),
        Procedure(code: "S.NV.030", name: "Đăng ký hoạt động tín ngưỡng", field: "TG", level: 4, workingDays: 5,
                  urgent: false, illustrative: true, ward: false, fee: 0),
        Procedure(code: "S.TT.004", name: "Cấp giấy phép xuất bản bản tin", field: "BC", level: 4, workingDays: 10,
                  urgent: false, illustrative: true, ward: false, fee: 100_000),
        Procedure(code: "S.TT.011", name: "Cấp giấy phép hoạt động in", field: "XB", level: 3, workingDays: 8,
                  urgent: false, illustrative: true, ward: false, fee: 0),
        Procedure(code: "S.TT.020", name: "Cấp phép thiết lập trang thông tin điện tử", field: "PTTH", level: 2,
                  workingDays: 10, urgent: false, illustrative: true, ward: false, fee: 0),
    ]

    /// Vietnam's 2020 public holidays falling on working days (Labour Code 2012, Art. 115) and make-up days.
    public static let holidays2020 = ["2020-01-01", "2020-01-23", "2020-01-24", "2020-01-27", "2020-01-28",
                                      "2020-01-29", "2020-04-02", "2020-04-30", "2020-05-01", "2020-09-02"]

    /// Family, middle and given names for generated applicants (personal data, only in personal parts).
    static let families = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
    static let middles = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Quốc", "Thu", "Đức", "Hồng"]
    static let givens = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Lan", "Long", "Mai",
                         "Nam", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy", "Yến"]
}
