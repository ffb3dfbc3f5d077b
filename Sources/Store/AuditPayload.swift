import Trading

/// What an audit row records: its kind, its subject (the id it is about)
/// and the record's canonical JSON (the payload).
struct AuditRecord {
    enum Kind: String, CaseIterable {
        case riskDecision = "risk_decision"
        case signal
        case outcome
    }

    var kind: Kind
    var subject: String
    var content: CanonicalJSON

    /// "signal demo:binance:BTC-USDT:60:1700000000000", for errors and reports.
    var name: String { "\(kind.rawValue) \(subject)" }

    init(_ decision: RiskDecision) {
        kind = .riskDecision
        subject = decision.signalID
        content = decision.canonical
    }

    init(_ signal: Signal) {
        kind = .signal
        subject = signal.id
        content = signal.canonical
    }

    init(_ outcome: PositionOutcome) {
        kind = .outcome
        subject = outcome.signalID
        content = outcome.canonical
    }

    /// Why the store cannot keep this record exactly, or nil: NaN and
    /// infinities (SQLite turns NaN into NULL, JSON has neither) and a
    /// subject with a control character (the hash input separates its
    /// fields with newlines).
    var problem: String? {
        if let field = content.firstNonFiniteNumber() { return "\(field) is not a finite number" }
        if subject.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "the id contains a control character"
        }
        return nil
    }
}

// The payload of each record: every field, under its column's name.

extension RiskDecision {
    var canonical: CanonicalJSON {
        .object([
            "tenant": .string(tenant), "venue": .string(venue), "symbol": .string(symbol),
            "timeframe_s": .integer(timeframeSeconds), "side": .string(side.rawValue), "confidence": .number(confidence),
            "accepted": .bool(accepted), "rejection": rejection.map { .string($0.rawValue) } ?? .null,
            "detail": .string(detail), "signal_id": .string(signalID), "at_ns": .integer(atNs),
        ])
    }
}

extension HeadVote {
    var canonical: CanonicalJSON {
        .object([
            "head": .string(head), "plugin": .string(plugin), "status": .string(status.rawValue),
            "direction": .string(direction.rawValue), "confidence": .number(confidence),
            "calibrated_confidence": .number(calibratedConfidence), "weight": .number(weight),
            "rationale": .string(rationale), "error": .string(error),
        ])
    }
}

extension Signal {
    var canonical: CanonicalJSON {
        .object([
            "id": .string(id), "tenant": .string(tenant), "venue": .string(venue), "symbol": .string(symbol),
            "timeframe_s": .integer(timeframeSeconds), "side": .string(side.rawValue),
            "entry": .number(entry), "stop": .number(stop),
            "targets": .numbers(targets), "scale_out": .numbers(scaleOut),
            "quantity": .number(quantity), "confidence": .number(confidence), "high_confidence": .bool(highConfidence),
            "votes": .array(votes.map(\.canonical)),
            "created_at_ns": .integer(createdAtNs), "expires_at_ns": .integer(expiresAtNs),
        ])
    }
}

extension TradeLeg {
    var canonical: CanonicalJSON {
        .object([
            "signal_id": .string(signalID), "symbol": .string(symbol), "side": .string(side.rawValue),
            "entry_ns": .integer(entryNs), "entry_price": .number(entryPrice),
            "exit_ns": .integer(exitNs), "exit_price": .number(exitPrice),
            "quantity": .number(quantity), "fees": .number(fees), "pnl": .number(pnl),
            "reason": .string(reason.rawValue), "target": .integer(Int64(target)),
        ])
    }
}

extension PositionOutcome {
    var canonical: CanonicalJSON {
        .object([
            "signal_id": .string(signalID), "tenant": .string(tenant), "symbol": .string(symbol),
            "side": .string(side.rawValue), "entry_ns": .integer(entryNs), "entry_price": .number(entryPrice),
            "quantity": .number(quantity), "legs": .array(legs.map(\.canonical)),
            "final_reason": .string(finalReason.rawValue), "closed_at_ns": .integer(closedAtNs),
            "pnl": .number(pnl), "fees": .number(fees),
            "mae": .number(maxAdverseExcursion), "mfe": .number(maxFavourableExcursion),
        ])
    }
}

extension CanonicalJSON {
    /// A list of doubles, as the `targets` and `scale_out` columns hold it.
    static func numbers(_ values: [Double]) -> CanonicalJSON { .array(values.map(CanonicalJSON.number)) }
}
