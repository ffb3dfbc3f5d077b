import AlphaPlusSDK
import Dispatch
import Foundation
import XCTest
@testable import Distribution

/// A channel instance has `maxInFlightPerChannel` slots; destinations that
/// find them all taken wait in line for the next one freed.
final class ChannelSlotTests: XCTestCase {
    func testAFreedSlotGoesToTheLongestWaitingDestinationAndOneThatCannotSendPassesItOn() throws {
        let harness = try Harness()
        // b may send twice a minute; a and c have no limit.
        harness.script.limits = { target in target.contains("\"b\"") ? [RateLimit(bucket: "b", capacity: 2, windowMs: 60_000)] : [] }
        let starts = WallTimes()
        harness.script.decide = { delivery, n in
            starts.record(delivery.idempotencyKey)
            return .later(DeliveryResult(.delivered, externalID: "m\(n)"), seconds: 0.05)
        }
        let distributor = try harness.distributor(settings([("a", "premium", #"{"chat":"a"}"#), ("b", "premium", #"{"chat":"b"}"#),
                                                            ("c", "premium", #"{"chat":"c"}"#)]),
                                                  options: DistributorOptions(maxInFlightPerChannel: 1, randomSeed: 7))
        // The first signal has each destination's limits asked (in any
        // order) and takes one of b's two sends.
        distributor.submit(makeSignal(0))
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(harness.script.sent.count, 3)

        distributor.submit(makeSignal(1))
        distributor.submit(makeSignal(2))
        harness.run(distributor, untilNs: t0 + 120 * second)
        let sent = harness.script.sent.dropFirst(3)
        let key = { (destination: String, n: Int) in "t/\(destination)/signal/\(makeSignal(n).id)" }
        // a1 takes the slot; b and c wait in that order. Each freed slot goes
        // to the head of the line, and the destination whose turn ended joins
        // its end. b2 finds b's limit used up: it leaves the line for its
        // time and c2 gets the slot at once.
        XCTAssertEqual(sent.map(\.key), [key("a", 1), key("b", 1), key("c", 1), key("a", 2), key("c", 2), key("b", 2)])
        XCTAssertEqual(sent.map { ($0.atNs - t0) / second }, [0, 0, 0, 0, 0, 60])
        // One at a time: each started only after the one before it ended.
        let times = starts.times(of: sent.prefix(5).map(\.key))
        for (earlier, later) in zip(times, times.dropFirst()) {
            XCTAssertGreaterThanOrEqual(later - earlier, 0.045, "a second delivery started while one was in flight")
        }
        XCTAssertEqual(try harness.rows(state: .delivered).count, 9)
    }

    func testTheWaitingLineKeepsArrivalOrderAndEachDestinationOnce() {
        var line = WaitingLine()
        let keys = (0..<300).map { DestinationKey(tenant: "t", id: "d\($0)") }
        for key in keys.prefix(200) { line.append(key) }
        line.append(keys[0])  // already waiting: keeps its place
        var popped: [DestinationKey] = []
        for _ in 0..<150 { popped.append(line.popFirst()!) }
        for key in keys[200...] { line.append(key) }
        line.append(keys[0])  // left the line: joins its end
        while let key = line.popFirst() { popped.append(key) }
        XCTAssertEqual(popped, keys + [keys[0]])
        XCTAssertNil(line.popFirst())
    }
}

/// Wall-clock start times of deliveries, by idempotency key.
private final class WallTimes: @unchecked Sendable {
    private let lock = NSLock()
    private var times: [String: Double] = [:]

    func record(_ key: String) {
        let now = Date().timeIntervalSince1970
        lock.withLock { times[key] = now }
    }

    func times(of keys: [String]) -> [Double] { lock.withLock { keys.compactMap { times[$0] } } }
}
