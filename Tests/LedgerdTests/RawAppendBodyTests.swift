import EventStore
import Ledger
import Testing
@testable import ledgerd

/// The raw append's answer, written without building a JSON value.
@Suite struct RawAppendBodyTests {
    @Test("the answer's text is the JSON value's text: positions, retry, stream versions sorted and escaped")
    func answerText() {
        let results = [
            AppendResult(positions: [1], streamVersions: ["fast-1": 1], wasRetry: false, recordedAt: 0),
            AppendResult(positions: [4_503_599_627_370_497, 7, 12], streamVersions: ["b": 3, "a\"\\q": 2, "hồ-sơ/1": 5],
                         wasRetry: true, recordedAt: 0),
        ]
        for result in results {
            let (status, text) = RawAppendBody.answer(result)
            let value = JSONValue.object([
                "positions": .array(result.positions.map { .number(Double($0)) }), "retry": .bool(result.wasRetry),
                "streamVersions": .object(result.streamVersions.mapValues { .number(Double($0)) }),
            ])
            #expect(String(decoding: text, as: UTF8.self) == String(decoding: value.jsonText, as: UTF8.self))
            #expect("\(status)".hasPrefix(result.wasRetry ? "200" : "201"), "\(status)")
        }
    }
}
