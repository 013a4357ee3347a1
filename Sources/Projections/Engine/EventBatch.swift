import EventStore

/// A batch of events copied out of the log's read transaction into one buffer, so folds run in the state stores'
/// transactions: every record and payload part of the batch sits in one array, and each event is a set of ranges
/// into it (no allocation per event).
struct EventBatch {
    private struct Entry {
        var layout: RecordView.Layout
        var record: Range<Int>
        var facts: Range<Int>?
        var personal: Range<Int>?
    }

    private var bytes = [UInt8]()
    private var entries = [Entry]()

    /// Reads positions `from..<to` of `store`, with the payload parts `payloads` chooses for each record (the
    /// parts its projections read; the others are left compressed).
    init(_ store: Store, from: UInt64, to: UInt64, payloads: (RecordView) -> PayloadSelection) throws {
        entries.reserveCapacity(Int(to - from))
        try store.scanRecords(from: from, to: to, choosingPayloads: payloads) { record, facts, personal in
            func take(_ part: UnsafeRawBufferPointer?) -> Range<Int>? {
                guard let part else { return nil }
                let start = bytes.count
                bytes.append(contentsOf: part)
                return start..<bytes.count
            }
            let recordRange = take(record.bytes)!
            entries.append(Entry(layout: record.layout, record: recordRange, facts: take(facts),
                                 personal: take(personal)))
            return true
        }
    }

    /// Calls `body` with the batch's events, valid only during the call.
    func withEvents(_ body: ([ProjectedEvent]) throws -> Void) throws {
        try bytes.withUnsafeBytes { base in
            func slice(_ range: Range<Int>?) -> UnsafeRawBufferPointer? {
                range.map { UnsafeRawBufferPointer(rebasing: base[$0]) }
            }
            // The records were located and checked while scanning: their copies are viewed with the same layout.
            let events = entries.map { e in
                ProjectedEvent(record: RecordView(copy: slice(e.record)!, layout: e.layout), facts: slice(e.facts),
                               personal: slice(e.personal))
            }
            try body(events)
        }
    }
}
