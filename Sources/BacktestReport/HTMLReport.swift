import AlphaPlusTime
import Foundation
import Trading

/// report.html: one self-contained page (inline CSS and SVG, no script, no
/// external resource) with the run, the metrics, the equity and drawdown
/// curves, the heads' attribution and the signals.
enum HTMLReport {
    /// The signals table stops here; the page says so (signals.csv has all).
    static let signalRowLimit = 500

    static func page(_ result: BacktestResult) -> String {
        let title = "Backtest: \(result.run.tenant)"
        var page = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(escape(title))</title>
        <style>\(style)</style>
        </head>
        <body>
        <h1>\(escape(title))</h1>

        """
        page += section("Run", table(rows: runRows(result.run, signals: result.signals.count)))
        page += section("Metrics", table(rows: metricRows(result.metrics)))
        page += section("Equity", charts(result))
        page += section("Heads", headTable(result))
        page += section("Signals", signalTable(result))
        return page + "</body>\n</html>\n"
    }

    /// Text for HTML content and attribute values.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    // MARK: - Sections

    private static func runRows(_ run: BacktestRunInfo, signals: Int) -> [(String, String)] {
        let rejections = RiskRejection.allCases.compactMap { reason in
            run.riskRejections[reason].flatMap { $0 > 0 ? "\(reason.rawValue) \($0)" : nil }
        }
        return [
            ("tenant", run.tenant),
            ("period", "\(UTCTime.iso8601(ns: run.fromNs)) to \(UTCTime.iso8601(ns: run.toNs))"),
            ("input files", run.inputFiles.joined(separator: ", ")),
            ("bars", "\(run.bars)"),
            ("frames", "\(run.frames)"),
            ("signals", "\(signals)"),
            ("risk rejections", rejections.isEmpty ? "none" : rejections.joined(separator: ", ")),
            ("costs", "maker \(decimal(run.costs.makerFee * 10_000, 2)) bp, taker \(decimal(run.costs.takerFee * 10_000, 2)) bp, "
                + "slippage \(decimal(run.costs.slippageBps, 2)) bp"),
        ]
    }

    private static func metricRows(_ metrics: PerformanceMetrics) -> [(String, String)] {
        let exits = metrics.exits
        return [
            ("trades", "\(metrics.trades) (\(metrics.longTrades) long, \(metrics.shortTrades) short)"),
            ("wins / losses / breakeven", "\(metrics.wins) / \(metrics.losses) / \(metrics.breakeven)"),
            ("win rate", percent(metrics.winRate)),
            ("net P&L", decimal(metrics.netPnl, 2)),
            ("gross profit / loss", "\(decimal(metrics.grossProfit, 2)) / \(decimal(metrics.grossLoss, 2))"),
            ("profit factor", metrics.profitFactor.map { decimal($0, 3) } ?? "n/a (no losing trade)"),
            ("expectancy per trade", decimal(metrics.expectancy, 2)),
            ("average win / loss", "\(decimal(metrics.averageWin, 2)) / \(decimal(metrics.averageLoss, 2))"),
            ("largest win / loss", "\(decimal(metrics.largestWin, 2)) / \(decimal(metrics.largestLoss, 2))"),
            ("max consecutive losses", "\(metrics.maxConsecutiveLosses)"),
            ("fees", decimal(metrics.fees, 2)),
            ("equity initial / final", "\(decimal(metrics.initialEquity, 2)) / \(decimal(metrics.finalEquity, 2))"),
            ("total return", percent(metrics.totalReturn)),
            ("sharpe / sortino (daily, ×√365)", "\(decimal(metrics.sharpe, 3)) / \(decimal(metrics.sortino, 3)) over \(metrics.dailyReturns) days"),
            ("max drawdown", "\(percent(metrics.maxDrawdown)) (\(decimal(metrics.maxDrawdownAbs, 2)))"),
            ("average MAE / MFE (price)", "\(decimal(metrics.averageMae, 6)) / \(decimal(metrics.averageMfe, 6))"),
            ("average holding", "\(decimal(metrics.averageHoldingSeconds / 60, 1)) min"),
            ("exposure", percent(metrics.exposure)),
            ("exits", "take_profit \(exits.takeProfit), stop_loss \(exits.stopLoss), time_exit \(exits.timeExit), "
                + "end_of_data \(exits.endOfData)"),
        ]
    }

    private static func charts(_ result: BacktestResult) -> String {
        var peak = result.metrics.initialEquity
        var drawdown: [SVGChart.Point] = []
        drawdown.reserveCapacity(result.equityCurve.count)
        for point in result.equityCurve {
            peak = max(peak, point.equity)
            drawdown.append(.init(ns: point.ns, value: peak > 0 ? point.equity / peak - 1 : 0))
        }
        let equity = SVGChart(title: "Equity", points: result.equityCurve.map { .init(ns: $0.ns, value: $0.equity) },
                              label: { decimal($0, 2) })
        let fall = SVGChart(title: "Drawdown from the running peak", points: drawdown, label: { percent($0) }, hangsFromZero: true)
        return "<div class=\"chart\">\(equity.svg())</div>\n<div class=\"chart\">\(fall.svg())</div>\n"
    }

    private static func headTable(_ result: BacktestResult) -> String {
        var text = "<p>Trades each head agreed with (voted the signal's side), opposed, or abstained on "
            + "(flat, error, timeout, missing); hit rate: agreed wins / agreed trades.</p>\n"
        text += "<table><tr><th>head</th><th>agreed W / L</th><th>hit rate</th><th>opposed W / L</th>"
            + "<th>abstained W / L</th></tr>\n"
        for head in result.metrics.heads {
            text += row([head.head, "\(head.agreedWins) / \(head.agreedLosses)", head.hitRate.map(percent) ?? "n/a",
                         "\(head.opposedWins) / \(head.opposedLosses)", "\(head.abstainedWins) / \(head.abstainedLosses)"])
        }
        text += "</table>\n<p>Calls over all frames:</p>\n"
        text += "<table><tr><th>head</th><th>ok</th><th>error</th><th>timeout</th><th>missing</th></tr>\n"
        for counts in result.run.headVotes {
            text += row([counts.head, "\(counts.ok)", "\(counts.error)", "\(counts.timeout)", "\(counts.missing)"])
        }
        return text + "</table>\n"
    }

    private static func signalTable(_ result: BacktestResult) -> String {
        let outcomeOf = Dictionary(result.outcomes.map { ($0.signalID, $0) }, uniquingKeysWith: { first, _ in first })
        var text = ""
        if result.signals.count > signalRowLimit {
            text += "<p>The first \(signalRowLimit) of \(result.signals.count) signals; signals.csv has all of them.</p>\n"
        }
        text += "<table><tr><th>created</th><th>symbol</th><th>side</th><th>entry</th><th>stop</th><th>targets</th>"
            + "<th>quantity</th><th>confidence</th><th>exit</th><th>P&amp;L</th></tr>\n"
        for signal in result.signals.prefix(signalRowLimit) {
            let outcome = outcomeOf[signal.id]
            text += row([UTCTime.iso8601(ns: signal.createdAtNs), signal.symbol, signal.side.rawValue, "\(signal.entry)",
                         "\(signal.stop)", signal.targets.map { "\($0)" }.joined(separator: "; "), "\(signal.quantity)",
                         decimal(signal.confidence, 3) + (signal.highConfidence ? " (high)" : ""),
                         outcome?.finalReason.rawValue ?? "open", outcome.map { decimal($0.pnl, 2) } ?? ""])
        }
        return text + "</table>\n"
    }

    // MARK: - Pieces

    private static func section(_ heading: String, _ body: String) -> String {
        "<h2>\(escape(heading))</h2>\n\(body)"
    }

    private static func table(rows: [(String, String)]) -> String {
        "<table>\n" + rows.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>\n" }.joined() + "</table>\n"
    }

    private static func row(_ cells: [String]) -> String {
        "<tr>" + cells.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
    }

    private static func decimal(_ value: Double, _ digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }

    private static func percent(_ fraction: Double) -> String {
        decimal(fraction * 100, 2) + "%"
    }

    private static let style = """
    body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;max-width:1000px}\
    h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #d0d5dd}\
    table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 10px;border-bottom:1px solid #eceef2;text-align:left}\
    td{font-variant-numeric:tabular-nums}th{font-weight:600;color:#454d5c}.chart svg{width:100%;height:auto}
    """
}
