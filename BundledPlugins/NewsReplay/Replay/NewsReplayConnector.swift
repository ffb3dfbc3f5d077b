import AlphaPlusFeeds
import AlphaPlusSDK

/// Replays a JSON-lines file of headlines (see `NewsLineDecoder`) as a news
/// feed: each item goes out as a `MarketEvent.news` to the symbols
/// subscribed with the `news` stream, market-wide items (no symbols) once
/// with no symbols when anything is subscribed. Paced by the host clock
/// (`realtime`, times `speed`) or as fast as the host takes them (`max`).
public final class NewsReplayConnector: ExchangePlugin {
    public struct Configuration: Decodable {
        public enum Mode: String, Decodable {
            case realtime, max
        }

        var file: String
        var mode = Mode.realtime
        var speed = 1.0
        var rebaseToNow = false
        var loop = false
        var onBadRecord = BadRecordPolicy.stop
        var venue = "news"
        var batchSize = 1000

        enum CodingKeys: String, CodingKey {
            case file, mode, speed, rebaseToNow = "rebase_to_now", loop, onBadRecord = "on_bad_record", venue
            case batchSize = "batch_size"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            file = try c.decode(String.self, forKey: .file)
            mode = try c.decodeIfPresent(Mode.self, forKey: .mode) ?? mode
            speed = try c.decodeIfPresent(Double.self, forKey: .speed) ?? speed
            rebaseToNow = try c.decodeIfPresent(Bool.self, forKey: .rebaseToNow) ?? rebaseToNow
            loop = try c.decodeIfPresent(Bool.self, forKey: .loop) ?? loop
            if let policy = try c.decodeIfPresent(String.self, forKey: .onBadRecord) {
                guard let known = BadRecordPolicy(rawValue: policy) else {
                    throw PluginError.invalidConfig("config field 'on_bad_record': '\(policy)' is neither skip nor stop")
                }
                onBadRecord = known
            }
            venue = try c.decodeIfPresent(String.self, forKey: .venue) ?? venue
            batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        }
    }

    public static let descriptor = PluginDescriptor(
        id: "com.alphaplus.news-replay",
        name: "News replay",
        version: "1.0.0",
        vendor: "AlphaPlus",
        description: "Replays a JSON-lines file of headlines as news events for the subscribed symbols.",
        configSchema: """
        {
          "type": "object",
          "additionalProperties": false,
          "required": ["file"],
          "properties": {
            "file": {"type": "string", "minLength": 1},
            "mode": {"enum": ["realtime", "max"], "default": "realtime"},
            "speed": {"type": "number", "exclusiveMinimum": 0, "default": 1},
            "rebase_to_now": {"type": "boolean", "default": false},
            "loop": {"type": "boolean", "default": false},
            "on_bad_record": {"enum": ["skip", "stop"], "default": "stop"},
            "venue": {"type": "string", "minLength": 1, "default": "news"},
            "batch_size": {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 1000}
          }
        }
        """)

    private let configuration: Configuration
    private let context: PluginContext
    /// Loaded at the first start: every good item, in file order.
    private var items: [MarketEvent]?
    /// The bad record that ended reading under `on_bad_record: stop`,
    /// reported when the replay reaches the end of what was read.
    private var stoppedAt: FeedError?
    /// Symbols subscribed with the news stream.
    private var subscribed: Set<String> = []
    /// The next item: `items[cursor]` of pass `pass` (0 for the first pass).
    private var cursor = 0
    private var pass: Int64 = 0
    /// How far each loop pass is shifted in time from the previous one.
    private var passSpanNs: Int64 = 0
    private var started = false
    private var timer: TimerID?
    /// Pacing: host time `anchorHostNs` corresponds to item time `anchorItemNs`.
    private var anchorHostNs: Int64 = 0
    private var anchorItemNs: Int64 = 0
    private var emittedTotal = 0

    public init(configuration: Configuration, context: PluginContext) throws {
        if configuration.loop && configuration.mode == .max {
            throw PluginError.invalidConfig("config field 'loop': cannot loop in mode \"max\" (the replay would never end); use mode \"realtime\"")
        }
        // Opening the file here reports a missing one when the instance is
        // configured, not later when it starts.
        do {
            try LineReader(path: configuration.file).forEachLine { _, _ in false }
        } catch let error as FeedError {
            throw PluginError.invalidConfig("config field 'file': \(error)")
        }
        self.configuration = configuration
        self.context = context
    }

    public func start() throws {
        guard !started else { throw PluginError.wrongState("the news replay is already started") }
        let items = try self.items ?? load()
        self.items = items
        started = true
        guard cursor < items.count else { return finish() }
        anchorHostNs = context.nowNs
        anchorItemNs = itemTimeNs(cursor)
        try schedule(afterNs: 0)
    }

    public func stop() {
        if let timer { context.cancelTimer(timer) }
        timer = nil
        started = false
    }

    public func subscribe(_ subscription: Subscription) throws {
        guard subscription.streams == .news else {
            let asked = Self.streamNames.filter { subscription.streams.contains($0.stream) }.map(\.name)
            throw PluginError.unsupported("subscription to '\(subscription.symbol)': the news replay streams only news, "
                                          + "the subscription asks for \(asked.isEmpty ? "no stream" : asked.joined(separator: ", "))")
        }
        subscribed.insert(subscription.symbol)
    }

    public func unsubscribe(symbol: String) throws {
        subscribed.remove(symbol)
    }

    private static let streamNames: [(stream: Subscription.Streams, name: String)] =
        [(.trades, "trades"), (.quotes, "quotes"), (.book, "book"), (.candles, "candles"), (.news, "news")]

