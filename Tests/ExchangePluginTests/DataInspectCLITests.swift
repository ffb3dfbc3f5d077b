import Foundation
import SharedTestData
import XCTest

/// `alphaplus data inspect` on the shared market data, as an operator runs it.
final class DataInspectCLITests: XCTestCase {
    private func inspect(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let result = try AlphaPlusCLI.run(["data", "inspect"] + arguments)
        return (result.status, result.out, result.err)
    }

    func testFreqtradeBarsWithGapsAsText() throws {
        let path = try SharedData.file("freqtrade/ohlcv_other/UNITTEST_BTC-1m.csv").path
        let result = try inspect([path])
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertEqual(result.out, """
            file: \(path)
            format: freqtrade-ohlcv
            rows: 13681
            start: 2017-11-04T23:02:00.000Z
            end: 2017-11-14T22:59:00.000Z
            interval: 60s
            gaps: 538 (717 missing bars)
            largest gaps:
              2017-11-05T03:12:00.000Z -> 2017-11-05T03:20:00.000Z: 7 missing
              2017-11-04T23:07:00.000Z -> 2017-11-04T23:14:00.000Z: 6 missing
              2017-11-05T01:39:00.000Z -> 2017-11-05T01:46:00.000Z: 6 missing
              2017-11-05T03:42:00.000Z -> 2017-11-05T03:49:00.000Z: 6 missing
              2017-11-04T23:32:00.000Z -> 2017-11-04T23:38:00.000Z: 5 missing
            bad records: 0

            """)
    }

    private func json(_ relativePath: String) throws -> [String: Any] {
        let result = try inspect([try SharedData.file(relativePath).path, "--json"])
        XCTAssertEqual(result.status, 0, result.err)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
    }

    func testNautilusBarsHaveNoGaps() throws {
        let report = try json("nautilus_trader/btc-perp-20211231-20220201_1m.csv")
        XCTAssertEqual(report["format"] as? String, "nautilus-bars")
        XCTAssertEqual(report["rows"] as? Int, 45031)
        XCTAssertEqual(report["start"] as? String, "2021-12-31T23:01:00.000Z")
        XCTAssertEqual(report["end"] as? String, "2022-02-01T05:31:00.000Z")
        let gaps = try XCTUnwrap(report["gaps"] as? [String: Any])
        XCTAssertEqual(gaps["count"] as? Int, 0)
        XCTAssertEqual(gaps["missing"] as? Int, 0)
    }

    func testXRPETHMissesBars() throws {
        let gaps = try XCTUnwrap(try json("freqtrade/ohlcv_other/XRP_ETH-1m.csv")["gaps"] as? [String: Any])
        XCTAssertEqual(gaps["missing"] as? Int, 1091)
        XCTAssertEqual(gaps["unit"] as? String, "bars")
    }

    func testTardisTradeIDsHaveNoGaps() throws {
        let report = try json("nautilus_trader/tardis/binance-futures_trades_BTCUSDT_2020-02-22.csv")
        XCTAssertEqual(report["rows"] as? Int, 9999)
        let gaps = try XCTUnwrap(report["gaps"] as? [String: Any])
        XCTAssertEqual(gaps["unit"] as? String, "trade ids")
        XCTAssertEqual(gaps["count"] as? Int, 0)
    }

    func testCapturesPrintLinesAndTheLocalTimeRange() throws {
        let report = try json("cryptofeed/KRAKEN.ws.50.0")
        XCTAssertEqual(report["format"] as? String, "cryptofeed-capture")
        XCTAssertEqual(report["lines"] as? Int, 4323)
        XCTAssertEqual(report["start"] as? String, "2021-04-17T16:48:52.825Z")
        XCTAssertEqual(report["end"] as? String, "2021-04-17T16:49:23.372Z")
        XCTAssertNil(report["gaps"])
    }

    func testAnUnreadableFileIsOneLineOnStderr() throws {
        let result = try inspect(["/nonexistent/bars.csv"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.out, "")
        XCTAssertEqual(result.err, "/nonexistent/bars.csv:0: cannot open the file\n")
    }
}
