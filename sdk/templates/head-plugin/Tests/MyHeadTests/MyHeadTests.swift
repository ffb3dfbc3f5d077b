import AlphaPlusSDKTesting
import MyHead
import XCTest

/// Drives the head through the same C table the AlphaPlus host uses: the
/// TestHost validates configs against the descriptor's schema, creates
/// instances and calls ap.head.v1's evaluate.
final class MyHeadTests: XCTestCase {
    private var host: TestHost!
    private var plugin: TestPlugin!

    override func setUpWithError() throws {
        host = TestHost()
        plugin = try host.load(MyHead.self)
    }

    override func tearDown() {
        plugin = nil
        host = nil
    }

    /// A closed one-minute candle with this close and these indicators.
    private func frame(close: Double, _ indicators: KeyValuePairs<String, Double>, layoutID: UInt64 = 1) -> TestFrame {
        TestFrame(candle: Candle(openTimeNs: 1_700_000_000_000_000_000, intervalSeconds: 60, open: close, high: close,
                                 low: close, close: close, volume: 1),
                  indicators: indicators, layoutID: layoutID)
    }

    /// The error `body` throws, failing the test when it throws none.
    private func pluginError(_ body: () throws -> Any) -> PluginError? {
        do {
            _ = try body()
            XCTFail("expected an error")
            return nil
        } catch let error as PluginError {
            return error
        } catch {
            XCTFail("expected a PluginError, got \(error)")
            return nil
        }
    }

    func testDescriptor() {
        XCTAssertEqual(plugin.id, "com.example.my-head")
        XCTAssertEqual(plugin.version, "0.1.0")
        XCTAssertEqual(plugin.capabilities, ["ap.head.v1"])
    }

    func testCreatesWithDefaultsAndLogs() throws {
        _ = try plugin.create()
        XCTAssertTrue(host.logs.contains { $0.level == .info && $0.message.contains("rsi_14") && $0.message.contains("ema_50") },
                      "\(host.logs)")
    }

    func testLongOnPullbackInUptrend() throws {
        let head = try plugin.create(config: #"{"pullback": 35}"#)
        let vote = try head.evaluate(frame(close: 105, ["rsi_14": 20, "ema_50": 100]))
        XCTAssertEqual(vote.direction, .long)
        XCTAssertEqual(vote.confidence, 0.5 + 0.5 * 15 / 35, accuracy: 1e-12)
        XCTAssertEqual(vote.rationale, "RSI pullback in an uptrend")
    }

    func testShortOnRallyInDowntrend() throws {
        let head = try plugin.create()
        let vote = try head.evaluate(frame(close: 95, ["rsi_14": 80, "ema_50": 100]))
        XCTAssertEqual(vote.direction, .short)
        XCTAssertEqual(vote.confidence, 0.75, accuracy: 1e-12)
    }

    func testConfidenceStaysInUnitInterval() throws {
        let head = try plugin.create()
        let extreme = try head.evaluate(frame(close: 105, ["rsi_14": -5, "ema_50": 100]))
        XCTAssertEqual(extreme.direction, .long)
        XCTAssertEqual(extreme.confidence, 1)
    }

    func testFlatWithoutSignal() throws {
        let head = try plugin.create(config: #"{"min_trend_gap": 0.02}"#)
        // Uptrend, but no pullback.
        XCTAssertEqual(try head.evaluate(frame(close: 105, ["rsi_14": 55, "ema_50": 100])), .flat)
        // Oversold, but against the trend: no long in a downtrend.
        XCTAssertEqual(try head.evaluate(frame(close: 95, ["rsi_14": 20, "ema_50": 100])), .flat)
        // Close within min_trend_gap of the average: no trend.
        XCTAssertEqual(try head.evaluate(frame(close: 101, ["rsi_14": 20, "ema_50": 100])), .flat)
    }

    func testFlatWhileWarmingUp() throws {
        let head = try plugin.create()
        XCTAssertEqual(try head.evaluate(frame(close: 105, ["rsi_14": .nan, "ema_50": 100])), .flat)
        XCTAssertEqual(try head.evaluate(frame(close: 105, ["rsi_14": 20, "ema_50": .nan], layoutID: 2)), .flat)
        // An indicator the frame does not carry reads as NaN.
        XCTAssertEqual(try head.evaluate(frame(close: 105, ["rsi_14": 20], layoutID: 3)), .flat)
    }

    func testFollowsLayoutChanges() throws {
        let head = try plugin.create(config: #"{"rsi": "rsi_7", "trend": "sma_200"}"#)
        let first = try head.evaluate(frame(close: 105, ["rsi_7": 20, "sma_200": 100], layoutID: 1))
        // Same names in another order under a new layout id.
        let second = try head.evaluate(frame(close: 95, ["sma_200": 100, "ema_50": 1, "rsi_7": 80], layoutID: 2))
        XCTAssertEqual(first.direction, .long)
        XCTAssertEqual(second.direction, .short)
    }

    func testSchemaRejectsOutOfRangeSetting() {
        let error = pluginError { try self.plugin.create(config: #"{"pullback": 70}"#) }
        XCTAssertEqual(error?.status, ap_status(AP_ERR_INVALID_CONFIG))
        XCTAssertTrue(error?.message.contains("pullback") ?? false, error?.message ?? "")
    }

    func testSchemaRejectsUnknownField() {
        let error = pluginError { try self.plugin.create(config: #"{"pulback": 30}"#) }
        XCTAssertEqual(error?.status, ap_status(AP_ERR_INVALID_CONFIG))
        XCTAssertTrue(error?.message.contains("pulback") ?? false, error?.message ?? "")
    }

    func testCreateRefusesSameIndicatorTwice() {
        // Valid for the schema; refused by init, naming both fields.
        let error = pluginError { try self.plugin.create(config: #"{"rsi": "ema_50", "trend": "ema_50"}"#) }
        XCTAssertEqual(error?.status, ap_status(AP_ERR_INVALID_CONFIG))
        let message = error?.message ?? ""
        XCTAssertTrue(message.contains("'rsi'") && message.contains("'trend'"), message)
    }
}
