import Ledger

/// The reference data the generator publishes, as the JSON files committed under `fixtures/reference/`
/// (`ledgerd fixtures reference` writes them; a test keeps the committed ones equal to these).
public enum ReferenceFiles {
    /// File name → content, each a JSON document with sorted keys and a final newline.
    public static func all() -> [(name: String, text: String)] {
        [("procedures.json", procedures()), ("agencies-sample.json", agencies(Profile.sample))]
    }

    /// The procedure catalogue: national codes where known, the others with `illustrative: true`.
    public static func procedures() -> String {
        document(.object([
            "about": .string("Procedures the fixtures publish. Codes of the national database of administrative "
                + "procedures where known; codes with illustrative: true are made up for the fixtures. workingDays null: "
                + "same day."),
            "procedures": .array(Catalogue.procedures.map { p in
                .object([
                    "code": .string(p.code), "name": .string(p.name), "field": .string(p.field),
                    "onlineLevel": .number(Double(p.level)),
                    "workingDays": p.workingDays.map { .number(Double($0)) } ?? .null,
                    "urgentWhitelist": .bool(p.urgent), "illustrative": .bool(p.illustrative),
                    "level": .string(p.ward ? "ward" : "department"), "fee": .number(Double(p.fee)),
                ])
            }),
        ]))
    }

    /// A profile's agencies: their superior, divisions (with their sizes), desk, daily dossiers and on-site ratio.
    public static func agencies(_ profile: Profile) -> String {
        document(.object([
            "about": .string("Agencies of the \(profile.name) profile (a Province-M subset); each has a "
                + "leadership board, a one-stop desk of deskSize officers and its divisions."),
            "agencies": .array(profile.agencies.map { a in
                var o: [String: JSONValue] = [
                    "id": .string(a.id), "name": .string(a.name), "level": .string(a.level),
                    "divisions": .array(a.divisions.map { .object(["name": .string($0.name), "size": .number(Double($0.size))]) }),
                    "deskSize": .number(Double(a.deskSize)), "dossiersPerDay": .number(Double(a.dossiersPerDay)),
                    "onsiteRatio": .string("\(a.ratio.0)/\(a.ratio.1)"),
                ]
                if let superior = a.superior { o["superior"] = .string(superior) }
                return .object(o)
            }),
        ]))
    }

    /// An object with sorted keys, one key per line, and an array's items one per line.
    private static func document(_ value: JSONValue) -> String {
        func text(_ v: JSONValue) -> String { String(decoding: v.jsonText, as: UTF8.self) }
        guard case .object(let top) = value else { return text(value) + "\n" }
        let lines = top.keys.sorted().map { key -> String in
            let name = text(.string(key))
            guard case .array(let items)? = top[key], !items.isEmpty else { return "  \(name): \(text(top[key]!))" }
            return "  \(name): [\n" + items.map { "    " + text($0) }.joined(separator: ",\n") + "\n  ]"
        }
        return "{\n" + lines.joined(separator: ",\n") + "\n}\n"
    }
}
