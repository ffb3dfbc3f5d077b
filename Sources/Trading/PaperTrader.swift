/// What the paper trader refused, naming the tenant, the signal or bar and
/// the field. Nothing of a refused input is applied.
public struct PaperTradeError: Error, Equatable, CustomStringConvertible {
    public let tenant: String
    /// "signal <id>", "<venue>/<symbol> bar opening at <ns> ns" or "paper portfolio".
    public let subject: String
    public let field: String
    public let problem: String

    public init(tenant: String, subject: String, field: String, problem: String) {
        self.tenant = tenant
        self.subject = subject
        self.field = field
        self.problem = problem
    }

    public var description: String { "tenant \(tenant): \(subject): \(field): \(problem)" }
}

/// A tenant's outcome tracker and paper portfolio: fills each accepted
/// signal, moves its position through the bars of its venue and symbol and
/// reports every exit leg and every closed position. One per tenant, used
/// by one thread at a time. The rules are in docs/ARCHITECTURE.md,
/// "Outcomes and the paper portfolio".
public final class PaperTrader {
    public let tenant: String
    public let initialEquity: Double
    public let costs: CostModel
    /// Initial equity plus realised P&L (fees included).
    public private(set) var cash: Double
    public private(set) var openPositionCount = 0
    /// One point per distinct bar close time; a bar closing at or before the
    /// last point's time updates that point.
    public private(set) var equityCurve: [EquityPoint] = []
    /// The highest of the initial equity and the equity curve's points.
    public var peakEquity: Double { max(settledPeak, equityCurve.last?.equity ?? initialEquity) }
    /// In closing order.
    public private(set) var closedPositions: [PositionOutcome] = []
    /// Every exit leg, in fill order.
    public private(set) var legs: [TradeLeg] = []

    private var books: [MarketKey: SymbolBook] = [:]
    /// The peak of the initial equity and every curve point but the last
    /// (which a bar closing at the same time may still change).
    private var settledPeak: Double
    /// Σ of the books' `unrealised`, kept as they change so that a bar costs
    /// O(positions of its symbol).
    private var unrealised = 0.0
    private var openedSignalIDs: Set<String> = []
    private var positionsOpened = 0
    // Reused across bars: what a bar produced, handed to the callbacks once
    // the portfolio is consistent again.
    private var barLegs: [TradeLeg] = []
    private var barClosed: [PositionOutcome] = []

    /// Cash plus the open positions marked to their symbol's last close,
    /// less the entry fees they have not been charged yet.
    public var equity: Double { cash + unrealised }

    public init(tenant: String, initialEquity: Double, costs: CostModel) throws {
        func refuse(_ field: String, _ problem: String) -> PaperTradeError {
            PaperTradeError(tenant: tenant, subject: "paper portfolio", field: field, problem: problem)
        }
        guard initialEquity.isFinite, initialEquity > 0 else { throw refuse("initial_equity", "\(initialEquity) is not a positive number") }
        for (field, value) in [("maker_fee", costs.makerFee), ("taker_fee", costs.takerFee), ("slippage_bps", costs.slippageBps)]
        where !(value.isFinite && value >= 0) {
            throw refuse("costs.\(field)", "\(value) is not a number ≥ 0")
        }
        self.tenant = tenant
        self.initialEquity = initialEquity
        self.costs = costs
        cash = initialEquity
        settledPeak = initialEquity
    }

    /// Open positions of `symbol`, on any venue.
    public func openPositionCount(symbol: String) -> Int {
        books.reduce(0) { $0 + ($1.key.symbol == symbol ? $1.value.positions.count : 0) }
    }

    /// Fills `signal` at its entry with taker slippage, at its creation time.
    /// Throws, opening nothing, for a signal that is not a consistent trade
    /// (wrong tenant, reused id, stop or targets on the wrong side, …) or
    /// that was created before a bar of its symbol already applied.
    public func open(_ signal: Signal) throws {
        let key = MarketKey(venue: signal.venue, symbol: signal.symbol)
        try validate(signal, book: books[key])
        let position = PaperPosition(signal: signal, sequence: positionsOpened, costs: costs)
        let book: SymbolBook
        if let existing = books[key] {
            book = existing
        } else {
            book = SymbolBook(mark: signal.entry, markNs: signal.createdAtNs)
            books[key] = book
        }
        // The signal's entry is its frame's close: the newest price unless a
        // later bar already marked the book.
        if signal.createdAtNs >= book.markNs {
            book.mark = signal.entry
            book.markNs = signal.createdAtNs
        }
        book.positions.append(position)
        openedSignalIDs.insert(signal.id)
        positionsOpened += 1
        openPositionCount += 1
        revalue(book)
    }

