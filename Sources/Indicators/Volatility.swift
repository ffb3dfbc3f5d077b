/// True range: the largest of high − low, |high − previous close| and
/// |low − previous close|. Undefined on the first bar.
struct TrueRange {
    private var previousClose = Double.nan

    init() {}

    mutating func update(high: Double, low: Double, close: Double) -> Double {
        defer { previousClose = close }
        guard !previousClose.isNaN else { return .nan }
        var range = high - low
        let up = abs(high - previousClose)
        if up > range { range = up }
        let down = abs(low - previousClose)
        if down > range { range = down }
        return range
    }
}

/// Average true range with Wilder's smoothing, seeded with the simple mean
/// of the first `period` true ranges (bars 1…period); the normalised ATR
/// is ATR / close × 100.
struct AverageTrueRange {
    let period: Int
    private var trueRange = TrueRange()
    private var seen = 0
    private var average = 0.0

    init(period: Int = 14) {
        self.period = period
    }

    mutating func update(high: Double, low: Double, close: Double) -> (trueRange: Double, atr: Double, natr: Double) {
        let range = trueRange.update(high: high, low: low, close: close)
        guard !range.isNaN else { return (.nan, .nan, .nan) }
        let n = Double(period)
        if seen < period {
            average += range
            seen += 1
            guard seen == period else { return (range, .nan, .nan) }
            average /= n
        } else {
            average *= n - 1
            average += range
            average /= n
        }
        return (range, average, isNearZero(close) ? 0 : (average / close) * 100.0)
    }
}

/// Bollinger bands: SMA middle band ± `deviations` population standard
/// deviations, the variance taken from running sums as TA-Lib does.
struct BollingerBands {
    let period: Int
    let deviations: Double
    private var middle: SimpleMovingAverage
    private var squares: Window
    private var squareTotal = 0.0

    init(period: Int = 20, deviations: Double = 2, in arena: inout Arena) {
        self.period = period
        self.deviations = deviations
        middle = SimpleMovingAverage(period: period, in: &arena)
        squares = Window(capacity: period, in: &arena)
    }

    mutating func update(_ close: Double) -> (upper: Double, middle: Double, lower: Double) {
        let mean = middle.update(close)
        let square = close * close
        squareTotal += square
        squares.push(square)
        guard squares.isFull else { return (.nan, .nan, .nan) }
        var variance = squareTotal / Double(period)
        squareTotal -= squares.oldest
        variance -= mean * mean
        let width = (variance < 1e-14 ? 0 : variance.squareRoot()) * deviations
        return (mean + width, mean, mean - width)
    }
}
