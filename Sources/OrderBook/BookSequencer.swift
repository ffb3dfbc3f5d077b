/// A break in a book's update sequence.
public struct SequenceBreak: Sendable, Equatable {
    /// The sequence the next delta should have carried: the snapshot's or
    /// last delta's last sequence + 1 (its `first_sequence`), or, where the
    /// venue chains by `prev_sequence`, that last sequence itself.
    public var expected: UInt64
    /// What it carried instead (`first_sequence` or `prev_sequence`).
    public var got: UInt64
    /// Update ids skipped: got − expected when got is ahead, else 0 (an
    /// overlap or a reordering).
    public var missing: UInt64
    /// Deltas applied to the book before the break.
    public var afterDeltasApplied: Int

    public init(expected: UInt64, got: UInt64, missing: UInt64, afterDeltasApplied: Int) {
        self.expected = expected
        self.got = got
        self.missing = missing
        self.afterDeltasApplied = afterDeltasApplied
    }
}

/// Decides what to do with each delta from the contract's sequence fields
/// alone (first, last, prev), whatever the venue:
///
/// - before the first snapshot, and after a break until the next one,
///   deltas are buffered (the builder bounds the buffer);
/// - after snapshot S, deltas with last ≤ S are already in it and dropped;
///   the first one after must bridge: first ≤ S + 1 (no prev: Binance spot
///   `U <= S+1 <= u`), or first ≤ S or prev == S (with prev: Binance
///   futures `U <= S <= u` or `pu == S`);
/// - from then on, each delta chains: prev == last applied when prev is
///   nonzero (futures `pu`), else first == last applied + 1 (spot);
/// - deltas with all three sequences 0 come from venues without sequence
///   numbers (Kraken, Bitfinex) and apply directly once synced.
struct BookSequencer {
    enum Verdict: Equatable {
        case apply, buffer, drop
        case gap(expected: UInt64, got: UInt64, missing: UInt64)
    }

    private enum State {
        case awaitingSnapshot
        case bridging(snapshot: UInt64)
        case chained(last: UInt64)
    }

    private var state = State.awaitingSnapshot

    var isSynced: Bool {
        if case .awaitingSnapshot = state { return false }
        return true
    }

    /// The last sequence the book holds, 0 before any.
    var lastSequence: UInt64 {
        switch state {
        case .awaitingSnapshot: 0
        case .bridging(let snapshot): snapshot
        case .chained(let last): last
        }
    }

    mutating func snapshotApplied(sequence: UInt64) {
        state = .bridging(snapshot: sequence)
    }

    /// After a checksum mismatch: nothing applies until the next snapshot.
    mutating func desynchronise() {
        state = .awaitingSnapshot
    }

    mutating func admit(first: UInt64, last: UInt64, prev: UInt64) -> Verdict {
        let sequenced = first != 0 || last != 0 || prev != 0
        switch state {
        case .awaitingSnapshot:
            return sequenced ? .buffer : .drop
        case _ where !sequenced:
            return .apply
        case .bridging(let snapshot):
            if last <= snapshot { return .drop }
            let bridges = prev != 0 ? (first <= snapshot || prev == snapshot) : first <= snapshot &+ 1
            return advance(bridges, first: first, last: last, prev: prev, from: snapshot)
        case .chained(let previous):
            let chains = prev != 0 ? prev == previous : first == previous &+ 1
            return advance(chains, first: first, last: last, prev: prev, from: previous)
        }
    }

    private mutating func advance(_ follows: Bool, first: UInt64, last: UInt64, prev: UInt64, from previous: UInt64) -> Verdict {
        if follows {
            state = .chained(last: last)
            return .apply
        }
        state = .awaitingSnapshot
        let (expected, got) = prev != 0 ? (previous, prev) : (previous &+ 1, first)
        return .gap(expected: expected, got: got, missing: got > expected ? got - expected : 0)
    }
}
