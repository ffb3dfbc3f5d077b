/// Turns a venue's spelling of an instrument into the host's canonical
/// form, BASE-QUOTE in upper case ("BTCUSDT", "XBT/USD", "tBTCUSD" and
/// "btc-usdt" all become "BTC-USDT"); perpetuals keep a "-PERP" suffix.
/// Returns nil when the symbol cannot be split with confidence.
public enum SymbolNormalizer {
    /// Quote assets recognised at the end of concatenated symbols, longest
    /// first so that "USDT" wins over "USD".
    static let quoteAssets = ["FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP", "EUR", "USD", "GBP", "CHF", "JPY",
                              "AUD", "CAD", "TRY", "BRL", "DAI", "BTC", "XBT", "ETH", "BNB"]
    /// Venue codes for assets with another common name (Kraken's XBT, XDG).
    static let assetAliases = ["XBT": "BTC", "XDG": "DOGE"]

    public static func canonical(venue: String, symbol raw: String) -> String? {
        var symbol = raw.uppercased()
        var suffix = ""
        if venue.lowercased().hasPrefix("bitfinex"), symbol.hasPrefix("T"), raw.hasPrefix("t") {
            symbol.removeFirst()
        }
        // ccxt's "XRP/USDT:USDT" (a linear perpetual settled in USDT).
        if let colon = symbol.firstIndex(of: ":"), symbol.contains("/") {
            symbol = String(symbol[..<colon])
        }
        for perpetual in ["_PERP", "-PERPETUAL", "-SWAP"] where symbol.hasSuffix(perpetual) {
            symbol.removeLast(perpetual.count)
            suffix = "-PERP"
        }
        // "BTC-PERPETUAL" (Deribit): a perpetual with an implied quote.
        if !suffix.isEmpty, valid(Substring(symbol)), SymbolNormalizer.canonical(venue: "", symbol: symbol) == nil {
            return "\(alias(Substring(symbol)))-PERP"
        }
        let parts: [Substring]
        if let separator = symbol.first(where: { $0 == "/" || $0 == "-" || $0 == "_" }) {
            parts = symbol.split(separator: separator, omittingEmptySubsequences: false)
            // "BTC-PERP" (FTX) names a perpetual with an implied quote.
            if parts.count == 2, parts[1] == "PERP", valid(parts[0]) { return "\(alias(parts[0]))-PERP" }
        } else if let quote = quoteAssets.first(where: { symbol.hasSuffix($0) && symbol.count > $0.count + 1 }) {
            parts = [symbol.dropLast(quote.count), Substring(quote)]
        } else {
            return nil
        }
        guard parts.count == 2, valid(parts[0]), valid(parts[1]) else { return nil }
        return "\(alias(parts[0]))-\(alias(parts[1]))\(suffix)"
    }

    private static func valid(_ asset: Substring) -> Bool {
        (2...12).contains(asset.count) && asset.utf8.allSatisfy { (65...90).contains($0) || (48...57).contains($0) }
    }

    private static func alias(_ asset: Substring) -> String {
        assetAliases[String(asset)] ?? String(asset)
    }
}
