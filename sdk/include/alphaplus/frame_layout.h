/*
 * AlphaPlus plugin contract: the standard feature-frame layout.
 *
 * Every candle-close frame the host lends to a head (ap_feature_frame in
 * plugin.h) carries these indicators, in this order, with layout_id
 * AP_STANDARD_LAYOUT_ID. A head may read values by these indices while a
 * frame's layout_id equals AP_STANDARD_LAYOUT_ID; for any other layout_id
 * it must resolve names through indicator_names (a later host may add
 * columns, which gives a new layout_id). A value is NaN while its
 * indicator warms up (e.g. the first 49 candles for ema_50). Indicators
 * are TA-Lib's with TA-Lib's defaults, computed on the frame's timeframe.
 *
 * The host defines the layout in one place (FrameProducer.indicatorNames,
 * Sources/MarketData/Frames.swift); a host test checks that this file
 * lists the same names, indices and layout id.
 */
#ifndef ALPHAPLUS_FRAME_LAYOUT_H
#define ALPHAPLUS_FRAME_LAYOUT_H

/* FNV-1a (64-bit) of the names below joined with ",". */
#define AP_STANDARD_LAYOUT_ID 0x5672f3e2163a3e68ULL
#define AP_STANDARD_INDICATOR_COUNT 25

/* index                          name                   meaning */
#define AP_IND_SMA_20 0             /* "sma_20"              simple moving average of the close, 20 candles */
#define AP_IND_EMA_12 1             /* "ema_12"              exponential moving average of the close, 12 */
#define AP_IND_EMA_26 2             /* "ema_26"              exponential moving average of the close, 26 */
#define AP_IND_EMA_50 3             /* "ema_50"              exponential moving average of the close, 50 */
#define AP_IND_RSI_14 4             /* "rsi_14"              relative strength index, 14, in [0, 100] */
#define AP_IND_MACD 5               /* "macd_12_26_9"        MACD line: ema 12 - ema 26 */
#define AP_IND_MACD_SIGNAL 6        /* "macd_signal_12_26_9" MACD signal: ema 9 of the MACD line */
#define AP_IND_MACD_HIST 7          /* "macd_hist_12_26_9"   MACD histogram: line - signal */
#define AP_IND_TRANGE 8             /* "trange"              true range of the candle */
#define AP_IND_ATR_14 9             /* "atr_14"              average true range, 14 (price units) */
#define AP_IND_NATR_14 10           /* "natr_14"             normalised ATR: 100 * atr_14 / close */
#define AP_IND_BB_UPPER 11          /* "bb_upper_20_2"       Bollinger upper band: sma 20 + 2 sd */
#define AP_IND_BB_MIDDLE 12         /* "bb_middle_20_2"      Bollinger middle band: sma 20 */
#define AP_IND_BB_LOWER 13          /* "bb_lower_20_2"       Bollinger lower band: sma 20 - 2 sd */
#define AP_IND_STOCH_SLOWK 14       /* "stoch_slowk_14_3_3"  stochastic slow %K (14, 3, 3), in [0, 100] */
#define AP_IND_STOCH_SLOWD 15       /* "stoch_slowd_14_3_3"  stochastic slow %D, in [0, 100] */
#define AP_IND_ADX_14 16            /* "adx_14"              average directional index, 14, in [0, 100] */
#define AP_IND_PLUS_DI_14 17        /* "plus_di_14"          +DI, 14, in [0, 100] */
#define AP_IND_MINUS_DI_14 18       /* "minus_di_14"         -DI, 14, in [0, 100] */
#define AP_IND_CCI_20 19            /* "cci_20"              commodity channel index, 20 */
#define AP_IND_WILLR_14 20          /* "willr_14"            Williams %R, 14, in [-100, 0] */
#define AP_IND_MFI_14 21            /* "mfi_14"              money flow index, 14, in [0, 100] */
#define AP_IND_OBV 22               /* "obv"                 on-balance volume, running total */
#define AP_IND_VWAP 23              /* "vwap"                session VWAP of the typical price, reset each UTC day */
#define AP_IND_TRADE_FLOW_IMBALANCE 24 /* "trade_flow_imbalance" (buy - sell) / (buy + sell) volume of the candle, in [-1, 1]; NaN without trades */

/* The names in index order, to initialise an array:
 * static const char *const names[] = AP_STANDARD_INDICATOR_NAMES; */
#define AP_STANDARD_INDICATOR_NAMES { \
    "sma_20", "ema_12", "ema_26", "ema_50", "rsi_14", \
    "macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9", \
    "trange", "atr_14", "natr_14", \
    "bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2", \
    "stoch_slowk_14_3_3", "stoch_slowd_14_3_3", \
    "adx_14", "plus_di_14", "minus_di_14", \
    "cci_20", "willr_14", "mfi_14", "obv", "vwap", \
    "trade_flow_imbalance" }

#endif /* ALPHAPLUS_FRAME_LAYOUT_H */
