import AlphaPlusJSON
import GRDB
import Trading

/// A row that cannot be read back into its record: a column with the wrong
/// type or an unknown enum value, which the store itself never writes.
struct UnreadableRow: Error, CustomStringConvertible {
    var description: String
}

/// Reads one table row's columns, naming the table, the row and the column
/// in every error instead of trapping as `row[column]` does.
struct ColumnReader {
    let row: Row
    /// "signals row demo:binance:BTC-USDT:60:1700000000000".
    let name: String

    private func failure(_ column: String, _ expected: String) -> UnreadableRow {
        UnreadableRow(description: "\(name): column \(column) holds \(row[column] as DatabaseValue), not \(expected)")
    }

    func string(_ column: String) throws -> String {
        guard let value = String.fromDatabaseValue(row[column]) else { throw failure(column, "text") }
        return value
    }

    func int64(_ column: String) throws -> Int64 {
        guard case .int64(let value) = (row[column] as DatabaseValue).storage else { throw failure(column, "an integer") }
        return value
    }

    func double(_ column: String) throws -> Double {
        guard case .double(let value) = (row[column] as DatabaseValue).storage else { throw failure(column, "a real number") }
        return value
    }

    /// The store writes booleans as 0 and 1; anything else was written by hand.
    func bool(_ column: String) throws -> Bool {
        switch (row[column] as DatabaseValue).storage {
        case .int64(0): return false
        case .int64(1): return true
        default: throw failure(column, "0 or 1")
        }
    }

    func value<Value: RawRepresentable & CaseIterable>(_ column: String, _ type: Value.Type) throws -> Value
        where Value.RawValue == String {
        guard let text = String.fromDatabaseValue(row[column]), let value = Value(rawValue: text) else {
            throw failure(column, "one of \(Value.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// A JSON array of numbers (`targets`, `scale_out`).
    func doubles(_ column: String) throws -> [Double] {
        let text = try string(column)
        guard case .array(let elements)? = try? JSONValue(parsing: text) else { throw failure(column, "a JSON array of numbers") }
        return try elements.map { element in
            guard case .number(let value) = element else { throw failure(column, "a JSON array of numbers") }
            return value
        }
    }
}

/// Records rebuilt from their rows, for the queries and the audit verifier.
enum RecordRows {
    static func riskDecision(_ row: Row) throws -> RiskDecision {
        let column = ColumnReader(row: row, name: "risk_decisions row \(row["id"] as DatabaseValue)")
        let rejection: RiskRejection? = (row["rejection"] as DatabaseValue).isNull
            ? nil : try column.value("rejection", RiskRejection.self)
        return RiskDecision(
            tenant: try column.string("tenant"), venue: try column.string("venue"), symbol: try column.string("symbol"),
            timeframeSeconds: try column.int64("timeframe_s"), side: try column.value("side", Side.self),
            confidence: try column.double("confidence"), accepted: try column.bool("accepted"), rejection: rejection,
            detail: try column.string("detail"), signalID: try column.string("signal_id"), atNs: try column.int64("at_ns"))
    }

    /// The signal of a `signals` row with its `votes` rows (in position order).
    static func signal(_ row: Row, votes: [Row]) throws -> Signal {
        let id = try ColumnReader(row: row, name: "signals row").string("id")
        let column = ColumnReader(row: row, name: "signals row \(id)")
        return Signal(
            id: id, tenant: try column.string("tenant"), venue: try column.string("venue"), symbol: try column.string("symbol"),
            timeframeSeconds: try column.int64("timeframe_s"), side: try column.value("side", Side.self),
            entry: try column.double("entry"), stop: try column.double("stop"),
            targets: try column.doubles("targets"), scaleOut: try column.doubles("scale_out"),
            quantity: try column.double("quantity"), confidence: try column.double("confidence"),
            highConfidence: try column.bool("high_confidence"), votes: try votes.map { try vote($0, of: id) },
            createdAtNs: try column.int64("created_at_ns"), expiresAtNs: try column.int64("expires_at_ns"))
    }

    private static func vote(_ row: Row, of signalID: String) throws -> HeadVote {
        let column = ColumnReader(row: row, name: "votes row \(signalID) #\(row["position"] as DatabaseValue)")
        return HeadVote(
            head: try column.string("head"), plugin: try column.string("plugin"),
            status: try column.value("status", VoteStatus.self), direction: try column.value("direction", VoteDirection.self),
            confidence: try column.double("confidence"), calibratedConfidence: try column.double("calibrated_confidence"),
            weight: try column.double("weight"), rationale: try column.string("rationale"), error: try column.string("error"))
    }

    /// The outcome of an `outcomes` row with its `trade_legs` rows (in position order).
    static func outcome(_ row: Row, legs: [Row]) throws -> PositionOutcome {
        let signalID = try ColumnReader(row: row, name: "outcomes row").string("signal_id")
        let column = ColumnReader(row: row, name: "outcomes row \(signalID)")
        return PositionOutcome(
            signalID: signalID, tenant: try column.string("tenant"), symbol: try column.string("symbol"),
            side: try column.value("side", Side.self), entryNs: try column.int64("entry_ns"),
            entryPrice: try column.double("entry_price"), quantity: try column.double("quantity"),
            legs: try legs.map(leg), finalReason: try column.value("final_reason", ExitReason.self),
            closedAtNs: try column.int64("closed_at_ns"), pnl: try column.double("pnl"), fees: try column.double("fees"),
            maxAdverseExcursion: try column.double("mae"), maxFavourableExcursion: try column.double("mfe"))
    }

    private static func leg(_ row: Row) throws -> TradeLeg {
        let signalID = try ColumnReader(row: row, name: "trade_legs row").string("signal_id")
        let column = ColumnReader(row: row, name: "trade_legs row \(signalID) #\(row["position"] as DatabaseValue)")
        return TradeLeg(
            signalID: signalID, symbol: try column.string("symbol"), side: try column.value("side", Side.self),
            entryNs: try column.int64("entry_ns"), entryPrice: try column.double("entry_price"),
            exitNs: try column.int64("exit_ns"), exitPrice: try column.double("exit_price"),
            quantity: try column.double("quantity"), fees: try column.double("fees"), pnl: try column.double("pnl"),
            reason: try column.value("reason", ExitReason.self), target: Int(try column.int64("target")))
    }

    static func votes(_ db: Database, of signalID: some DatabaseValueConvertible) throws -> [Row] {
        try Row.fetchAll(db, sql: "SELECT * FROM votes WHERE signal_id = ? ORDER BY position", arguments: [signalID])
    }

    static func legs(_ db: Database, of signalID: some DatabaseValueConvertible) throws -> [Row] {
        try Row.fetchAll(db, sql: "SELECT * FROM trade_legs WHERE signal_id = ? ORDER BY position", arguments: [signalID])
    }
}
