import AlphaPlusTime
import Foundation
import Trading

/// trades.csv and signals.csv. Numbers are written with Swift's shortest
/// round-trip form, so that a reader recomputes them to the last bit;
/// times are ISO 8601 UTC with milliseconds.
enum ReportTables {
    static let tradesHeader = "signal_id,symbol,side,entry_ts,entry_price,exit_ts,exit_price,quantity,fees,pnl,exit_reason,target,entry_ns,exit_ns"

    /// One row per exit leg, in fill order.
    static func trades(_ legs: [TradeLeg]) -> String {
        var text = tradesHeader + "\n"
        for leg in legs {
            let fields = [
                csvField(leg.signalID), csvField(leg.symbol), leg.side.rawValue,
                UTCTime.iso8601(ns: leg.entryNs), "\(leg.entryPrice)",
                UTCTime.iso8601(ns: leg.exitNs), "\(leg.exitPrice)",
                "\(leg.quantity)", "\(leg.fees)", "\(leg.pnl)", leg.reason.rawValue, "\(leg.target)",
                "\(leg.entryNs)", "\(leg.exitNs)",
            ]
            text += fields.joined(separator: ",") + "\n"
        }
        return text
    }

    /// The heads of the signals' votes, in order of first appearance.
    static func heads(of signals: [Signal]) -> [String] {
        var seen: Set<String> = []
        return signals.flatMap(\.votes).map(\.head).filter { seen.insert($0).inserted }
    }

    /// A vote as "direction:confidence" ("long:0.72"); a head that did not
    /// answer, by its status ("timeout"); empty when the signal has no vote of it.
    static func voteCell(_ vote: HeadVote?) -> String {
        guard let vote else { return "" }
        return vote.status == .ok ? "\(vote.direction.rawValue):\(vote.confidence)" : vote.status.rawValue
    }

    /// One row per signal, a column per head ("head:<id>").
    static func signals(_ signals: [Signal]) -> String {
        let heads = heads(of: signals)
        let header = ["id", "created_at", "symbol", "timeframe_s", "side", "entry", "stop", "targets", "quantity",
                      "confidence", "high", "venue", "scale_out", "expires_at"] + heads.map { "head:\($0)" }
        var text = header.map(csvField).joined(separator: ",") + "\n"
        for signal in signals {
            var fields = [
                csvField(signal.id), UTCTime.iso8601(ns: signal.createdAtNs), csvField(signal.symbol),
                "\(signal.timeframeSeconds)", signal.side.rawValue, "\(signal.entry)", "\(signal.stop)",
                signal.targets.map { "\($0)" }.joined(separator: ";"), "\(signal.quantity)", "\(signal.confidence)",
                signal.highConfidence ? "true" : "false", csvField(signal.venue),
                signal.scaleOut.map { "\($0)" }.joined(separator: ";"),
                signal.expiresAtNs > 0 ? UTCTime.iso8601(ns: signal.expiresAtNs) : "",
            ]
            fields += heads.map { head in csvField(voteCell(signal.votes.first { $0.head == head })) }
            text += fields.joined(separator: ",") + "\n"
        }
        return text
    }

    /// RFC 4180: quoted when it holds a comma, a quote or a line break.
    static func csvField(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
