import Foundation

extension Facts {
    /// The JSON rendering of a facts payload for the API and exports: keys in their encoded order, instants as
    /// RFC 3339 UTC strings, bytes as base64, UUIDs in lowercase; deterministic, so equal payloads render equally.
    public static func json(_ bytes: [UInt8]) throws(DecodingError) -> String {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(DecodingError) in
                let reader = try Reader(buffer)
                var out = ""
                render(.map(try reader.entries()), into: &out)
                return out
            }
        }.get()
    }

    static func render(_ value: Value, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .string(let s): quote(s, into: &out)
        case .bytes(let b): quote(base64(b), into: &out)
        case .uuid(let u): quote(u.uuidString.lowercased(), into: &out)
        case .instant(let t): quote(rfc3339(t), into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                render(item, into: &out)
            }
            out += "]"
        case .map(let entries):
            out += "{"
            for (i, (k, v)) in entries.enumerated() {
                if i > 0 { out += "," }
                quote(k, into: &out)
                out += ":"
                render(v, into: &out)
            }
            out += "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` of seconds since the epoch.
    static func rfc3339(_ t: Int64) -> String {
        // Beyond years 0001–9999 an instant is not a date anyone wrote: render the number.
        guard t > -62_135_596_800, t < 253_402_300_800 else { return String(t) }
        let days = Int(t >= 0 ? t / 86_400 : (t - 86_399) / 86_400)
        let secs = Int(t - Int64(days) * 86_400)
        let d = CivilDate(daysSinceEpoch: days)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(d)T\(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60))Z"
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out = [UInt8]()
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i]), b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(table[Int(n >> 18 & 63)])
            out.append(table[Int(n >> 12 & 63)])
            out.append(i + 1 < bytes.count ? table[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? table[Int(n & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
