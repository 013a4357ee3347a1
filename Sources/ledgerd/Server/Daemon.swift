import EventStore
import Foundation
import Ledger
import Projections
import Synchronization

/// What the routes share: the store, the command service, the read model, the role map and the shutdown signal.
final class Daemon: Sendable {
    let store: Store
    let service: LedgerService
    let model: ReadModel
    /// The config's `[roles]`: uid → role, replaced whole on SIGHUP.
    private let roles: Mutex<[UInt32: Role]>
    let shutdown = ShutdownSignal()
    /// How far behind the log projections may be for `/ready`.
    let readyLag: UInt64 = 1_000
    /// How long a query naming a position waits for the projections.
    let positionWait: Duration = .seconds(5)

    /// The checkpoint signer and its state (when the key is readable), the config's witnesses, and the cadence.
    let signer: NoteSigner?
    let signingState: SigningState?
    let witnesses: [NoteVerifier]
    let checkpointInterval: Duration
    /// The national-portal sync, when the config names a portal.
    let portal: PortalSyncWorker?

    init(store: Store, model: ReadModel, roles: [UInt32: Role], signer: NoteSigner? = nil,
         signingState: SigningState? = nil, witnesses: [NoteVerifier] = [], checkpointInterval: Duration = .seconds(300),
         portal: PortalSyncWorker? = nil) throws
    {
        self.portal = portal
        self.store = store
        self.service = try LedgerService(store: store)
        self.model = model
        self.roles = Mutex(roles)
        self.signer = signer
        self.signingState = signingState
        self.witnesses = witnesses
        self.checkpointInterval = checkpointInterval
    }

    /// The role of a uid: the config's, else admin for root, else none.
    func role(of uid: UInt32) -> Role? { roles.withLock { $0[uid] } ?? (uid == 0 ? .admin : nil) }

    /// Replaces the role map (the config read again on SIGHUP); requests after it are checked against the new one.
    func replaceRoles(_ map: [UInt32: Role]) { roles.withLock { $0 = map } }
}

/// Fired once when the daemon begins to stop: open event streams end so in-flight requests can finish.
final class ShutdownSignal: Sendable {
    private let state = Atomic<Bool>(false)

    func fire() { state.store(true, ordering: .releasing) }

    var fired: Bool { state.load(ordering: .acquiring) }

    /// Returns once fired, or when the task is cancelled (checked every 50 ms).
    func wait() async {
        while !fired && !Task.isCancelled { try? await Task.sleep(for: .milliseconds(50)) }
    }
}
