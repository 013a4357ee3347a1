import Foundation
import Synchronization

/// Tracks the background thread that trains a compression dictionary, so the store never trains twice at once
/// and waits for it on close.
final class DictionaryTraining: Sendable {
    private let running = Atomic<Bool>(false)
    private let group = DispatchGroup()

    /// Starts `work` on its own thread unless a training is already running; returns whether it started.
    @discardableResult
    func start(_ work: @escaping @Sendable () -> Void) -> Bool {
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return false }
        group.enter()
        let thread = Thread { [self] in
            work()
            running.store(false, ordering: .releasing)
            group.leave()
        }
        thread.name = "ledger-zstd-train"
        thread.start()
        return true
    }

    /// Waits for a running training to finish.
    func wait() { group.wait() }
}

extension Store {
    /// Automatic trainings happen when the parts stored since the store opened reach the threshold, then ten and a
    /// hundred times it: the first dictionary comes early, later ones learn from more of the store's own payloads.
    static let automaticTrainings = 3

    /// Counts encoded payload parts and starts a background training when a threshold is crossed.
    func noteEncodedParts(_ count: Int) {
        let threshold = options.dictionaryTrainingThreshold
        guard threshold > 0 else { return }
        let total = codec.partsEncoded.add(count, ordering: .relaxed).newValue
        let next = codec.nextTraining.load(ordering: .relaxed)
        guard total >= (next == 0 ? threshold : next), next <= threshold * 100 else { return }
        let samples = min(total, Self.maximumSamples)
        training.start { [self] in
            // Move the next threshold on whatever the outcome, so a failing training is not retried per append.
            codec.nextTraining.store(max(next, threshold) * 10, ordering: .relaxed)
            guard let bytes = try? trainedDictionary(sampleCount: samples) else { return }
            writer?.enqueue(.installDictionary(bytes, { _ in }))
        }
    }

    /// The most parts a training reads (more costs time and memory for little gain).
    static let maximumSamples = 20_000

    /// Trains a dictionary on the newest payload parts and makes new parts use it; returns its id.
    ///
    /// Runs on a thread of its own (training takes about half a second for 10 000 samples) and stores the
    /// dictionary durably before any part uses it. Every dictionary stays in the store, so old parts stay readable.
    ///
    /// - Parameter sampleCount: How many of the newest events to sample (both parts of each).
    /// - Throws: ``StoreError``; `.invalidArgument` when the log holds too little to train on.
    @discardableResult
    public func trainDictionary(sampleCount: Int = 10_000) async throws -> UInt8 {
        try checkOpen()
        guard let writer else { throw StoreError(.readOnly, "a read-only store cannot train dictionaries") }
        let bytes: [UInt8] = try await withCheckedThrowingContinuation { continuation in
            let started = training.start { [self] in
                continuation.resume(with: Result { try trainedDictionary(sampleCount: sampleCount) })
            }
            if !started {
                continuation.resume(throwing: StoreError(.invalidArgument, "a dictionary is being trained already; "
                    + "wait for it to finish"))
            }
        }
        return try await withCheckedThrowingContinuation { continuation in
            writer.enqueue(.installDictionary(bytes, { continuation.resume(with: $0.mapError { $0 as any Error }) }))
        }
    }

    /// Reads samples and trains (blocking).
    private func trainedDictionary(sampleCount: Int) throws -> [UInt8] {
        let end = head
        let start = end > UInt64(sampleCount) ? end - UInt64(sampleCount) : 0
        var samples = [[UInt8]]()
        samples.reserveCapacity(sampleCount * 2)
        try scan(from: start, payloads: .all) { event in
            if let facts = event.facts, !facts.isEmpty { samples.append(facts) }
            if let personal = event.personal { samples.append(personal) }
            return true
        }
        guard samples.count >= 100 else {
            throw StoreError(.invalidArgument, "only \(samples.count) payload parts to train on; a dictionary needs "
                + "at least 100 (a few thousand is better)")
        }
        // zstd suggests a dictionary about a tenth of the sample bytes, or smaller.
        let sampleBytes = samples.reduce(0) { $0 + $1.count }
        let capacity = min(options.dictionaryCapacity, max(4_096, sampleBytes / 10))
        do {
            return try ZstdDictionary.train(samples: samples, capacity: capacity)
        } catch {
            throw StoreError(.invalidArgument, "training a dictionary on \(samples.count) parts failed: \(error)")
        }
    }
}
