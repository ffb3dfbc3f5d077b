import AlphaPlusJSON
import Trading
import XCTest
@testable import Distribution

final class TemplateTests: XCTestCase {
    private let signal = makeSignal(1)

    private func render(_ tier: String, _ kind: MessageKind = .signal, _ fields: MessageFields? = nil) -> RenderedMessage {
        DistributionSettings().template(tier: tier, kind: kind).message(fields ?? MessageFields(signal: signal), tier: tier)
    }

    func testEachTierShowsItsFieldsAndFreeShowsLeast() throws {
        let premium = render("premium").text
        XCTAssertEqual(premium, """
            LONG BTC-USDT 1m
            Entry 65012.34
            Stop 64890.5
            Targets 65100.25 / 65200 / 65310.75
            Confidence 81%
            Heads 2 of 3: technical 60%, orderflow 91%
            """)
        let basic = render("basic").text
        XCTAssertEqual(basic, "LONG BTC-USDT\nEntry 65012.34\nConfidence 81%")
        let free = render("free").text
        XCTAssertEqual(free, "LONG BTC-USDT, 2026-11-21T08:00:00.000Z")
        for hidden in ["64890.5", "65100.25", "technical", "Stop", "Targets"] {
            XCTAssertFalse(basic.contains(hidden), "basic shows \(hidden)")
        }
        for hidden in ["65012.34", "81%", "1m", "Entry", "Confidence"] {
            XCTAssertFalse(free.contains(hidden), "free shows \(hidden)")
        }
        XCTAssertEqual(render("gold").text, free, "a tier without built-in templates shows what free shows")
    }

