import AlphaPlusSDK
import Foundation

/// A synthetic market: trades, quotes and an order book for each configured
/// symbol, from a log-price with GARCH(1,1) volatility clustering and
/// Poisson jumps. Deterministic for a seed: the market evolves the same way
/// whatever is subscribed; subscriptions only choose what is emitted.
///
/// Each market update moves one symbol's price and produces one event,
/// chosen at random: a trade (30%), a quote (30%) or a book delta (40%).
/// Updates arrive as a Poisson process of `events_per_second`.
public final class SimulatedExchange: ExchangePlugin {
    public struct Configuration: Decodable {
        public struct Symbol: Decodable {
            var symbol: String
            var startPrice: String
            var tickSize: String
            var lotSize: String
            enum CodingKeys: String, CodingKey {
                case symbol, startPrice = "start_price", tickSize = "tick_size", lotSize = "lot_size"
            }
        }
        public enum Mode: String, Decodable { case realtime, fast }

        var seed: UInt64
        var symbols: [Symbol]
        var venue = "sim"
        var mode = Mode.realtime
        var eventsPerSecond = 20.0
        var batchSize = 1000
        var startTimeNs: Int64?
        var durationSeconds: Double?
        /// Realtime mode: first simulate this much history, as fast as the
        /// host takes it, so candles and indicators are warm when live
        /// trading starts (a real connector backfills the same way).
        var historySeconds = 0.0
        var bookDepth = 10
        var annualVolatility = 0.8
        var garchAlpha = 0.05
        var garchBeta = 0.9
        var jumpsPerHour = 1.0
        var jumpStdev = 0.01

        enum CodingKeys: String, CodingKey {
            case seed, symbols, venue, mode, eventsPerSecond = "events_per_second", batchSize = "batch_size"
            case startTimeNs = "start_time_ns", durationSeconds = "duration_seconds", bookDepth = "book_depth"
            case annualVolatility = "annual_volatility", garchAlpha = "garch_alpha", garchBeta = "garch_beta"
            case jumpsPerHour = "jumps_per_hour", jumpStdev = "jump_stdev", historySeconds = "history_seconds"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            seed = try c.decode(UInt64.self, forKey: .seed)
            symbols = try c.decode([Symbol].self, forKey: .symbols)
            venue = try c.decodeIfPresent(String.self, forKey: .venue) ?? venue
            mode = try c.decodeIfPresent(Mode.self, forKey: .mode) ?? mode
            eventsPerSecond = try c.decodeIfPresent(Double.self, forKey: .eventsPerSecond) ?? eventsPerSecond
            batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
            startTimeNs = try c.decodeIfPresent(Int64.self, forKey: .startTimeNs)
            durationSeconds = try c.decodeIfPresent(Double.self, forKey: .durationSeconds)
            historySeconds = try c.decodeIfPresent(Double.self, forKey: .historySeconds) ?? historySeconds
            bookDepth = try c.decodeIfPresent(Int.self, forKey: .bookDepth) ?? bookDepth
            annualVolatility = try c.decodeIfPresent(Double.self, forKey: .annualVolatility) ?? annualVolatility
            garchAlpha = try c.decodeIfPresent(Double.self, forKey: .garchAlpha) ?? garchAlpha
            garchBeta = try c.decodeIfPresent(Double.self, forKey: .garchBeta) ?? garchBeta
            jumpsPerHour = try c.decodeIfPresent(Double.self, forKey: .jumpsPerHour) ?? jumpsPerHour
            jumpStdev = try c.decodeIfPresent(Double.self, forKey: .jumpStdev) ?? jumpStdev
        }
    }

