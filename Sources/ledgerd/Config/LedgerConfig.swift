import EventStore
import Foundation

/// The config file beside a store (`<store>.toml`, design.md "Config and keys"): the origin, the signing key, the
/// witnesses' keys, the socket, the map size, and the role of each Unix uid.
///
///     # Ledger configuration for /var/lib/ledger/store
///     origin = "ledger.agency.example/dossiers"
///     key = "/var/lib/ledger/store.key"
///     witness_keys = ["audit-office.example/w1+0a1b2c3d+BF…"]
///     map_size = 68719476736
///
///     [socket]
///     path = "/run/ledgerd/ledgerd.sock"
///     group = "ledger"
///
///     [roles]
///     0 = "admin"
///     1000 = "admin"
///
///     [portal]                      # optional: push dossier steps to the national portal
///     url = "https://portal.example/api/dossier-sync"
///     retry_seconds = 60            # the first retry's delay; it doubles per failed attempt, up to an hour
///     timeout_seconds = 10
struct LedgerConfig: Equatable {
    var origin: String
    var key: String
    var witnessKeys: [String] = []
    var mapSize: Int64 = Int64(StoreOptions().mapSize)
    var socketPath = "/run/ledgerd/ledgerd.sock"
    var socketGroup = "ledger"
    /// Unix uid → role (clerk, auditor, analyst, admin, import).
    var roles: [UInt32: String] = [:]
    /// Where the sync worker pushes dossier steps (`nil`: no portal, nothing is pushed).
    var portalURL: String?
    /// The first retry's delay after a failed push, in seconds.
    var portalRetrySeconds: Int64 = 60
    /// How long one push may take, in seconds.
    var portalTimeoutSeconds: Int64 = 10

    static let knownRoles: Set<String> = ["clerk", "auditor", "analyst", "admin", "import"]

    /// The default config path of a store: `<store>.toml`.
    static func defaultPath(store: String) -> String { StoreLocation.trimmed(store) + ".toml" }

    /// The file's text.
    var text: String {
        var out = "# Ledger configuration (ledgerd init); keys and values are documented in README.md.\n"
        out += "origin = \(TOMLSubset.quote(origin))\n"
        out += "key = \(TOMLSubset.quote(key))\n"
        out += "witness_keys = [" + witnessKeys.map(TOMLSubset.quote).joined(separator: ", ") + "]\n"
        out += "map_size = \(mapSize)\n\n[socket]\npath = \(TOMLSubset.quote(socketPath))\n"
        out += "group = \(TOMLSubset.quote(socketGroup))\n\n[roles]\n"
        for (uid, role) in roles.sorted(by: { $0.key < $1.key }) { out += "\(uid) = \(TOMLSubset.quote(role))\n" }
        if let portalURL {
            out += "\n[portal]\nurl = \(TOMLSubset.quote(portalURL))\nretry_seconds = \(portalRetrySeconds)\n"
            out += "timeout_seconds = \(portalTimeoutSeconds)\n"
        }
        return out
    }

    init(origin: String, key: String) {
        self.origin = origin
        self.key = key
    }

    /// Reads and checks a config file; errors name the file, the line or key, and what is expected.
    init(path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw StoreError(.notFound, "no config file at \(path); `ledgerd init` writes one, or pass --config")
        }
        let tables: [String: [String: TOMLSubset.Value]]
        do { tables = try TOMLSubset.parse(text) } catch {
            throw StoreError(.invalidArgument, "\(path): \(error)")
        }
        func fail(_ message: String) -> StoreError { StoreError(.invalidArgument, "\(path): \(message)") }
        let root = tables[""] ?? [:]
        guard case .string(let origin)? = root["origin"] else { throw fail("origin = \"…\" is required") }
        guard case .string(let key)? = root["key"] else { throw fail("key = \"<path of the signing key>\" is required") }
        self.init(origin: origin, key: key)
        switch root["witness_keys"] {
        case .strings(let keys)?:
            for k in keys {
                do { _ = try NoteVerifier(verifierKey: k) } catch { throw fail("witness_keys: \(error)") }
            }
            witnessKeys = keys
        case nil: break
        default: throw fail("witness_keys must be an array of verifier keys")
        }
        switch root["map_size"] {
        case .integer(let n)? where n > 0: mapSize = n
        case nil: break
        default: throw fail("map_size must be a positive number of bytes")
        }
        let socket = tables["socket"] ?? [:]
        if case .string(let p)? = socket["path"] { socketPath = p }
        if case .string(let g)? = socket["group"] { socketGroup = g }
        for (uid, value) in tables["roles"] ?? [:] {
            guard let id = UInt32(uid) else { throw fail("[roles]: \"\(uid)\" is not a Unix uid") }
            guard case .string(let role) = value, Self.knownRoles.contains(role) else {
                throw fail("[roles]: uid \(uid) needs one of \(Self.knownRoles.sorted().joined(separator: ", "))")
            }
            roles[id] = role
        }
        let portal = tables["portal"] ?? [:]
        switch portal["url"] {
        case .string(let url)?:
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                throw fail("[portal] url must be an http:// or https:// address (got \(url))")
            }
            portalURL = url
        case nil: break
        default: throw fail("[portal] url must be a string")
        }
        for (key, range) in [("retry_seconds", Int64(1)...3_600), ("timeout_seconds", 1...600)] {
            switch portal[key] {
            case .integer(let n)? where range.contains(n):
                if key == "retry_seconds" { portalRetrySeconds = n } else { portalTimeoutSeconds = n }
            case nil: break
            default: throw fail("[portal] \(key) must be a number of seconds from \(range.lowerBound) to \(range.upperBound)")
            }
        }
        let unknown = Set(portal.keys).subtracting(["url", "retry_seconds", "timeout_seconds"])
        guard unknown.isEmpty else { throw fail("[portal] has no key \(unknown.sorted().joined(separator: ", "))") }
    }

    /// The witness verifier keys.
    func witnessVerifiers() throws -> [NoteVerifier] { try witnessKeys.map { try NoteVerifier(verifierKey: $0) } }
}