    func testThePayloadCarriesOnlyWhatTheTierShows() throws {
        func payload(_ tier: String) throws -> [String: JSONValue] {
            guard case .object(let object) = try JSONValue(parsing: render(tier).payloadJSON) else { throw XCTSkip("not an object") }
            return object
        }
        func fieldNames(_ object: [String: JSONValue]) -> [String] {
            guard case .array(let fields)? = object["fields"] else { return [] }
            return fields.compactMap { if case .string(let name)? = $0["name"] { name } else { nil } }
        }
        let premium = try payload("premium")
        XCTAssertEqual(premium["title"], .string("LONG BTC-USDT 1m"))
        XCTAssertEqual(premium["color"], .string("green"))
        XCTAssertEqual(fieldNames(premium), ["Entry", "Stop", "Targets", "Confidence", "Heads"])
        XCTAssertEqual(premium["timestamp"], .string("2026-11-21T08:00:00.000Z"))
        XCTAssertEqual(premium["signal_id"], .string(signal.id))
        XCTAssertEqual(premium["footer"], .string("t · premium"))
        guard case .array(let fields)? = premium["fields"] else { return XCTFail("no fields") }
        XCTAssertEqual(fields[0], .object(["name": .string("Entry"), "value": .string("65012.34"), "inline": .bool(true)]))
        XCTAssertEqual(fields[4]["inline"], .bool(false))
        XCTAssertEqual(fieldNames(try payload("basic")), ["Entry", "Confidence"])
        let free = try payload("free")
        XCTAssertEqual(free["title"], .string("LONG BTC-USDT"))
        XCTAssertEqual(fieldNames(free), ["Time"])
        XCTAssertFalse(render("free").payloadJSON.contains("65012"))
        let short = DistributionSettings().template(tier: "premium", kind: .signal)
            .message(MessageFields(signal: makeSignal(1, side: .short)), tier: "premium")
        XCTAssertTrue(short.payloadJSON.contains(#""color":"red""#))
        XCTAssertTrue(short.text.hasPrefix("SHORT BTC-USDT 1m"))
    }

    func testOutcomeSummaryAndAlertTemplates() {
        let stop = TradeLeg(signalID: signal.id, symbol: "BTC-USDT", side: .long, entryNs: t0, entryPrice: 65000, exitNs: t0 + 600 * second,
                            exitPrice: 64870, quantity: 0.25, fees: 0.5, pnl: -33, reason: .stopLoss, target: 0)
        let fields = MessageFields(leg: stop, tenant: "t")
        XCTAssertEqual(render("premium", .outcome, fields).text, "Stop hit: LONG BTC-USDT\nEntry 65000, exit 64870 (-0.20%)\nP&L -33.00")
        XCTAssertEqual(render("basic", .outcome, fields).text, "Stop hit: LONG BTC-USDT\nExit 64870 (-0.20%)")
        XCTAssertEqual(render("free", .outcome, fields).text, "Stop hit: LONG BTC-USDT (-0.20%), 2026-11-21T08:10:00.000Z")
        XCTAssertTrue(render("premium", .outcome, fields).payloadJSON.contains(#""title":"Stop hit: LONG BTC-USDT""#))
        XCTAssertTrue(render("premium", .outcome, fields).payloadJSON.contains(#""color":"red""#))
        var target = stop
        target.reason = .takeProfit
        target.target = 2
        target.exitPrice = 65325
        target.pnl = 81
        XCTAssertEqual(render("free", .outcome, MessageFields(leg: target, tenant: "t")).text, "Target 2 hit: LONG BTC-USDT (+0.50%), 2026-11-21T08:10:00.000Z")

        let day = MessageFields(summary: DailyActivity(signals: 7, closedTrades: 4, wins: 3, pnl: 125.5), tenant: "t", date: "2026-11-20", atNs: t0)
        XCTAssertEqual(render("premium", .summary, day).text,
                       "Daily summary 2026-11-20\nSignals 7\nClosed trades 4 (3 won, 1 lost)\nWin rate 75%\nP&L +125.50")
        XCTAssertEqual(render("free", .summary, day).text, "Daily summary 2026-11-20\nSignals 7\nWin rate 75%")
        let quiet = MessageFields(summary: DailyActivity(signals: 0, closedTrades: 0, wins: 0, pnl: 0), tenant: "t", date: "2026-11-20", atNs: t0)
        XCTAssertEqual(render("basic", .summary, quiet).text, "Daily summary 2026-11-20\nSignals 0\nClosed trades 0\nWin rate n/a")
        let alert = MessageFields(alert: "destination x is disabled", tenant: "t", destination: "x", channel: "c", atNs: t0)
        XCTAssertEqual(render("free", .alert, alert).text, "Alert (t): destination x is disabled")
    }

    func testPlaceholdersAreCheckedAndRendered() throws {
        let template = try MessageTemplate("{{ side }} {{symbol}} @ {{entry}} ({{side}})", kind: .signal)
        XCTAssertEqual(template.fields, ["side", "symbol", "entry"])
        XCTAssertEqual(template.render(MessageFields(signal: signal)), "LONG BTC-USDT @ 65012.34 (LONG)")
        XCTAssertThrowsError(try MessageTemplate("{{side}} {{entyr}}", kind: .signal)) { error in
            XCTAssertEqual("\(error)", "unknown placeholder {{entyr}} (did you mean 'entry'?); the fields of a signal are "
                           + MessageFields.names(of: .signal).joined(separator: ", "))
        }
        XCTAssertThrowsError(try MessageTemplate("{{stop}}", kind: .summary)) { error in
            XCTAssertTrue("\(error)".hasPrefix("unknown placeholder {{stop}}; the fields of a summary are"), "\(error)")
        }
        XCTAssertThrowsError(try MessageTemplate("{{side", kind: .signal)) { error in
            XCTAssertTrue("\(error)".contains("not closed"), "\(error)")
        }
        // Every built-in template parses for its kind.
        for tier in ["premium", "basic", "free"] {
            for kind in MessageKind.allCases { _ = try MessageTemplate(MessageTemplate.defaults[tier]![kind]!, kind: kind) }
        }
    }

    func testPricesKeepTheirDigitsWithoutExponents() {
        XCTAssertEqual(MessageFields.price(65012.34), "65012.34")
        XCTAssertEqual(MessageFields.price(3202.5), "3202.5")
        XCTAssertEqual(MessageFields.price(0.000012345), "0.000012345")
        XCTAssertEqual(MessageFields.price(1_234_567_890), "1234567890")
        XCTAssertEqual(MessageFields.price(-2.5), "-2.5")
        XCTAssertEqual(MessageFields.timeframe(3600), "1h")
        XCTAssertEqual(MessageFields.timeframe(14_400), "4h")
    }
}
