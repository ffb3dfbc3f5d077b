import AlphaPlusFeeds
import AlphaPlusSDK

/// Replays market-data files as a live exchange: every event of the files,
/// in time order (files merged), with the files' own timestamps, paced by
/// the host clock divided by `speed`, or as fast as possible in batches
/// (`speed: "max"`). Subscriptions are accepted but do not filter: the
/// files are what is replayed.
public final class ReplayExchange: ExchangePlugin {
    public struct Configuration: Decodable {
        public enum Speed: Equatable {
            case timesRealTime(Double)
            case max
        }

        var files: [String]
        var format = "auto"
        var speed = Speed.timesRealTime(1)
        var onBadRecord = BadRecordPolicy.stop
        var venue = "replay"
        var symbol: String?
        var barIntervalSeconds: Int64?
        var batchSize = 1000

        enum CodingKeys: String, CodingKey {
            case files, format, speed, onBadRecord = "on_bad_record", venue, symbol
            case barIntervalSeconds = "bar_interval_seconds", batchSize = "batch_size"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            files = try c.decode([String].self, forKey: .files)
            format = try c.decodeIfPresent(String.self, forKey: .format) ?? format
            if let text = try? c.decode(String.self, forKey: .speed) {
                guard text == "max" else { throw PluginError.invalidConfig("config field 'speed': '\(text)' is neither a positive number nor \"max\"") }
                speed = .max
            } else if let factor = try c.decodeIfPresent(Double.self, forKey: .speed) {
                guard factor > 0, factor.isFinite else { throw PluginError.invalidConfig("config field 'speed': \(factor) must be positive") }
                speed = .timesRealTime(factor)
            }
            if let policy = try c.decodeIfPresent(String.self, forKey: .onBadRecord) {
                guard let known = BadRecordPolicy(rawValue: policy) else {
                    throw PluginError.invalidConfig("config field 'on_bad_record': '\(policy)' is neither skip nor stop")
                }
                onBadRecord = known
            }
            venue = try c.decodeIfPresent(String.self, forKey: .venue) ?? venue
            symbol = try c.decodeIfPresent(String.self, forKey: .symbol)
            barIntervalSeconds = try c.decodeIfPresent(Int64.self, forKey: .barIntervalSeconds)
            batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        }
    }

    public static let descriptor = PluginDescriptor(
        id: "com.alphaplus.exchange-replay",
        name: "Replay exchange",
        version: "1.0.0",
        vendor: "AlphaPlus",
        description: "Replays market-data files (bars, Tardis trades and quotes, Binance, Kraken and Bitfinex captures) at a chosen speed.",
        configSchema: """
        {
          "type": "object",
          "additionalProperties": false,
          "required": ["files"],
          "properties": {
            "files": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
            "format": {"enum": ["auto", \(FeedFormat.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))], "default": "auto"},
            "speed": {"oneOf": [{"type": "number", "exclusiveMinimum": 0}, {"const": "max"}], "default": 1},
            "on_bad_record": {"enum": ["skip", "stop"], "default": "stop"},
            "venue": {"type": "string", "minLength": 1, "default": "replay"},
            "symbol": {"type": "string", "minLength": 1},
            "bar_interval_seconds": {"type": "integer", "minimum": 1},
            "batch_size": {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 1000}
          }
        }
        """)

    private let configuration: Configuration
    private let context: PluginContext
    private let readers: [FeedReader]
    /// Loaded at the first start: every event, in replay order.
    private var events: [MarketEvent]?
    /// The bad record that ended reading under `on_bad_record: stop`,
    /// reported when the replay reaches the end of what was read.
    private var stoppedAt: FeedError?
    private var cursor = 0
    private var started = false
    private var timer: TimerID?
    /// Pacing: host time `anchorHostNs` corresponds to file time `anchorFileNs`.
    private var anchorHostNs: Int64 = 0
    private var anchorFileNs: Int64 = 0

