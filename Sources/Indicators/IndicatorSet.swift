/// One OHLCV bar as the indicators read it.
public struct Bar: Sendable, Equatable {
    public var openTimeNs: Int64
    public var open: Double
    public var high: Double
    public var low: Double
    public var close: Double
    public var volume: Double

    public init(openTimeNs: Int64, open: Double, high: Double, low: Double, close: Double, volume: Double) {
        self.openTimeNs = openTimeNs
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }
}

/// The standard indicator set of every (symbol, timeframe): one update per
/// closed bar, O(1) in the length of the series (CCI's mean deviation reads
/// its 20-bar window), and no allocation after init: every window lives in
/// one arena the set owns, which is why the set cannot be copied. Values
/// equal TA-Lib's on the same rows (see Tests/IndicatorsTests).
public struct IndicatorSet: ~Copyable {
    /// Column names, in output order: the frame's indicator names and the
    /// columns of `alphaplus indicators`. TA-Lib's defaults throughout.
    public static let columns = [
        "sma_20", "ema_12", "ema_26", "ema_50", "rsi_14",
        "macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9",
        "trange", "atr_14", "natr_14",
        "bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2",
        "stoch_slowk_14_3_3", "stoch_slowd_14_3_3",
        "adx_14", "plus_di_14", "minus_di_14",
        "cci_20", "willr_14", "mfi_14", "obv", "vwap",
    ]

    /// The columns TA-Lib has an equal of (all but the session VWAP).
    public static let taLibColumnCount = 23

    private let arena: Arena
    private var sma20: SimpleMovingAverage
    private var ema12 = ExponentialMovingAverage(period: 12)
    private var ema26 = ExponentialMovingAverage(period: 26)
    private var ema50 = ExponentialMovingAverage(period: 50)
    private var rsi14 = RelativeStrengthIndex(period: 14)
    private var macd = MovingAverageConvergenceDivergence(fast: 12, slow: 26, signal: 9)
    private var atr14 = AverageTrueRange(period: 14)
    private var bollinger: BollingerBands
    private var range14: HighLowRange
    private var stochastic: Stochastic
    private var directional = DirectionalMovement(period: 14)
    private var cci20: CommodityChannelIndex
    private var mfi14: MoneyFlowIndex
    private var obv = OnBalanceVolume()
    private var vwap = SessionVWAP()

    public init() {
        // sma 20, bollinger 20 + 20, high/low 14 + 14, stochastic 3 + 3, cci 20, mfi 14 + 14
        var arena = Arena(size: 20 + 40 + 28 + 6 + 20 + 28)
        sma20 = SimpleMovingAverage(period: 20, in: &arena)
        bollinger = BollingerBands(period: 20, deviations: 2, in: &arena)
        range14 = HighLowRange(period: 14, in: &arena)
        stochastic = Stochastic(slowK: 3, slowD: 3, in: &arena)
        cci20 = CommodityChannelIndex(period: 20, in: &arena)
        mfi14 = MoneyFlowIndex(period: 14, in: &arena)
        self.arena = arena
    }

    deinit {
        arena.base.deallocate()
    }

    /// Takes the next closed bar and writes one value per column (NaN while
    /// an indicator warms up) to `out[0..<columns.count]`.
    public mutating func update(_ bar: Bar, into out: UnsafeMutablePointer<Double>) {
        let (high, low, close, volume) = (bar.high, bar.low, bar.close, bar.volume)
        out[0] = sma20.update(close)
        out[1] = ema12.update(close)
        out[2] = ema26.update(close)
        out[3] = ema50.update(close)
        out[4] = rsi14.update(close)
        let m = macd.update(close)
        out[5] = m.macd; out[6] = m.signal; out[7] = m.histogram
        let a = atr14.update(high: high, low: low, close: close)
        out[8] = a.trueRange; out[9] = a.atr; out[10] = a.natr
        let b = bollinger.update(close)
        out[11] = b.upper; out[12] = b.middle; out[13] = b.lower
        if let extremes = range14.update(high: high, low: low) {
            let s = stochastic.update(close: close, highest: extremes.highest, lowest: extremes.lowest)
            out[14] = s.k; out[15] = s.d
            out[20] = williamsPercentR(close: close, highest: extremes.highest, lowest: extremes.lowest)
        } else {
            out[14] = .nan; out[15] = .nan; out[20] = .nan
        }
        let d = directional.update(high: high, low: low, close: close)
        out[16] = d.adx; out[17] = d.plusDI; out[18] = d.minusDI
        out[19] = cci20.update(high: high, low: low, close: close)
        out[21] = mfi14.update(high: high, low: low, close: close, volume: volume)
        out[22] = obv.update(close: close, volume: volume)
        out[23] = vwap.update(openTimeNs: bar.openTimeNs, high: high, low: low, close: close, volume: volume)
    }
}
