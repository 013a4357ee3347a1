import EventStore
import Foundation
@testable import ledgerd
import Testing

@Suite("Config file")
struct ConfigTests {
    @Test("the TOML subset: tables, escapes, multi-line arrays, comments, integers")
    func parse() throws {
        let text = """
            # comment
            origin = "ward.example/dossiers"   # trailing comment
            name = "Sở \\"Nội\\" vụ # not a comment \\u00E9"
            keys = [
              "a+1", # first
              "b+2",
            ]
            map_size = 1_048_576
            on = true

            [roles]
            0 = "admin"
            "1000" = "clerk"
            """
        let tables = try TOMLSubset.parse(text)
        #expect(tables[""]?["origin"] == .string("ward.example/dossiers"))
        #expect(tables[""]?["name"] == .string("Sở \"Nội\" vụ # not a comment é"))
        #expect(tables[""]?["keys"] == .strings(["a+1", "b+2"]))
        #expect(tables[""]?["map_size"] == .integer(1_048_576))
        #expect(tables[""]?["on"] == .boolean(true))
        #expect(tables["roles"]?["0"] == .string("admin") && tables["roles"]?["1000"] == .string("clerk"))
    }

    @Test("errors name the line", arguments: [
        ("a = \"x\"\na = \"y\"", "line 2"), ("[t]\nb = \"unclosed", "line 2"), ("c = [\"x\"", "line 1"),
        ("just words", "line 1"), ("d = 1.5", "unsupported"),
    ])
    func errors(text: String, mentions: String) {
        #expect {
            _ = try TOMLSubset.parse(text)
        } throws: { error in
            "\(error)".contains(mentions)
        }
    }

    @Test("a written config reads back the same, and bad values are refused with the file and the key named")
    func roundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-config-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = LedgerConfig(origin: "ward.example/dossiers", key: "/var/lib/ledger/store.key")
        config.roles = [0: "admin", 1001: "auditor"]
        config.witnessKeys = [try ledgerdWitnessKey()]
        let path = directory + "/store.toml"
        try config.text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try LedgerConfig(path: path) == config)

        try (config.text + "\n[roles]\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try LedgerConfig(path: path) }
        try config.text.replacingOccurrences(of: "\"auditor\"", with: "\"boss\"").write(toFile: path, atomically: true,
                                                                                          encoding: .utf8)
        #expect { try LedgerConfig(path: path) } throws: { "\($0)".contains("uid 1001") && "\($0)".contains(path) }
    }

    @Test("the portal table reads back; a bad address, delay or key is refused naming it")
    func portal() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-config-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = LedgerConfig(origin: "ward.example/dossiers", key: "/var/lib/ledger/store.key")
        config.portalURL = "https://portal.example/api/dossier-sync"
        config.portalRetrySeconds = 30
        let path = directory + "/store.toml"
        try config.text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try LedgerConfig(path: path) == config)
        for (from, to, named) in [("https://portal.example/api/dossier-sync", "ftp://portal.example", "url"),
                                  ("retry_seconds = 30", "retry_seconds = 0", "retry_seconds"),
                                  ("timeout_seconds = 10", "timeout_seconds = 10\ntoken = \"x\"", "token")] {
            try config.text.replacingOccurrences(of: from, with: to).write(toFile: path, atomically: true, encoding: .utf8)
            #expect { try LedgerConfig(path: path) } throws: { "\($0)".contains(named) && "\($0)".contains(path) }
        }
    }
}

/// A witness verifier key for tests.
func ledgerdWitnessKey() throws -> String {
    try EventStoreKeys.witness().cosignatureVerifierKey
}