    public init(configuration: Configuration, context: PluginContext) throws {
        var format: FeedFormat?
        if configuration.format != "auto" {
            guard let known = FeedFormat(rawValue: configuration.format) else {
                throw PluginError.invalidConfig("config field 'format': unknown format '\(configuration.format)'")
            }
            format = known
        }
        let options = FeedReader.Options(venue: configuration.venue, symbol: configuration.symbol,
                                         barIntervalSeconds: configuration.barIntervalSeconds, badRecords: configuration.onBadRecord)
        // Detecting the formats here reports a missing or unknown file when
        // the instance is configured, not later when it starts.
        readers = try configuration.files.enumerated().map { index, path in
            do {
                return try FeedReader(path: path, format: format, options: options)
            } catch let error as FeedError {
                throw PluginError.invalidConfig("config field 'files[\(index)]': \(error)")
            }
        }
        self.configuration = configuration
        self.context = context
    }

    public func start() throws {
        guard !started else { throw PluginError.wrongState("the replay is already started") }
        let events = try self.events ?? load()
        self.events = events
        started = true
        guard cursor < events.count else { return finish() }
        anchorHostNs = context.nowNs
        anchorFileNs = events[cursor].source.exchangeTimeNs
        try schedule(afterNs: 0)
    }

    public func stop() {
        if let timer { context.cancelTimer(timer) }
        timer = nil
        started = false
    }

    public func subscribe(_ subscription: Subscription) throws {
        guard started else { throw PluginError.wrongState("subscribe before start (\(subscription.symbol))") }
    }

    public func unsubscribe(symbol: String) throws {}

    /// Reads every file, logging bad records, and merges them by time
    /// (file order, then line order, on equal times).
    private func load() throws -> [MarketEvent] {
        var merged: [(event: MarketEvent, file: Int, index: Int)] = []
        for (fileIndex, reader) in readers.enumerated() {
            var index = 0
            do {
                let report = try reader.read { event, _ in
                    merged.append((event, fileIndex, index))
                    index += 1
                }
                for error in report.firstBadRecords { context.warning("skipped bad record \(error)") }
                if report.badRecords > report.firstBadRecords.count {
                    context.warning("skipped \(report.badRecords - report.firstBadRecords.count) more bad records in \(reader.path)")
                }
                if report.badRecords > 0 { context.count("replay_bad_records", by: Double(report.badRecords)) }
            } catch let error as FeedError where error.position.line > 0 {
                // A bad record under `stop`: replay what came before it, then report it.
                context.count("replay_bad_records")
                stoppedAt = error
                break
            } catch {
                throw PluginError.unavailable("cannot read \(reader.path): \(error)")
            }
        }
        merged.sort { ($0.event.source.exchangeTimeNs, $0.file, $0.index) < ($1.event.source.exchangeTimeNs, $1.file, $1.index) }
        context.info("replaying \(merged.count) events from \(readers.count) file(s)")
        return merged.map(\.event)
    }

    private func schedule(afterNs delay: Int64) throws {
        timer = try context.startTimer(after: .nanoseconds(delay)) { [self] in tick() }
    }

    /// Host time at which the event at `index` is due: its distance from the
    /// anchor in file time, divided by the speed, rounded up so that nothing
    /// is emitted before its time.
    private func dueNs(_ index: Int, speed: Double) -> Int64 {
        let fileDelta = Double(events![index].source.exchangeTimeNs - anchorFileNs)
        return anchorHostNs + Int64((fileDelta / speed).rounded(.up))
    }

    private func tick() {
        guard let events else { return }
        var emitted = 0
        var nextDelayNs: Int64 = 0
        switch configuration.speed {
        case .max:
            while cursor < events.count && emitted < configuration.batchSize {
                emit(events[cursor])
                cursor += 1
                emitted += 1
            }
        case .timesRealTime(let speed):
            let now = context.nowNs
            while cursor < events.count && dueNs(cursor, speed: speed) <= now {
                emit(events[cursor])
                cursor += 1
                emitted += 1
            }
            if cursor < events.count { nextDelayNs = dueNs(cursor, speed: speed) - now }
        }
        if emitted > 0 { context.count("replay_events", by: Double(emitted)) }
        guard cursor < events.count else { return finish() }
        do { try schedule(afterNs: nextDelayNs) } catch { context.error("the replay stopped: cannot start a timer: \(error)") }
    }

    private func finish() {
        timer = nil
        if let stoppedAt {
            context.error("replay stopped at bad record \(stoppedAt)")
        } else {
            context.info("replay finished: \(cursor) events")
        }
    }

    private func emit(_ event: MarketEvent) {
        do { try context.emit(event) } catch { context.error("the host refused a replayed event: \(error)") }
    }
}
