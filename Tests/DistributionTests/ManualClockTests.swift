import Foundation
import XCTest
@testable import Distribution
import Timekeeping

final class ManualClockTests: XCTestCase {
    func testNextWakeIsTheEarliestNotRunYet() {
        let clock = ManualClock(startNs: 100)
        let ran = LockedList()
        XCTAssertNil(clock.nextWakeNs, "none yet")
        clock.wake(atNs: 300) { ran.append(300) }
        clock.wake(atNs: 200) { ran.append(200) }
        clock.wake(atNs: 300) { ran.append(301) }
        XCTAssertEqual(clock.nextWakeNs, 200)

        clock.set(toNs: 200)
        XCTAssertEqual(ran.items, [200])
        XCTAssertEqual(clock.nextWakeNs, 300)

        clock.set(toNs: clock.nextWakeNs!)
        XCTAssertEqual(ran.items, [200, 300, 301], "both wake-ups at 300, in the order asked")
        XCTAssertNil(clock.nextWakeNs)

        // A wake-up already due runs at once and is never listed.
        let due = expectation(description: "a due wake-up runs")
        clock.wake(atNs: 250) { due.fulfill() }
        XCTAssertNil(clock.nextWakeNs)
        wait(for: [due], timeout: 5)
    }
}

private final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int] = []
    func append(_ value: Int) { lock.withLock { values.append(value) } }
    var items: [Int] { lock.withLock { values } }
}
