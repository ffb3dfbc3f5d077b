import AlphaPlusHost
import AlphaPlusFeeds
import AlphaPlusSDK
import ArgumentParser
import Backtesting
import BacktestReport
import Foundation
import HostConfig
import Logging
import MarketData
import PluginRuntime
import Strategy
import Trading
import Timekeeping

/// `alphaplus backtest`: a tenant's strategy on recorded data, through the
/// live path with the data's own clock, as fast as the machine goes. Writes
/// report.json, trades.csv, signals.csv and report.html into `--out`.
struct Backtest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a tenant's strategy on recorded market data and write its report.")
    @OptionGroup var options: ConfigOption
    @Option(help: "The tenant file (config/tenants/<id>.yaml) whose strategy to run.") var tenant: String
    @Option(parsing: .upToNextOption, help: "Market-data files: bars, trades, quotes or captures (plain or gzip).")
    var data: [String]
    @Option(help: "The folder the report is written to (created if missing).") var out: String
    @Option(help: "Start at this UTC time: 2022-01-05 or 2022-01-05T12:00:00Z (inclusive).") var from: String?
    @Option(help: "Stop at this UTC time (exclusive).") var to: String?
    @Option(help: "The symbol of bar files, which do not name one (default: from the file name).") var symbol: String?
    @Option(help: "The venue of bar and trade files.") var venue = "replay"
    @Option(help: "What to do with a malformed row: stop (the default) or skip (reported).") var onBadRow: BadRecordPolicy = .stop
    @Option(help: "Seconds a head's evaluate may run before the backtest stops, naming it (exit 3).") var headDeadline: Double = 10
    @Flag(help: "No progress bar even on a terminal.") var noProgress = false

    func run() throws {
        let config = try options.load()
        bootstrapLogging(level: "warning")
        let logger = Logger(label: "alphaplus.backtest")
        let fromNs = try from.map { try Self.time($0, option: "--from") } ?? .min
        let toNs = try to.map { try Self.time($0, option: "--to") } ?? .max
        guard fromNs < toNs else { throw ValidationError("--from \(from ?? "") is not before --to \(to ?? "")") }
        guard !data.isEmpty else { throw ValidationError("give at least one --data file") }
        guard headDeadline > 0, headDeadline.isFinite else { throw ValidationError("--head-deadline \(headDeadline) is not a positive number of seconds") }

        let tenantConfig: TenantConfig
        do { tenantConfig = try TenantConfig.load(tenant) } catch { throw ValidationError("\(error)") }
        guard let settings = tenantConfig.strategy else {
            throw ValidationError("\(tenant): tenant \(tenantConfig.id) has no 'strategy' section to backtest")
        }
        // Every file is read first, so that several files interleave in time
        // order and the progress bar knows the total.
        var events: [MarketEvent] = []
        var inputs = BacktestInputs()
        for file in data {
            do {
                let reader = try FeedReader(path: file, options: .init(venue: venue, symbol: symbol, badRecords: onBadRow))
                let report = try reader.read { event, _ in
                    let ns = event.source.exchangeTimeNs
                    if ns >= fromNs, ns < toNs {
                        events.append(event)
                        inputs.read(event, from: file)
                    }
                }
                inputs.malformedRows += report.badRecords
                reportSkippedRows(report, of: file)
            } catch let error as FeedError {
                throw ValidationError("\(error)\(onBadRow == .stop ? " (--on-bad-row skip skips and counts such rows)" : "")")
            }
        }
        if data.count > 1 {
            events = events.enumerated().sorted { ($0.element.source.exchangeTimeNs, $0.offset) < ($1.element.source.exchangeTimeNs, $1.offset) }
                .map(\.element)
        }
        guard !events.isEmpty else { throw ValidationError("no events in \(data.joined(separator: ", ")) between --from and --to") }

        // The data's own time is the host's clock: plugins' now_ns and timers
        // follow the bars, from the first event on.
        let clock = ManualClock(startNs: events[0].source.exchangeTimeNs)
        let services = HostServices(clock: clock)
        services.setEventSink { _, _ in }  // connectors do not run in a backtest
        // A plugin call that never returns (a head stuck in a loop) ends the
        // run, naming it, with exit 3, rather than hanging it.
        let watchdog = CallWatchdog(services: services, limitNs: UInt64(headDeadline * 1e9)) { call in
            FileHandle.standardError.write(Data("backtest stopped at \(UTCTime.iso8601(ns: clock.nowNs())) of the data: \(call), over --head-deadline \(headDeadline) s\n".utf8))
            Foundation.exit(3)
        }
        defer { watchdog.stop() }
        let registry = PluginRegistry(services: services)
        registry.discover(folders: config.pluginFolders)
        let heads = try settings.heads.map { spec throws -> TenantStrategy.Head in
            guard let instanceConfig = tenantConfig.instances.first(where: { $0.id == spec.instance }) else {
                throw ValidationError("\(tenant): head '\(spec.instance)' has no instance")
            }
            guard let plugin = registry.plugin(id: instanceConfig.plugin) else {
                let refused = registry.failures.map { "\($0)" }.joined(separator: "; ")
                throw ValidationError("\(tenant): tenant \(tenantConfig.id), head \(spec.instance): no loaded plugin '\(instanceConfig.plugin)' in \(config.pluginFolders.joined(separator: ", "))\(refused.isEmpty ? "" : " (refused: \(refused))")")
            }
            do {
                let instance = try HostedInstance(plugin: plugin, tenantID: tenantConfig.id, instanceID: spec.instance,
                                                  config: instanceConfig.settings, services: services)
                try instance.start()
                return TenantStrategy.Head(spec: spec, pluginID: plugin.id, instance: instance)
            } catch {
                throw ValidationError("\(tenant): \(error)")
            }
        }
        let strategy = try TenantStrategy(tenant: tenantConfig.id, settings: settings, heads: heads, journal: nil,
                                          halt: GlobalHalt(), invocation: .direct, logger: logger)
        var signals: [Signal] = []
        strategy.onSignal = { signals.append($0) }
        let runner = BacktestRunner(strategy: strategy, clock: clock, logger: logger)

        let progress = ProgressBar(total: events.count, enabled: !noProgress && isatty(STDERR_FILENO) == 1)
        for (index, event) in events.enumerated() {
            let result = runner.feed(event)
            if case .rejected(let reason) = result {
                inputs.rejected(event, reason)
                if runner.rejectedEvents <= 3 {
                    FileHandle.standardError.write(Data("event \(index + 1) (\(event.source.symbol) at \(UTCTime.iso8601(ns: event.source.exchangeTimeNs))) rejected: \(reason)\n".utf8))
                }
            }
            progress.update(index + 1)
        }
        progress.finish()
        runner.finish()
        if let refusal = inputs.refusal(runner: runner, settings: settings, tenantFile: tenant, symbolGiven: symbol != nil) {
            FileHandle.standardError.write(Data("backtest \(tenantConfig.id): \(refusal)\n".utf8))
            throw ExitCode(1)
        }

        let trader = strategy.trader
        let result = BacktestResult(
            run: runInfo(strategy: strategy, runner: runner, settings: settings, firstNs: events.first!.source.exchangeTimeNs),
            signals: signals, outcomes: trader.closedPositions, legs: trader.legs, equityCurve: trader.equityCurve,
            metrics: PerformanceMetrics.compute(outcomes: trader.closedPositions, signals: signals,
                                                equity: trader.equityCurve, initialEquity: settings.initialEquity))
        let directory = URL(fileURLWithPath: out)
        try BacktestReportWriter.write(result, to: directory)
        let m = result.metrics
        print("backtest \(tenantConfig.id): \(runner.bars) bars, \(strategy.counters.framesEvaluated) frames evaluated, "
              + "\(strategy.counters.signals) signals, \(m.trades) trades, net P&L \(format(m.netPnl)), "
              + "win rate \(format(m.winRate)), max drawdown \(format(m.maxDrawdown))")
        if runner.gapCount > 0 {
            print("data gaps: \(runner.gapCount) (\(runner.missingBars) bars missing); the first at \(runner.firstGaps.first.map { "\($0.symbol) after \(UTCTime.iso8601(ns: $0.afterNs))" } ?? "")")
        }
        if runner.rejectedEvents > 0 { print("events rejected by ingest: \(runner.rejectedEvents) (see stderr for the first)") }
        print("report: \(directory.path)/report.json, trades.csv, signals.csv, report.html")
    }

    private func runInfo(strategy: TenantStrategy, runner: BacktestRunner, settings: StrategySettings, firstNs: Int64) -> BacktestRunInfo {
        var rejections: [RiskRejection: Int] = [:]
        for reason in RiskRejection.allCases where strategy.counters.rejections(reason) > 0 {
            rejections[reason] = strategy.counters.rejections(reason)
        }
        let votes = strategy.heads.indices.map { index in
            var counts = HeadVoteCounts(head: strategy.heads[index].spec.instance)
            for status in VoteStatus.allCases {
                counts.count(status, times: strategy.counters.votes(head: index, status))
            }
            return counts
        }
        return BacktestRunInfo(tenant: strategy.tenant, inputFiles: data.map { ($0 as NSString).lastPathComponent },
                               fromNs: firstNs, toNs: runner.nowNs, bars: runner.bars,
                               frames: strategy.counters.framesEvaluated, riskRejections: rejections, headVotes: votes,
                               costs: settings.costs)
    }

    /// "2022-01-05", "2022-01-05 12:00:00" or "2022-01-05T12:00:00Z", UTC.
    static func time(_ text: String, option: String) throws -> Int64 {
        var text = text.hasSuffix("Z") ? String(text.dropLast()) : text
        if text.count == 10 { text += " 00:00:00" }
        guard let ns = UTCTime.parse(text) else {
            throw ValidationError("\(option) '\(text)' is not a UTC time like 2022-01-05 or 2022-01-05T12:00:00Z")
        }
        return ns
    }
}

