import AlphaPlusSDKTesting
import ExampleSwiftHead
import XCTest

/// The bundled Swift head, unit-tested through the SDK's TestHost as a
/// third-party author would.
final class MomentumHeadTests: XCTestCase {
    private func frame(fast: Double, slow: Double) -> TestFrame {
        TestFrame(indicators: ["ema_12": fast, "ema_26": slow])
    }

    func testVotesWithTheGapBetweenAverages() throws {
        let head = try TestHost().load(MomentumHead.self).create(config: #"{"threshold": 0.01}"#)
        let long = try head.evaluate(frame(fast: 103, slow: 100))
        XCTAssertEqual(long.direction, .long)
        XCTAssertEqual(long.confidence, 0.03 / 0.04, accuracy: 1e-12)
        XCTAssertEqual(long.rationale, "fast above slow")
        XCTAssertEqual(try head.evaluate(frame(fast: 97, slow: 100)).direction, .short)
        XCTAssertEqual(try head.evaluate(frame(fast: 100.5, slow: 100)), Vote(.flat, confidence: 0))
        XCTAssertEqual(try head.evaluate(frame(fast: .nan, slow: 100)), .flat)
        XCTAssertEqual(try head.evaluate(TestFrame(indicators: ["rsi_14": 50], layoutID: 2)), .flat, "flat when the averages are absent")
    }

    func testSchemaRefusesABadThreshold() throws {
        let plugin = try TestHost().load(MomentumHead.self)
        XCTAssertThrowsError(try plugin.create(config: #"{"threshold": 0}"#)) {
            XCTAssertTrue("\($0)".hasPrefix("threshold:"), "\($0)")
        }
        XCTAssertThrowsError(try plugin.create(config: #"{"treshold": 0.1}"#)) {
            XCTAssertTrue("\($0)".contains("'treshold'"), "\($0)")
        }
    }
}