    public static let descriptor = PluginDescriptor(
        id: "com.alphaplus.exchange-sim",
        name: "Simulated exchange",
        version: "1.0.0",
        vendor: "AlphaPlus",
        description: "A synthetic market (GARCH volatility clustering, Poisson jumps) with trades, quotes and books.",
        configSchema: """
        {
          "type": "object",
          "additionalProperties": false,
          "required": ["seed", "symbols"],
          "properties": {
            "seed": {"type": "integer", "minimum": 0},
            "symbols": {
              "type": "array", "minItems": 1,
              "items": {
                "type": "object",
                "additionalProperties": false,
                "required": ["symbol", "start_price", "tick_size", "lot_size"],
                "properties": {
                  "symbol": {"type": "string", "pattern": "^[A-Z0-9]+-[A-Z0-9]+$"},
                  "start_price": {"type": "string", "pattern": "^[0-9]+(\\\\.[0-9]+)?$"},
                  "tick_size": {"type": "string", "pattern": "^[0-9]+(\\\\.[0-9]+)?$"},
                  "lot_size": {"type": "string", "pattern": "^[0-9]+(\\\\.[0-9]+)?$"}
                }
              }
            },
            "venue": {"type": "string", "minLength": 1, "default": "sim"},
            "mode": {"enum": ["realtime", "fast"], "default": "realtime"},
            "events_per_second": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000000, "default": 20},
            "batch_size": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1000},
            "start_time_ns": {"type": "integer", "minimum": 0},
            "duration_seconds": {"type": "number", "exclusiveMinimum": 0},
            "history_seconds": {"type": "number", "minimum": 0, "maximum": 604800, "default": 0},
            "book_depth": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
            "annual_volatility": {"type": "number", "exclusiveMinimum": 0, "maximum": 100, "default": 0.8},
            "garch_alpha": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.05},
            "garch_beta": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.9},
            "jumps_per_hour": {"type": "number", "minimum": 0, "default": 1},
            "jump_stdev": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.01}
          }
        }
        """)

    private let configuration: Configuration
    private let context: PluginContext
    private var random: SimRandom
    private var markets: [SimulatedMarket]
    /// GARCH: long-run variance of the log-price per second, and its constant.
    private let omega: Double
    private var subscriptions: [String: Subscription.Streams] = [:]
    private var started = false
    private var timer: TimerID?
    /// Simulated time of the last update (fast mode), ns.
    private var clockNs: Int64 = 0
    private var endNs = Int64.max
    private var finished = false
    /// Realtime mode while the history is being simulated.
    private var catchingUp = false

    public init(configuration: Configuration, context: PluginContext) throws {
        guard configuration.garchAlpha + configuration.garchBeta < 1 else {
            throw PluginError.invalidConfig("garch_alpha + garch_beta must be below 1 for a stationary volatility, found "
                                            + "\(configuration.garchAlpha) + \(configuration.garchBeta)")
        }
        var markets: [SimulatedMarket] = []
        for (index, symbol) in configuration.symbols.enumerated() {
            func decimal(_ text: String, _ field: String) throws -> ExactDecimal {
                guard let value = ExactDecimal(text), value.mantissa > 0 else {
                    throw PluginError.invalidConfig("config field 'symbols[\(index)].\(field)': '\(text)' must be a positive decimal")
                }
                return value
            }
            guard !markets.contains(where: { $0.symbol == symbol.symbol }) else {
                throw PluginError.invalidConfig("config field 'symbols[\(index)].symbol': '\(symbol.symbol)' is listed twice")
            }
            let tick = try decimal(symbol.tickSize, "tick_size")
            let start = try decimal(symbol.startPrice, "start_price")
            guard start.doubleValue >= 10 * tick.doubleValue else {
                throw PluginError.invalidConfig("config field 'symbols[\(index)].start_price': \(start) must be at least 10 ticks of \(tick)")
            }
            markets.append(SimulatedMarket(symbol: symbol.symbol, tick: tick, lot: try decimal(symbol.lotSize, "lot_size"),
                                           startPrice: start.doubleValue, depth: configuration.bookDepth))
        }
        let longRunVariance = configuration.annualVolatility * configuration.annualVolatility / (365 * 86_400)
        self.omega = longRunVariance * (1 - configuration.garchAlpha - configuration.garchBeta)
        self.configuration = configuration
        self.context = context
        self.random = SimRandom(seed: configuration.seed)
        for index in markets.indices {
            markets[index].variance = longRunVariance
            markets[index].rebuildBook(random: &random)
            _ = markets[index].publishBook() // the initial book is sequence 1
        }
        self.markets = markets
    }

