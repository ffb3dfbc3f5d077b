extension FeatureFrame {
    /// The indicator names of the host's standard frame layout, in the order
    /// the host lays them out: every candle-close frame of every (symbol,
    /// timeframe) carries exactly these, NaN while they warm up. TA-Lib's
    /// default parameters throughout; `vwap` is the session VWAP and
    /// `trade_flow_imbalance` the closed candle's (buy − sell) / (buy + sell)
    /// aggressor volume, in [−1, 1].
    ///
    /// For checking configured names when an instance is created (suggest
    /// the nearest one for a typo); read values through `IndicatorKey`.
    public static let standardIndicatorNames: [String] = [
        "sma_20", "ema_12", "ema_26", "ema_50", "rsi_14",
        "macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9",
        "trange", "atr_14", "natr_14",
        "bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2",
        "stoch_slowk_14_3_3", "stoch_slowd_14_3_3",
        "adx_14", "plus_di_14", "minus_di_14",
        "cci_20", "willr_14", "mfi_14", "obv", "vwap",
        "trade_flow_imbalance",
    ]
}
