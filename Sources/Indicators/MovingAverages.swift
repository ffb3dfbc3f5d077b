/// Simple moving average, as TA-Lib computes it: one running total that
/// takes the new value, gives the mean, then drops the oldest value.
struct SimpleMovingAverage {
    let period: Int
    private var window: Window
    private var total = 0.0

    init(period: Int, in arena: inout Arena) {
        self.period = period
        window = Window(capacity: period, in: &arena)
    }

    /// The mean of the last `period` values; NaN until there are that many.
    mutating func update(_ value: Double) -> Double {
        total += value
        window.push(value)
        guard window.isFull else { return .nan }
        let mean = total / Double(period)
        total -= window.oldest
        return mean
    }
}

/// Exponential moving average with k = 2 / (period + 1), seeded with the
/// simple mean of the first `period` values (TA-Lib's default).
struct ExponentialMovingAverage {
    let period: Int
    private let k: Double
    private var seen = 0
    private var value = 0.0

    init(period: Int) {
        self.period = period
        k = 2.0 / Double(period + 1)
    }

    mutating func update(_ input: Double) -> Double {
        if seen < period {
            value += input
            seen += 1
            guard seen == period else { return .nan }
            value /= Double(period)
            return value
        }
        value = ((input - value) * k) + value
        return value
    }
}