    /// Reads the file, logging bad records as the replay exchange does.
    private func load() throws -> [MarketEvent] {
        var decoder = NewsLineDecoder(venue: configuration.venue, policy: configuration.onBadRecord)
        var items: [MarketEvent] = []
        do {
            try decoder.decodeFile(configuration.file) { items.append($0) }
        } catch let error as FeedError where error.position.line > 0 {
            // A bad record under `stop`: replay what came before it, then report it.
            context.count("news_bad_records")
            stoppedAt = error
        } catch {
            throw PluginError.unavailable("cannot read \(configuration.file): \(error)")
        }
        let report = decoder.report
        for error in report.firstErrors { context.warning("skipped bad record \(error)") }
        if report.skipped > report.firstErrors.count {
            context.warning("skipped \(report.skipped - report.firstErrors.count) more bad records in \(configuration.file)")
        }
        if report.skipped > 0 { context.count("news_bad_records", by: Double(report.skipped)) }
        context.info("replaying \(items.count) news items from \(configuration.file)")
        if let first = items.first?.source.exchangeTimeNs, let last = items.last?.source.exchangeTimeNs {
            // A pass lasts the file's span plus its mean spacing (at least 1 s),
            // so a looped item never shares its time with the previous pass's last.
            let span = last - first
            passSpanNs = span + max(1_000_000_000, items.count > 1 ? span / Int64(items.count - 1) : 0)
        }
        return items
    }

    /// The time of `items[index]` in the current pass.
    private func itemTimeNs(_ index: Int) -> Int64 {
        items![index].source.exchangeTimeNs + pass * passSpanNs
    }

    /// Host time at which the item at `index` is due: its distance from the
    /// anchor in item time divided by the speed, rounded up so that nothing
    /// is emitted before its time (`Int64.max` beyond the clock's range).
    private func dueNs(_ index: Int) -> Int64 {
        let offset = (Double(itemTimeNs(index) - anchorItemNs) / configuration.speed).rounded(.up)
        return offset < Double(Int64.max - anchorHostNs) ? anchorHostNs + Int64(offset) : .max
    }

    /// The longest timer the replay starts; a later item is waited for in
    /// several timers.
    private static let maxTimerDelayNs: Int64 = 86_400_000_000_000

    private func schedule(afterNs delay: Int64) throws {
        timer = try context.startTimer(after: .nanoseconds(delay)) { [self] in tick() }
    }

    private func tick() {
        guard let items else { return }
        var emitted = 0, unsubscribed = 0
        func send(stampNs: Int64) {
            if emit(cursor, stampNs: stampNs) { emitted += 1 } else { unsubscribed += 1 }
            advance(count: items.count)
        }
        var nextDelayNs: Int64 = 0
        switch configuration.mode {
        case .max:
            var processed = 0
            while cursor < items.count && processed < configuration.batchSize {
                // Rebased: the first item at the start time, the rest at the file's spacing.
                let time = itemTimeNs(cursor)
                let (rebased, overflow) = anchorHostNs.addingReportingOverflow(time - anchorItemNs)
                send(stampNs: configuration.rebaseToNow ? (overflow ? .max : rebased) : time)
                processed += 1
            }
        case .realtime:
            let now = context.nowNs
            while cursor < items.count && dueNs(cursor) <= now {
                // Rebased: stamped with the host time it is due, so never in the future.
                send(stampNs: configuration.rebaseToNow ? dueNs(cursor) : itemTimeNs(cursor))
            }
            if cursor < items.count { nextDelayNs = min(dueNs(cursor) - now, Self.maxTimerDelayNs) }
        }
        emittedTotal += emitted
        if emitted > 0 { context.count("news_items_emitted", by: Double(emitted)) }
        if unsubscribed > 0 { context.count("news_items_unsubscribed", by: Double(unsubscribed)) }
        guard cursor < items.count else { return finish() }
        do { try schedule(afterNs: nextDelayNs) } catch { context.error("the news replay stopped: cannot start a timer: \(error)") }
    }

    /// Moves past the current item; with `loop`, from the last item back to
    /// the first of the next pass (not after a bad record under `stop`, nor
    /// when the next pass's times would not fit the clock).
    private func advance(count: Int) {
        cursor += 1
        guard cursor == count && configuration.loop && stoppedAt == nil else { return }
        let (shift, overflow) = (pass + 1).multipliedReportingOverflow(by: passSpanNs)
        guard !overflow, !items![count - 1].source.exchangeTimeNs.addingReportingOverflow(shift).overflow else {
            return context.warning("the loop ends after pass \(pass + 1): the next pass's times would be after the year 2262")
        }
        cursor = 0
        pass += 1
    }

    /// Emits the item at `index` for the subscribed symbols; false when no
    /// subscription wants it.
    private func emit(_ index: Int, stampNs: Int64) -> Bool {
        guard case let .news(source, id, origin, headline, body, url, symbols) = items![index] else { return false }
        let targets = symbols.filter(subscribed.contains)
        guard symbols.isEmpty ? !subscribed.isEmpty : !targets.isEmpty else { return false }
        // Later passes get new ids, so that consumers de-duplicating by id
        // take the looped items as news again.
        let event = MarketEvent.news(EventSource(venue: source.venue, symbol: targets.first ?? "", exchangeTimeNs: stampNs),
                                     id: pass == 0 ? id : "\(id)#\(pass)", source: origin, headline: headline, body: body,
                                     url: url, symbols: targets)
        do {
            try context.emit(event)
        } catch {
            context.error("the host refused news item '\(id)': \(error)")
        }
        return true
    }

    private func finish() {
        timer = nil
        if let stoppedAt {
            context.error("news replay stopped at bad record \(stoppedAt)")
        } else {
            context.info("news replay finished: \(emittedTotal) items emitted")
        }
    }
}
