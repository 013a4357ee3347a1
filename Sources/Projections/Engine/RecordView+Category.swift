import EventStore

extension RecordView {
    /// Whether the record's stream category (``categoryBytes``) is one of `categories`, given as UTF-8 bytes.
    func isIn(categories: [[UInt8]]) -> Bool {
        let category = categoryBytes
        return categories.contains { $0.elementsEqual(category) }
    }
}
