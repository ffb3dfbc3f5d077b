/// Relative strength index with Wilder's smoothing. The average gain and
/// loss start as the simple means of the first `period` changes, so the
/// first value comes with the (period + 1)-th close.
struct RelativeStrengthIndex {
    let period: Int
    private var previous = Double.nan
    private var changes = 0
    private var averageGain = 0.0
    private var averageLoss = 0.0

    init(period: Int) {
        self.period = period
    }

    mutating func update(_ close: Double) -> Double {
        defer { previous = close }
        guard !previous.isNaN else { return .nan }
        let change = close - previous
        let n = Double(period)
        if changes < period {
            if change < 0 { averageLoss -= change } else { averageGain += change }
            changes += 1
            guard changes == period else { return .nan }
        } else {
            averageLoss *= n - 1
            averageGain *= n - 1
            if change < 0 { averageLoss -= change } else { averageGain += change }
        }
        averageLoss /= n
        averageGain /= n
        let sum = averageGain + averageLoss
        return isNearZero(sum) ? 0 : 100.0 * (averageGain / sum)
    }
}

/// MACD as TA-Lib computes it: both EMAs start on the same bar (the fast
/// one is seeded on the `fast` closes before the slow one's first value),
/// and the signal line is an EMA of MACD seeded with its simple mean.
struct MovingAverageConvergenceDivergence {
    let fast: Int, slow: Int, signal: Int
    private var fastAverage: ExponentialMovingAverage
    private var slowAverage: ExponentialMovingAverage
    private var signalAverage: ExponentialMovingAverage
    private var index = 0

    init(fast: Int = 12, slow: Int = 26, signal: Int = 9) {
        precondition(fast < slow, "the fast period is shorter than the slow one")
        self.fast = fast
        self.slow = slow
        self.signal = signal
        fastAverage = ExponentialMovingAverage(period: fast)
        slowAverage = ExponentialMovingAverage(period: slow)
        signalAverage = ExponentialMovingAverage(period: signal)
    }

    /// (macd, signal, histogram), all NaN until the signal line exists.
    mutating func update(_ close: Double) -> (macd: Double, signal: Double, histogram: Double) {
        defer { index += 1 }
        let slowValue = slowAverage.update(close)
        let fastValue = index >= slow - fast ? fastAverage.update(close) : .nan
        guard index >= slow - 1 else { return (.nan, .nan, .nan) }
        let macd = fastValue - slowValue
        let signalValue = signalAverage.update(macd)
        guard !signalValue.isNaN else { return (.nan, .nan, .nan) }
        return (macd, signalValue, macd - signalValue)
    }
}

/// The highest high and lowest low of the last `period` bars, shared by
/// the stochastic and Williams %R.
struct HighLowRange {
    private var highs: Window
    private var lows: Window

    init(period: Int, in arena: inout Arena) {
        highs = Window(capacity: period, in: &arena)
        lows = Window(capacity: period, in: &arena)
    }

    /// Nil until `period` bars were seen.
    mutating func update(high: Double, low: Double) -> (highest: Double, lowest: Double)? {
        highs.push(high)
        lows.push(low)
        guard highs.isFull else { return nil }
        return (highs.extremes.highest, lows.extremes.lowest)
    }
}

/// Slow stochastic (TA-Lib STOCH with SMA smoothing of %K and %D).
struct Stochastic {
    private var slowK: SimpleMovingAverage
    private var slowD: SimpleMovingAverage

    init(slowK: Int = 3, slowD: Int = 3, in arena: inout Arena) {
        self.slowK = SimpleMovingAverage(period: slowK, in: &arena)
        self.slowD = SimpleMovingAverage(period: slowD, in: &arena)
    }

    /// Takes the bar's close and the fast-%K window's extremes.
    mutating func update(close: Double, highest: Double, lowest: Double) -> (k: Double, d: Double) {
        let range = (highest - lowest) / 100.0
        let fastK = range != 0 ? (close - lowest) / range : 0
        let k = slowK.update(fastK)
        guard !k.isNaN else { return (.nan, .nan) }
        let d = slowD.update(k)
        return d.isNaN ? (.nan, .nan) : (k, d)
    }
}

/// Williams %R, in [-100, 0], from the window's extremes.
@inline(__always)
func williamsPercentR(close: Double, highest: Double, lowest: Double) -> Double {
    let range = (highest - lowest) / -100.0
    return range != 0 ? (highest - close) / range : 0
}

/// Commodity channel index: (typical - mean) / (0.015 × mean deviation).
/// The mean deviation has no running form, so each update reads the
/// window once: O(period), with period fixed.
struct CommodityChannelIndex {
    let period: Int
    private var typicals: Window

    init(period: Int = 20, in arena: inout Arena) {
        self.period = period
        typicals = Window(capacity: period, in: &arena)
    }

    mutating func update(high: Double, low: Double, close: Double) -> Double {
        let typical = (high + low + close) / 3
        typicals.push(typical)
        guard typicals.isFull else { return .nan }
        // Summed in storage order, as TA-Lib's circular buffer does, so a
        // close equal to the mean gives exactly 0 here as there.
        var mean = 0.0
        for value in typicals.values { mean += value }
        mean /= Double(period)
        var deviation = 0.0
        for value in typicals.values { deviation += abs(value - mean) }
        let distance = typical - mean
        guard distance != 0, deviation != 0 else { return 0 }
        return distance / (0.015 * (deviation / Double(period)))
    }
}

/// Money flow index over `period` bars. As in TA-Lib, a window whose total
/// money flow is below 1 gives 0.
struct MoneyFlowIndex {
    let period: Int
    private var positive: Window
    private var negative: Window
    private var positiveSum = 0.0
    private var negativeSum = 0.0
    private var previousTypical = Double.nan

    init(period: Int = 14, in arena: inout Arena) {
        self.period = period
        positive = Window(capacity: period, in: &arena)
        negative = Window(capacity: period, in: &arena)
    }

    mutating func update(high: Double, low: Double, close: Double, volume: Double) -> Double {
        let typical = (high + low + close) / 3.0
        defer { previousTypical = typical }
        guard !previousTypical.isNaN else { return .nan }
        if positive.isFull {
            positiveSum -= positive.oldest
            negativeSum -= negative.oldest
        }
        let change = typical - previousTypical
        let flow = typical * volume
        // Typical prices a rounding apart count as unchanged (TA-Lib's
        // scaled dead zone), so float noise never makes a money flow.
        if abs(change) <= 1e-14 * (abs(typical) + abs(previousTypical)) {
            positive.push(0); negative.push(0)
        } else if change < 0 {
            negative.push(flow); positive.push(0)
            negativeSum += flow
        } else if change > 0 {
            positive.push(flow); negative.push(0)
            positiveSum += flow
        }
        guard positive.isFull else { return .nan }
        let total = positiveSum + negativeSum
        return total < 1.0 ? 0 : 100.0 * (positiveSum / total)
    }
}