    public func start() throws {
        guard !started else { throw PluginError.wrongState("the simulated exchange is already started") }
        started = true
        guard !finished else { return }
        if clockNs == 0 {
            clockNs = configuration.mode == .fast ? (configuration.startTimeNs ?? context.nowNs) : context.nowNs
            if configuration.mode == .realtime, configuration.historySeconds > 0 {
                clockNs -= Int64(configuration.historySeconds * 1e9)
                catchingUp = true
            }
            for index in markets.indices { markets[index].lastUpdateNs = clockNs }
            if let duration = configuration.durationSeconds { endNs = clockNs + Int64(duration * 1e9) }
        }
        try scheduleNext()
    }

    public func stop() {
        if let timer { context.cancelTimer(timer) }
        timer = nil
        started = false
    }

    public func subscribe(_ subscription: Subscription) throws {
        guard started else { throw PluginError.wrongState("subscribe before start (\(subscription.symbol))") }
        guard let index = markets.firstIndex(where: { $0.symbol == subscription.symbol }) else {
            throw PluginError.notFound("symbol '\(subscription.symbol)' is not simulated; configured: "
                                       + markets.map(\.symbol).joined(separator: ", "))
        }
        let before = subscriptions[subscription.symbol] ?? []
        subscriptions[subscription.symbol] = subscription.streams
        // A new book subscriber starts from a snapshot; deltas follow it in sequence.
        if subscription.streams.contains(.book) && !before.contains(.book) {
            emit(markets[index].snapshot(source(index)))
        }
    }

    public func unsubscribe(symbol: String) throws {
        subscriptions[symbol] = nil
    }

    private func source(_ index: Int) -> EventSource {
        EventSource(venue: configuration.venue, symbol: markets[index].symbol, exchangeTimeNs: clockNs)
    }

    /// Realtime: one update per timer, after an exponential wait on the
    /// host clock. Fast: a batch per zero-delay timer, on a simulated clock.
    private func scheduleNext() throws {
        let meanGapNs = 1e9 / configuration.eventsPerSecond
        switch catchingUp ? .fast : configuration.mode {
        case .realtime:
            let delay = max(1, Int64(random.exponential(mean: meanGapNs)))
            timer = try context.startTimer(after: .nanoseconds(delay)) { [self] in
                clockNs = context.nowNs
                update()
                if !finished { reschedule() }
            }
        case .fast:
            timer = try context.startTimer(after: .zero) { [self] in
                for _ in 0..<configuration.batchSize where !finished {
                    let next = clockNs + max(1, Int64(random.exponential(mean: meanGapNs)))
                    if catchingUp, next >= context.nowNs {
                        catchingUp = false  // history done: live from here
                        break
                    }
                    clockNs = next
                    update()
                }
                if !finished { reschedule() }
            }
        }
    }

    private func reschedule() {
        do { try scheduleNext() } catch { context.error("the simulated exchange stopped: cannot start a timer: \(error)") }
    }

    /// One market update: move one symbol's price, emit one event.
    private func update() {
        guard clockNs <= endNs else {
            finished = true
            context.info("the simulated market closed after duration_seconds (\(configuration.durationSeconds ?? 0))")
            return
        }
        let index = random.below(markets.count)
        markets[index].move(to: clockNs, omega: omega, alpha: configuration.garchAlpha, beta: configuration.garchBeta,
                            jumpsPerSecond: configuration.jumpsPerHour / 3600, jumpStdev: configuration.jumpStdev, random: &random)
        markets[index].rebuildBook(random: &random)
        let streams = subscriptions[markets[index].symbol] ?? []
        let kind = random.uniform()
        if kind < 0.3 {
            let trade = markets[index].trade(source(index), random: &random)
            if streams.contains(.trades) { emit(trade) }
        } else if kind < 0.6 {
            let quote = markets[index].quote(source(index))
            if streams.contains(.quotes) { emit(quote) }
        } else {
            let delta = markets[index].publishBook()
            if streams.contains(.book) { emit(.bookDelta(source(index), bids: delta.bids, asks: delta.asks,
                                                        firstSequence: delta.sequence, lastSequence: delta.sequence,
                                                        prevSequence: delta.sequence - 1,
                                                        depth: UInt32(configuration.bookDepth), checksumKind: 0, checksum: 0)) }
        }
    }

    private func emit(_ event: MarketEvent) {
        do { try context.emit(event) } catch { context.error("the host refused a simulated event: \(error)") }
    }
}
