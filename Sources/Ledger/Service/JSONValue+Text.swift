extension JSONValue {
    /// The value as compact JSON text in UTF-8, keys sorted, `/` not escaped: the same text `JSONEncoder` with
    /// `.sortedKeys` and `.withoutEscapingSlashes` writes, without going through the `Encoder` protocol (which costs
    /// more than building a 50-row work queue does). Integral numbers below 2^53 print without a fraction; a number
    /// that is not finite prints as `null`.
    public var jsonText: [UInt8] { jsonText(escapingSlashes: false) }

    /// The value as compact JSON text, keys sorted; with `escapingSlashes` every `/` is written `\/`, the text
    /// `JSONEncoder` with `.sortedKeys` alone writes (raw appends store their facts so, and an idempotent retry
    /// compares those bytes).
    public func jsonText(escapingSlashes: Bool) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(256)
        write(into: &out, escapingSlashes: escapingSlashes)
        return out
    }

    private func write(into out: inout [UInt8], escapingSlashes: Bool) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .number(let n):
            if !n.isFinite { out += "null".utf8 }
            else if n.rounded() == n, abs(n) < 9e15 { out += String(Int64(n)).utf8 }
            else { out += "\(n)".utf8 }
        case .string(let s): Self.writeString(s, into: &out, escapingSlashes: escapingSlashes)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out, escapingSlashes: escapingSlashes)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            for (i, key) in fields.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out, escapingSlashes: escapingSlashes)
                out.append(UInt8(ascii: ":"))
                fields[key]!.write(into: &out, escapingSlashes: escapingSlashes)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `s` to `out` as a JSON string, quoted and escaped as ``jsonText`` writes it, for callers that write
    /// a known shape of JSON without building a value.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        writeString(s, into: &out, escapingSlashes: false)
    }

    private static func writeString(_ s: String, into out: inout [UInt8], escapingSlashes: Bool) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case UInt8(ascii: "/") where escapingSlashes: out += #"\/"#.utf8
            case 0x0A: out += #"\n"#.utf8
            case 0x0D: out += #"\r"#.utf8
            case 0x09: out += #"\t"#.utf8
            case 0x08: out += #"\b"#.utf8
            case 0x0C: out += #"\f"#.utf8
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += #"\u00"#.utf8
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
