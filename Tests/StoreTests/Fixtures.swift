import Foundation
import GRDB
import Store
import Trading
import XCTest

/// A fresh store in a folder of its own (not created yet: the store makes
/// it), removed after the test.
func makeStore(_ test: XCTestCase, file: StaticString = #filePath, line: UInt = #line) throws -> HostStore {
    let folder = NSTemporaryDirectory() + "alphaplus-store-\(UUID().uuidString)/data"
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent) }
    return try HostStore(path: folder + "/alphaplus.sqlite", clock: { 1_700_000_000_123_456_789 })
}

/// A second connection to the store's file, as an operator with `sqlite3`
/// (or an attacker with file access) has.
func rawConnection(_ store: HostStore) throws -> DatabaseQueue {
    try DatabaseQueue(path: store.path)
}

/// What an attacker does first: the append-only triggers are gone.
func dropAuditTriggers(_ db: Database) throws {
    try db.execute(sql: "DROP TRIGGER audit_log_refuses_update; DROP TRIGGER audit_log_refuses_delete")
}

enum Sample {
    static let baseNs: Int64 = 1_700_000_000_000_000_000

    static func signal(tenant: String = "demo", minute: Int, symbol: String = "BTC-USDT") -> Signal {
        let createdAtNs = baseNs + Int64(minute) * 60_000_000_000
        return Signal(
            id: "\(tenant):binance:\(symbol):60:\(createdAtNs / 1_000_000)", tenant: tenant, venue: "binance", symbol: symbol,
            timeframeSeconds: 60, side: minute.isMultiple(of: 2) ? .long : .short,
            // Values whose text is easy to get wrong: 0.1 + 0.2, a subnormal, huge, many digits.
            entry: 65_000.123456789 + Double(minute), stop: 0.1 + 0.2, targets: [65_100.5, 1e-300, .leastNonzeroMagnitude],
            scaleOut: [0.5, 0.25, 1], quantity: 0.000_123_4, confidence: 0.7123456789012345, highConfidence: minute.isMultiple(of: 3),
            votes: [
                HeadVote(head: "technical", plugin: "com.alphaplus.example.momentum-swift", status: .ok, direction: .long,
                         confidence: 0.8, calibratedConfidence: 0.75, weight: 2, rationale: "ema 12 > ema 26, \"quoted\"\nnext line"),
                HeadVote(head: "sentiment", plugin: "com.example.sentiment", status: .timeout, direction: .flat,
                         confidence: 0, calibratedConfidence: 0, weight: 1, error: "no answer within 50 ms"),
                HeadVote(head: "ml", plugin: "com.example.ml", status: .missing, direction: .flat,
                         confidence: 0, calibratedConfidence: 0, weight: 1.5, rationale: "ünïcödé ✓", error: "not loaded"),
            ],
            createdAtNs: createdAtNs, expiresAtNs: minute.isMultiple(of: 2) ? createdAtNs + 3_600_000_000_000 : 0)
    }

    static func decision(for signal: Signal, rejection: RiskRejection? = nil) -> RiskDecision {
        RiskDecision(tenant: signal.tenant, venue: signal.venue, symbol: signal.symbol, timeframeSeconds: signal.timeframeSeconds,
                     side: signal.side, confidence: signal.confidence, accepted: rejection == nil, rejection: rejection,
                     detail: rejection == nil ? "kelly 0.031, size 0.0001234" : "open positions 5 of 5", signalID: signal.id,
                     atNs: signal.createdAtNs + 17)
    }

    static func outcome(for signal: Signal) -> PositionOutcome {
        let entryPrice = signal.entry * 1.0002
        let legs = [
            TradeLeg(signalID: signal.id, symbol: signal.symbol, side: signal.side, entryNs: signal.createdAtNs, entryPrice: entryPrice,
                     exitNs: signal.createdAtNs + 120_000_000_001, exitPrice: 65_100.5, quantity: signal.quantity / 2,
                     fees: 0.001_234_567, pnl: 0.012_345_678_9, reason: .takeProfit, target: 1),
            TradeLeg(signalID: signal.id, symbol: signal.symbol, side: signal.side, entryNs: signal.createdAtNs, entryPrice: entryPrice,
                     exitNs: signal.createdAtNs + 300_000_000_003, exitPrice: 64_999.99, quantity: signal.quantity / 2,
                     fees: 0.002_1, pnl: -0.003_3, reason: .stopLoss, target: 0),
        ]
        return PositionOutcome(signalID: signal.id, tenant: signal.tenant, symbol: signal.symbol, side: signal.side,
                               entryNs: signal.createdAtNs, entryPrice: entryPrice, quantity: signal.quantity, legs: legs,
                               finalReason: .stopLoss, closedAtNs: signal.createdAtNs + 300_000_000_003,
                               pnl: legs.map(\.pnl).reduce(0, +), fees: legs.map(\.fees).reduce(0, +),
                               maxAdverseExcursion: 12.25, maxFavourableExcursion: 100.375)
    }

    /// A small history: seq 1 decision, 2 signal, 3 rejected decision,
    /// 4 decision, 5 signal, 6 outcome of the first signal.
    static func history(into store: HostStore) throws -> (first: Signal, second: Signal) {
        let first = signal(minute: 1), second = signal(minute: 2)
        try store.record(decision(for: first))
        try store.record(first)
        try store.record(decision(for: signal(minute: 2, symbol: "ETH-USDT"), rejection: .maxOpenPositions))
        try store.record(decision(for: second))
        try store.record(second)
        try store.record(outcome(for: first))
        return (first, second)
    }
}