    /// Applies a closed bar: moves the positions of its venue and symbol,
    /// records the equity at its close, then reports the legs and the closed
    /// positions in fill order. Bars of one venue and symbol come in time
    /// order; a bar of a symbol with open positions that opens before the
    /// previous one closed, or whose prices are not a bar, is refused.
    public func onBar(_ bar: MarketBar, onLeg: (TradeLeg) -> Void, onClose: (PositionOutcome) -> Void) throws {
        let key = MarketKey(venue: bar.venue, symbol: bar.symbol)
        if let book = books[key] {
            try validate(bar, book: book)
            book.lastBarCloseNs = bar.closeTimeNs
            if bar.closeTimeNs >= book.markNs {
                book.mark = bar.close
                book.markNs = bar.closeTimeNs
            }
            for index in book.positions.indices {
                book.positions[index].advance(over: bar, costs: costs, newLegs: &barLegs)
            }
            bookNewLegs()
            settleClosedPositions(of: book, key: key)
        }
        recordEquity(at: bar.closeTimeNs)
        report(onLeg: onLeg, onClose: onClose)
    }

    /// Closes every open position at its symbol's last close (taker,
    /// slippage), `end_of_data` at `atNs`, in the order they were opened.
    public func closeAll(atNs: Int64, onLeg: (TradeLeg) -> Void, onClose: (PositionOutcome) -> Void) {
        let open = books.values.flatMap { book in book.positions.map { (book.mark, $0) } }
            .sorted { $0.1.sequence < $1.1.sequence }
        for (mark, var position) in open {
            position.closeAtEndOfData(price: mark, ns: atNs, costs: costs, newLegs: &barLegs)
            barClosed.append(position.outcome())
        }
        bookNewLegs()
        closedPositions.append(contentsOf: barClosed)
        books.removeAll()
        openPositionCount = 0
        unrealised = 0
        recordEquity(at: atNs)
        report(onLeg: onLeg, onClose: onClose)
    }

    // MARK: - Bookkeeping

    /// Realises the legs the current bar (or the close-out) produced.
    private func bookNewLegs() {
        for leg in barLegs {
            cash += leg.pnl
        }
        legs.append(contentsOf: barLegs)
    }

    private func settleClosedPositions(of book: SymbolBook, key: MarketKey) {
        for position in book.positions where position.isClosed {
            barClosed.append(position.outcome())
        }
        if !barClosed.isEmpty {
            closedPositions.append(contentsOf: barClosed)
            book.positions.removeAll { $0.isClosed }
            openPositionCount -= barClosed.count
        }
        if book.positions.isEmpty {
            unrealised -= book.unrealised
            books[key] = nil
            // Nothing open: exactly zero, not the float residue of the deltas.
            if books.isEmpty { unrealised = 0 }
        } else {
            revalue(book)
        }
    }

    private func revalue(_ book: SymbolBook) {
        let value = book.positions.reduce(0) { $0 + $1.unrealised(at: book.mark) }
        unrealised += value - book.unrealised
        book.unrealised = value
    }

    private func recordEquity(at ns: Int64) {
        if let last = equityCurve.last, ns <= last.ns {
            equityCurve[equityCurve.count - 1].equity = equity
        } else {
            if let last = equityCurve.last { settledPeak = max(settledPeak, last.equity) }
            equityCurve.append(EquityPoint(ns: ns, equity: equity))
        }
    }

    private func report(onLeg: (TradeLeg) -> Void, onClose: (PositionOutcome) -> Void) {
        guard !barLegs.isEmpty || !barClosed.isEmpty else { return }
        // Swapped out first: a callback may read the portfolio.
        let newLegs = barLegs, newlyClosed = barClosed
        barLegs.removeAll(keepingCapacity: true)
        barClosed.removeAll(keepingCapacity: true)
        newLegs.forEach(onLeg)
        newlyClosed.forEach(onClose)
    }

    // MARK: - Validation

