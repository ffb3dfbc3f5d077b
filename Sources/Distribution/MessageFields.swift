import AlphaPlusTime
import AlphaPlusJSON
import Foundation
import PluginRuntime
import Trading

/// The values a template can show for one message, by field name, and
/// what the structured payload needs besides (time, colour, signal id).
public struct MessageFields: Sendable, Equatable {
    public let kind: MessageKind
    let values: [String: String]
    let timeNs: Int64
    let signalID: String?
    /// "green", "red" or "grey".
    let color: String

    public subscript(name: String) -> String { values[name] ?? "" }

    /// The fields a template of `kind` may use.
    public static func names(of kind: MessageKind) -> [String] {
        switch kind {
        case .signal: ["side", "symbol", "timeframe", "entry", "stop", "targets", "confidence", "heads", "venue", "signal_id", "tenant", "time"]
        case .outcome: ["event", "side", "symbol", "entry", "exit", "move", "pnl", "signal_id", "tenant", "time"]
        case .summary: ["date", "signals", "trades", "wins", "losses", "win_rate", "pnl", "tenant"]
        case .alert: ["message", "tenant", "destination", "channel", "time"]
        }
    }

    /// A signal: side LONG/SHORT, timeframe "1m", prices to 8 significant
    /// digits, confidence in whole percent, heads "3 of 4: technical 60%, …"
    /// (the heads that voted the signal's side, of all configured).
    public init(signal: Signal) {
        let agreeing = signal.votes.filter { $0.status == .ok && $0.direction.side == signal.side }
        kind = .signal
        values = [
            "side": signal.side.rawValue.uppercased(), "symbol": signal.symbol,
            "timeframe": Self.timeframe(signal.timeframeSeconds), "entry": Self.price(signal.entry),
            "stop": Self.price(signal.stop), "targets": signal.targets.map(Self.price).joined(separator: " / "),
            "confidence": Self.percent(signal.confidence),
            "heads": "\(agreeing.count) of \(signal.votes.count)"
                + (agreeing.isEmpty ? "" : ": " + agreeing.map { "\($0.head) \(Self.percent($0.confidence))" }.joined(separator: ", ")),
            "venue": signal.venue, "signal_id": signal.id, "tenant": signal.tenant,
            "time": UTCTime.iso8601(ns: signal.createdAtNs),
        ]
        timeNs = signal.createdAtNs
        signalID = signal.id
        color = signal.side == .long ? "green" : "red"
    }

    /// One exit fill of a position: event "Target 1 hit", "Stop hit",
    /// "Time exit", "Closed at end of data"; move the exit's signed change
    /// from the entry in the position's favour; pnl the fill's P&L.
    public init(leg: TradeLeg, tenant: String) {
        let event = switch leg.reason {
        case .takeProfit: "Target \(leg.target) hit"
        case .stopLoss: "Stop hit"
        case .timeExit: "Time exit"
        case .endOfData: "Closed at end of data"
        }
        let move = leg.entryPrice == 0 ? 0 : leg.side.sign * (leg.exitPrice - leg.entryPrice) / leg.entryPrice
        kind = .outcome
        values = [
            "event": event, "side": leg.side.rawValue.uppercased(), "symbol": leg.symbol,
            "entry": Self.price(leg.entryPrice), "exit": Self.price(leg.exitPrice),
            "move": String(format: "%+.2f%%", move * 100), "pnl": String(format: "%+.2f", leg.pnl),
            "signal_id": leg.signalID, "tenant": tenant, "time": UTCTime.iso8601(ns: leg.exitNs),
        ]
        timeNs = leg.exitNs
        signalID = leg.signalID
        color = leg.pnl > 0 ? "green" : leg.pnl < 0 ? "red" : "grey"
    }

    /// A day's activity; `date` names the day covered ("2026-11-20").
    public init(summary activity: DailyActivity, tenant: String, date: String, atNs: Int64) {
        kind = .summary
        values = [
            "date": date, "signals": "\(activity.signals)", "trades": "\(activity.closedTrades)",
            "wins": "\(activity.wins)", "losses": "\(activity.closedTrades - activity.wins)",
            "win_rate": activity.closedTrades == 0 ? "n/a" : Self.percent(Double(activity.wins) / Double(activity.closedTrades)),
            "pnl": String(format: "%+.2f", activity.pnl), "tenant": tenant,
        ]
        timeNs = atNs
        signalID = nil
        color = "grey"
    }

