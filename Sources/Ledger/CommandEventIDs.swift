import Crypto
public import Foundation

/// Derives the ids of the events a command produces from the command's id, so a retried command yields the same
/// event ids and the store's idempotency answers it with the original positions (design.md, "Commands are
/// idempotent too").
///
/// The id of event `index` is the first 16 bytes of `SHA-256("ledger.event-id.v1" ‖ commandId ‖ u32be index)`,
/// marked as an RFC 9562 version-8 UUID.
///
/// ```swift
/// let first = CommandEventIDs.eventID(command: commandID, index: 0)
/// ```
public enum CommandEventIDs {
    private static let domain = Array("ledger.event-id.v1".utf8)

    /// The id of the `index`-th event produced by the command `command`.
    public static func eventID(command: UUID, index: UInt32) -> UUID {
        var hasher = SHA256()
        hasher.update(data: domain)
        withUnsafeBytes(of: command.uuid) { hasher.update(bufferPointer: $0) }
        withUnsafeBytes(of: index.bigEndian) { hasher.update(bufferPointer: $0) }
        var bytes = Array(hasher.finalize().prefix(16))
        bytes[6] = 0x80 | (bytes[6] & 0x0F)  // version 8
        bytes[8] = 0x80 | (bytes[8] & 0x3F)  // RFC 9562 variant
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// A deterministic command id for a system command named by `key` (e.g. `"eod HBC 2020-04-03"`), so a scheduler
    /// that sends it again after a restart is answered as a retry: the first 16 bytes of
    /// `SHA-256("ledger.system-command.v1" ‖ key)`, as a version-8 UUID.
    public static func systemCommandID(_ key: String) -> UUID {
        derived(domain: "ledger.system-command.v1", key)
    }

    /// The first 16 bytes of `SHA-256(domain ‖ key)`, as a version-8 UUID.
    static func derived(domain: String, _ key: String) -> UUID {
        var hasher = SHA256()
        hasher.update(data: Array(domain.utf8) + Array(key.utf8))
        var bytes = Array(hasher.finalize().prefix(16))
        bytes[6] = 0x80 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
