import Foundation
import Testing
@testable import EventStore

/// The pool salts and event ids take their random bytes from.
@Suite struct RandomPoolTests {
    @Test("the pool hands out each byte once, across refills and threads: 40 000 salts of 32 bytes, all distinct")
    func distinctAcrossRefills() async {
        let salts = await withTaskGroup(of: [[UInt8]].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    (0..<10_000).map { _ in
                        var salt = [UInt8](repeating: 0, count: 32)
                        salt.withUnsafeMutableBytes { RandomPool.shared.fill($0) }
                        return salt
                    }
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(salts).count == 40_000)
        // Not a constant fill: each byte value turns up about as often as the others.
        var counts = [Int](repeating: 0, count: 256)
        for salt in salts { for byte in salt { counts[Int(byte)] += 1 } }
        #expect(counts.min()! > 3_500 && counts.max()! < 6_500, "\(counts.min()!)…\(counts.max()!)")
    }

    @Test("UUIDv7 ids: version 7, RFC 9562 variant, strictly increasing, random tails")
    func uuidV7() {
        let ids = (0..<20_000).map { _ in UUID.v7() }
        for (a, b) in zip(ids, ids.dropFirst()) {
            #expect(withUnsafeBytes(of: a.uuid) { Array($0) }.lexicographicallyPrecedes(withUnsafeBytes(of: b.uuid) { Array($0) }))
        }
        #expect(ids.allSatisfy { $0.uuid.6 >> 4 == 7 && $0.uuid.8 >> 6 == 0b10 })
        #expect(Set(ids.map { withUnsafeBytes(of: $0.uuid) { Array($0[8...]) } }).count == ids.count)
    }
}
