/// Relative strength index with Wilder's smoothing. The average gain and
/// loss start as the simple means of the first `period` changes, so the
/// first value comes with the (period + 1)-th close.
public struct RelativeStrengthIndex {
    public let period: Int
    private var previous = Double.nan
    private var changes = 0
    private var averageGain = 0.0
    private var averageLoss = 0.0

    public init(period: Int) {
        self.period = period
    }

    public mutating func update(_ close: Double) -> Double {
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
public struct MovingAverageConvergenceDivergence {
    public let fast: Int, slow: Int, signal: Int
    private var fastAverage: ExponentialMovingAverage
    private var slowAverage: ExponentialMovingAverage
    private var signalAverage: ExponentialMovingAverage
    private var index = 0

    public init(fast: Int = 12, slow: Int = 26, signal: Int = 9) {
        precondition(fast < slow, "the fast period is shorter than the slow one")
        self.fast = fast
        self.slow = slow
        self.signal = signal
        fastAverage = ExponentialMovingAverage(period: fast)
        slowAverage = ExponentialMovingAverage(period: slow)
        signalAverage = ExponentialMovingAverage(period: signal)
    }

    /// (macd, signal, histogram), all NaN until the signal line exists.
    public mutating func update(_ close: Double) -> (macd: Double, signal: Double, histogram: Double) {
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

/// Slow stochastic (TA-Lib STOCH with SMA smoothing of %K and %D).
public struct Stochastic {
    private var highs: Window
    private var lows: Window
    private var slowK: SimpleMovingAverage
    private var slowD: SimpleMovingAverage

    public init(fastK: Int = 14, slowK: Int = 3, slowD: Int = 3) {
        highs = Window(capacity: fastK)
        lows = Window(capacity: fastK)
        self.slowK = SimpleMovingAverage(period: slowK)
        self.slowD = SimpleMovingAverage(period: slowD)
    }

    public mutating func update(high: Double, low: Double, close: Double) -> (k: Double, d: Double) {
        highs.push(high)
        lows.push(low)
        guard highs.isFull else { return (.nan, .nan) }
        let highest = highs.extremes.highest, lowest = lows.extremes.lowest
        let range = (highest - lowest) / 100.0
        let fastK = range != 0 ? (close - lowest) / range : 0
        let k = slowK.update(fastK)
        guard !k.isNaN else { return (.nan, .nan) }
        let d = slowD.update(k)
        return d.isNaN ? (.nan, .nan) : (k, d)
    }
}

/// Williams %R over `period` bars, in [-100, 0].
public struct WilliamsPercentR {
    private var highs: Window
    private var lows: Window

    public init(period: Int = 14) {
        highs = Window(capacity: period)
        lows = Window(capacity: period)
    }

    public mutating func update(high: Double, low: Double, close: Double) -> Double {
        highs.push(high)
        lows.push(low)
        guard highs.isFull else { return .nan }
        let highest = highs.extremes.highest, lowest = lows.extremes.lowest
        let range = (highest - lowest) / -100.0
        return range != 0 ? (highest - close) / range : 0
    }
}

/// Commodity channel index: (typical - mean) / (0.015 × mean deviation).
/// The mean deviation has no running form, so each update reads the
/// window once: O(period), with period fixed.
public struct CommodityChannelIndex {
    public let period: Int
    private var typicals: Window

    public init(period: Int = 20) {
        self.period = period
        typicals = Window(capacity: period)
    }

    public mutating func update(high: Double, low: Double, close: Double) -> Double {
        let typical = (high + low + close) / 3
        typicals.push(typical)
        guard typicals.isFull else { return .nan }
        // Summed in storage order, as TA-Lib's circular buffer does, so a
        // close equal to the mean gives exactly 0 here as there.
        var mean = 0.0
        for value in typicals.storage { mean += value }
        mean /= Double(period)
        var deviation = 0.0
        for value in typicals.storage { deviation += abs(value - mean) }
        let distance = typical - mean
        guard distance != 0, deviation != 0 else { return 0 }
        return distance / (0.015 * (deviation / Double(period)))
    }
}

/// Money flow index over `period` bars. As in TA-Lib, a window whose total
/// money flow is below 1 gives 0.
public struct MoneyFlowIndex {
    public let period: Int
    private var positive: Window
    private var negative: Window
    private var positiveSum = 0.0
    private var negativeSum = 0.0
    private var previousTypical = Double.nan

    public init(period: Int = 14) {
        self.period = period
        positive = Window(capacity: period)
        negative = Window(capacity: period)
    }

    public mutating func update(high: Double, low: Double, close: Double, volume: Double) -> Double {
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
