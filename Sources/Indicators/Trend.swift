/// Wilder's directional movement: +DI, −DI and ADX, as TA-Lib computes
/// them. The smoothed +DM, −DM and TR start as sums over bars 1…period−1;
/// DI appears on bar `period`, ADX (the smoothed DX) on bar 2 × period − 1.
struct DirectionalMovement {
    let period: Int
    private var previousHigh = Double.nan, previousLow = 0.0, previousClose = 0.0
    private var bars = 0
    private var plusDM = 0.0, minusDM = 0.0, trueRange = 0.0
    private var dxSum = 0.0, adx = Double.nan
    private var dxCount = 0

    init(period: Int = 14) {
        self.period = period
    }

    mutating func update(high: Double, low: Double, close: Double) -> (adx: Double, plusDI: Double, minusDI: Double) {
        guard !previousHigh.isNaN else {
            previousHigh = high; previousLow = low; previousClose = close
            return (.nan, .nan, .nan)
        }
        bars += 1
        let up = high - previousHigh, down = previousLow - low
        var range = high - low
        let upFromClose = abs(high - previousClose)
        if upFromClose > range { range = upFromClose }
        let downFromClose = abs(low - previousClose)
        if downFromClose > range { range = downFromClose }
        previousHigh = high; previousLow = low; previousClose = close

        let n = Double(period)
        if bars < period {
            if down > 0 && up < down { minusDM += down } else if up > 0 && up > down { plusDM += up }
            trueRange += range
            return (.nan, .nan, .nan)
        }
        minusDM -= minusDM / n
        plusDM -= plusDM / n
        if down > 0 && up < down { minusDM += down } else if up > 0 && up > down { plusDM += up }
        trueRange = trueRange - (trueRange / n) + range

        var plusDI = 0.0, minusDI = 0.0, dx = Double.nan
        if !isNearZero(trueRange) {
            minusDI = 100.0 * (minusDM / trueRange)
            plusDI = 100.0 * (plusDM / trueRange)
            let sum = minusDI + plusDI
            if !isNearZero(sum) { dx = 100.0 * (abs(minusDI - plusDI) / sum) }
        }
        // A bar without a DX (no range) still counts towards the first ADX.
        if dxCount < period {
            if !dx.isNaN { dxSum += dx }
            dxCount += 1
            if dxCount == period { adx = dxSum / n }
        } else if !dx.isNaN {
            adx = ((adx * (n - 1)) + dx) / n
        }
        return (adx, plusDI, minusDI)
    }
}