/// A one-line progress bar on stderr, redrawn at most every 1%.
final class ProgressBar {
    private let total: Int
    private let enabled: Bool
    private var shownPercent = -1

    init(total: Int, enabled: Bool) {
        self.total = max(total, 1)
        self.enabled = enabled
    }

    func update(_ done: Int) {
        guard enabled else { return }
        let percent = done * 100 / total
        guard percent != shownPercent else { return }
        shownPercent = percent
        let filled = percent * 30 / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(percent)% \(done)/\(total) events".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

/// What the data files held, to say why a backtest is refused: exit 1,
/// no report, when it evaluated no frame, or when more than half of the
/// rows read (events in the --from/--to range plus malformed rows
/// skipped) were rejected by ingest or skipped. Either way the data or
/// the options are wrong, and a report of nothing would hide it.
struct BacktestInputs {
    var malformedRows = 0
    private var eventsRead = 0
    /// The files in the order read, and per file its symbols and bar
    /// intervals (seconds) as the file names them.
    private var files: [String] = []
    private var symbolsOfFile: [String: Set<String>] = [:]
    private var barIntervalsOfFile: [String: Set<Int64>] = [:]
    /// Symbols of bar rows (bar files name none: the file name stands in).
    private var barSymbols: Set<String> = []
    /// Per symbol, per rejection: events ingest rejected.
    private var rejectionsOfSymbol: [String: [IngestRejection: Int]] = [:]

    /// The last event's file, symbol and bar interval: the sets change
    /// only when one of them does, so most events cost one comparison.
    private var last: (file: String, symbol: String, barInterval: Int64?) = ("", "", nil)

    mutating func read(_ event: MarketEvent, from file: String) {
        eventsRead += 1
        let symbol = event.source.symbol
        var barInterval: Int64?
        if case .candle(_, let candle, _) = event { barInterval = candle.intervalSeconds }
        guard file != last.file || symbol != last.symbol || barInterval != last.barInterval else { return }
        last = (file, symbol, barInterval)
        if files.last != file { files.append(file) }
        symbolsOfFile[file, default: []].insert(symbol)
        if let barInterval {
            barIntervalsOfFile[file, default: []].insert(barInterval)
            barSymbols.insert(symbol)
        }
    }

    mutating func rejected(_ event: MarketEvent, _ reason: IngestRejection) {
        rejectionsOfSymbol[event.source.symbol, default: [:]][reason, default: 0] += 1
    }

    /// Why the run is refused, nil when it is not.
    func refusal(runner: BacktestRunner, settings: StrategySettings, tenantFile: String, symbolGiven: Bool) -> String? {
        let rows = eventsRead + malformedRows, refused = runner.rejectedEvents + malformedRows
        if rows > 0, refused * 2 > rows {
            var reasons = rejectionsOfSymbol.keys.sorted().map { rejections(of: $0, symbolGiven: symbolGiven) }
            if malformedRows > 0 { reasons.append("\(malformedRows) malformed rows skipped") }
            return "\(refused) of \(rows) rows were refused, more than half, so no report was written: " + reasons.joined(separator: "; ")
        }
        guard runner.strategy.counters.framesEvaluated == 0 else { return nil }
        let wanted = "strategy.symbols \(settings.symbols.isEmpty ? "(any)" : "[\(settings.symbols.joined(separator: ", "))]") and "
            + "strategy.timeframes [\(settings.timeframes.map { timeframeName(seconds: $0) }.joined(separator: ", "))] of \(tenantFile)"
        guard !runner.framesMade.isEmpty else {
            return "0 frames evaluated: \(files.joined(separator: ", ")) made no frame at all (\(eventsRead) events, \(runner.rejectedEvents) rejected); a frame is made when a candle closes, so the data must span at least one candle of \(wanted)"
        }
        let made = runner.framesMade.prefix(8).map { "\($0.symbol) \(timeframeName(seconds: $0.timeframeSeconds)): \($0.frames)" }
        var why = "0 frames evaluated: the data made frames of \(made.joined(separator: ", "))\(runner.framesMade.count > 8 ? ", ..." : ""), none of \(wanted)"
        let madeTimeframes = Set(runner.framesMade.map(\.timeframeSeconds))
        if madeTimeframes.isDisjoint(with: settings.timeframes) {
            for file in files {
                guard let intervals = barIntervalsOfFile[file], let finest = intervals.min(),
                      settings.timeframes.allSatisfy({ $0 < finest || $0 % finest != 0 }) else { continue }
                let usable = madeTimeframes.sorted().map(String.init).joined(separator: ", ")
                why += ". \(file) holds bars \(timeframeName(seconds: finest)) apart (\(finest) s), and a frame's timeframe must be a multiple of the bar interval: set strategy.timeframes to [\(usable)] (seconds), or give bars of \(settings.timeframes.map { timeframeName(seconds: $0) }.joined(separator: " or "))"
            }
        } else if !settings.symbols.isEmpty {
            let symbols = Set(runner.framesMade.map(\.symbol)).sorted().joined(separator: ", ")
            why += ". The data's symbols (\(symbols)) are not the tenant's"
            if !symbolGiven, !barSymbols.isEmpty { why += "; bar files name no symbol, so the file name stood in: give --symbol" }
        }
        return why
    }

    /// "symbol 'x' of a.csv: unknown_symbol 200 (...)".
    private func rejections(of symbol: String, symbolGiven: Bool) -> String {
        let sources = files.filter { symbolsOfFile[$0]?.contains(symbol) == true }.joined(separator: ", ")
        let counts = (rejectionsOfSymbol[symbol] ?? [:]).sorted { $0.value > $1.value }.map { reason, count in
            var text = "\(reason) \(count)"
            if reason == .unknownSymbol {
                text += " ('\(symbol)' cannot be read as BASE-QUOTE"
                if !symbolGiven, barSymbols.contains(symbol) {
                    text += "; bar files name no symbol, so the file name stood in: give --symbol, e.g. --symbol BTC-USDT"
                }
                text += ")"
            }
            return text
        }
        return "symbol '\(symbol)' of \(sources): " + counts.joined(separator: ", ")
    }
}
