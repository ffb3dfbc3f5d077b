import MarketData
import XCTest

final class SymbolTests: XCTestCase {
    func testVenueSpellingsBecomeBaseDashQuote() {
        let cases: [(venue: String, raw: String, canonical: String?)] = [
            ("binance", "BTCUSDT", "BTC-USDT"), ("binance", "btcusdt", "BTC-USDT"), ("binance", "ADABTC", "ADA-BTC"),
            ("binance", "ETHUSDC", "ETH-USDC"), ("binance-coinm", "BTCUSD_PERP", "BTC-USD-PERP"),
            ("kraken", "XBT/CHF", "BTC-CHF"), ("kraken", "WAVES/EUR", "WAVES-EUR"), ("kraken", "XDG/USD", "DOGE-USD"),
            ("bitfinex", "tBTCUSD", "BTC-USD"), ("ccxt", "XRP/USDT:USDT", "XRP-USDT"), ("sim", "BTC-USDT", "BTC-USDT"),
            ("ftx", "BTC-PERP", "BTC-PERP"), ("freqtrade", "ETH_BTC", "ETH-BTC"), ("deribit", "BTC-PERPETUAL", "BTC-PERP"),
            ("binance", "USDT", nil), ("binance", "BTC?USDT", nil), ("binance", "", nil), ("sim", "A-B-C", nil),
        ]
        for (venue, raw, canonical) in cases {
            XCTAssertEqual(SymbolNormalizer.canonical(venue: venue, symbol: raw), canonical, "\(venue) \(raw)")
        }
    }
}
