/// On-balance volume: adds the bar's volume when the close rises, subtracts
/// it when it falls; starts at the first bar's volume.
struct OnBalanceVolume {
    private var previousClose = Double.nan
    private var total = 0.0

    init() {}

    mutating func update(close: Double, volume: Double) -> Double {
        if previousClose.isNaN {
            total = volume
        } else if close > previousClose {
            total += volume
        } else if close < previousClose {
            total -= volume
        }
        previousClose = close
        return total
    }
}

/// Volume-weighted average of the typical price, anchored at each UTC day
/// (the session VWAP venues and charting tools show).
struct SessionVWAP {
    private var day = Int64.min
    private var weighted = 0.0
    private var volume = 0.0

    init() {}

    mutating func update(openTimeNs: Int64, high: Double, low: Double, close: Double, volume barVolume: Double) -> Double {
        let barDay = openTimeNs >= 0 ? openTimeNs / 86_400_000_000_000 : (openTimeNs + 1) / 86_400_000_000_000 - 1
        if barDay != day {
            day = barDay
            weighted = 0
            volume = 0
        }
        weighted += (high + low + close) / 3 * barVolume
        volume += barVolume
        return volume > 0 ? weighted / volume : .nan
    }
}