    private func validate(_ signal: Signal, book: SymbolBook?) throws {
        func refuse(_ field: String, _ problem: String) -> PaperTradeError {
            PaperTradeError(tenant: tenant, subject: "signal \(signal.id.isEmpty ? "(no id)" : signal.id)", field: field, problem: problem)
        }
        let sign = signal.side.sign
        guard signal.tenant == tenant else { throw refuse("tenant", "\"\(signal.tenant)\" is another tenant's") }
        guard !signal.id.isEmpty else { throw refuse("id", "is empty") }
        guard !openedSignalIDs.contains(signal.id) else { throw refuse("id", "was already opened") }
        guard signal.quantity.isFinite, signal.quantity > 0 else { throw refuse("quantity", "\(signal.quantity) is not a positive number") }
        guard signal.entry.isFinite, signal.entry > 0 else { throw refuse("entry", "\(signal.entry) is not a positive price") }
        guard signal.stop.isFinite, signal.stop > 0, sign * (signal.entry - signal.stop) > 0 else {
            throw refuse("stop", "\(signal.stop) is not a positive price on the losing side of the entry \(signal.entry) for a \(signal.side.rawValue)")
        }
        guard signal.scaleOut.count == signal.targets.count else {
            throw refuse("scale_out", "has \(signal.scaleOut.count) fractions for \(signal.targets.count) targets")
        }
        var previous = signal.entry
        for (index, target) in signal.targets.enumerated() {
            guard target.isFinite, sign * (target - previous) > 0 else {
                throw refuse("targets[\(index)]", "\(target) is not beyond \(index == 0 ? "the entry" : "the previous target") \(previous) for a \(signal.side.rawValue)")
            }
            previous = target
            let fraction = signal.scaleOut[index]
            guard fraction > 0, fraction <= 1 else { throw refuse("scale_out[\(index)]", "\(fraction) is not in (0, 1]") }
        }
        if let last = signal.scaleOut.last, last != 1 {
            throw refuse("scale_out[\(signal.scaleOut.count - 1)]", "\(last) is not 1: the last target closes the rest")
        }
        guard signal.expiresAtNs == 0 || signal.expiresAtNs > signal.createdAtNs else {
            throw refuse("expires_at", "\(signal.expiresAtNs) ns is not after the creation \(signal.createdAtNs) ns (0: no time exit)")
        }
        if let book, signal.createdAtNs < book.lastBarCloseNs {
            throw refuse("created_at", "\(signal.createdAtNs) ns is before the close \(book.lastBarCloseNs) ns of a bar of \(signal.venue)/\(signal.symbol) already applied")
        }
    }

    private func validate(_ bar: MarketBar, book: SymbolBook) throws {
        func refuse(_ field: String, _ problem: String) -> PaperTradeError {
            PaperTradeError(tenant: tenant, subject: "\(bar.venue)/\(bar.symbol) bar opening at \(bar.openTimeNs) ns", field: field, problem: problem)
        }
        guard bar.openTimeNs >= book.lastBarCloseNs else {
            throw refuse("open_time", "is before the previous bar's close \(book.lastBarCloseNs) ns (bars of a symbol come in time order, one timeframe)")
        }
        guard bar.closeTimeNs > bar.openTimeNs else { throw refuse("close_time", "\(bar.closeTimeNs) ns is not after the open time") }
        for (field, price) in [("open", bar.open), ("high", bar.high), ("low", bar.low), ("close", bar.close)]
        where !(price.isFinite && price > 0) {
            throw refuse(field, "\(price) is not a positive price")
        }
        guard bar.low <= min(bar.open, bar.close), bar.high >= max(bar.open, bar.close) else {
            throw refuse("high/low", "[\(bar.low), \(bar.high)] does not contain the open \(bar.open) and the close \(bar.close)")
        }
    }
}

/// A venue and symbol: the bars that move a position.
private struct MarketKey: Hashable {
    var venue: String
    var symbol: String
}

/// The open positions of one venue and symbol, and the price they are
/// marked to. A class so that a bar updates it in place.
private final class SymbolBook {
    var positions: [PaperPosition] = []
    /// The symbol's last close (or a newer signal's entry) and its time.
    var mark: Double
    var markNs: Int64
    /// The close time of the last bar applied; a bar must not open before it.
    var lastBarCloseNs = Int64.min
    /// Σ positions' unrealised value at `mark`, as counted in the portfolio's total.
    var unrealised = 0.0

    init(mark: Double, markNs: Int64) {
        self.mark = mark
        self.markNs = markNs
    }
}