    public init(alert message: String, tenant: String, destination: String, channel: String, atNs: Int64) {
        kind = .alert
        values = ["message": message, "tenant": tenant, "destination": destination, "channel": channel,
                  "time": UTCTime.iso8601(ns: atNs)]
        timeNs = atNs
        signalID = nil
        color = "grey"
    }

    // MARK: - Formats

    /// Up to 8 significant digits, no exponent, no trailing zeros:
    /// 65012.34, 3202.5, 0.000012345.
    static func price(_ value: Double) -> String {
        guard value.isFinite, value != 0 else { return value.isFinite ? "0" : "\(value)" }
        let integerDigits = Int(floor(log10(abs(value)))) + 1
        let decimals = min(max(8 - integerDigits, 0), 17)
        var text = String(format: "%.\(decimals)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    static func percent(_ fraction: Double) -> String { "\(Int((fraction * 100).rounded()))%" }

    static func timeframe(_ seconds: Int64) -> String { timeframeName(seconds: seconds) }
}

/// A day's figures for the summary, from the store.
public struct DailyActivity: Sendable, Equatable {
    public var signals: Int
    /// Positions closed in the period.
    public var closedTrades: Int
    /// Closed with a positive P&L.
    public var wins: Int
    /// Sum of the closed positions' P&L (fees included).
    public var pnl: Double

    public init(signals: Int, closedTrades: Int, wins: Int, pnl: Double) {
        self.signals = signals
        self.closedTrades = closedTrades
        self.wins = wins
        self.pnl = pnl
    }
}

/// A message ready for the outbox: the template's text and the payload
/// for rich formats (Discord embeds), both showing the same fields.
public struct RenderedMessage: Sendable, Equatable {
    public var text: String
    public var payloadJSON: String
}

extension MessageTemplate {
    /// Renders the text and builds the payload:
    /// `{"title", "color", "fields": [{"name", "value", "inline"}], "footer", "timestamp", "signal_id"}`
    /// where the title is made of the title fields the template uses
    /// ("LONG BTC-USDT 1m") and `fields` holds every other field it uses,
    /// in the template's order: a tier's payload carries nothing its text
    /// does not show. `signal_id` is there for signals and outcomes.
    public func message(_ values: MessageFields, tier: String) -> RenderedMessage {
        let used = fields
        let titleFields: [String] = switch kind {
        case .signal: ["side", "symbol", "timeframe"]
        case .outcome: ["event", "side", "symbol"]
        case .summary: ["date"]
        case .alert: []
        }
        let titleParts = titleFields.filter(used.contains).map { values[$0] }
        var title: String
        switch kind {
        case .signal: title = titleParts.isEmpty ? "Signal" : titleParts.joined(separator: " ")
        case .outcome:
            title = titleParts.isEmpty ? "Outcome"
                : used.contains("event") ? titleParts[0] + (titleParts.count > 1 ? ": " + titleParts.dropFirst().joined(separator: " ") : "")
                : titleParts.joined(separator: " ")
        case .summary: title = "Daily summary" + (titleParts.isEmpty ? "" : " " + titleParts[0])
        case .alert: title = "Alert"
        }
        let fieldList: [JSONValue] = used.filter { !titleFields.contains($0) }.map { name in
            .object(["name": .string(Self.label(name)), "value": .string(values[name]),
                     "inline": .bool(!["heads", "message", "targets"].contains(name))])
        }
        var payload: [String: JSONValue] = [
            "title": .string(title), "color": .string(values.color), "fields": .array(fieldList),
            "footer": .string("\(values["tenant"].isEmpty ? "alphaplus" : values["tenant"]) · \(tier)"),
            "timestamp": .string(UTCTime.iso8601(ns: values.timeNs)),
        ]
        if let signalID = values.signalID { payload["signal_id"] = .string(signalID) }
        return RenderedMessage(text: render(values), payloadJSON: JSONValue.object(payload).jsonText)
    }

    private static func label(_ field: String) -> String {
        switch field {
        case "pnl": "P&L"
        case "signal_id": "Signal"
        case "win_rate": "Win rate"
        case "trades": "Closed trades"
        case "wins": "Won"
        case "losses": "Lost"
        default: field.prefix(1).uppercased() + field.dropFirst()
        }
    }
}
