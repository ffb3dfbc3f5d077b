import AlphaPlusSDK
import CAlphaPlus

/// One aggregated price level.
public struct PriceLevel: Sendable, Equatable {
    /// As the venue last sent it (its digits kept for checksums).
    public var price: ExactDecimal
    public var size: ExactDecimal

    public init(price: ExactDecimal, size: ExactDecimal) {
        self.price = price
        self.size = size
    }
}

/// One side of an L2 book: levels sorted worst first and best LAST, so
/// that changes at the top of the book (most of them) insert or remove at
/// the end and move almost nothing. Lookups are binary searches.
struct BookSide {
    let isBid: Bool
    private(set) var levels: [PriceLevel] = []

    init(isBid: Bool, reserving capacity: Int) {
        self.isBid = isBid
        levels.reserveCapacity(capacity)
    }

    var best: PriceLevel? { levels.last }
    var count: Int { levels.count }

    /// The i-th best level (0 is the best).
    @inline(__always)
    func level(fromBest rank: Int) -> PriceLevel { levels[levels.count - 1 - rank] }

    /// -1, 0, 1 as `a` is worse than, as good as or better than `b` on this side.
    @inline(__always)
    private func rank(_ a: ExactDecimal, _ b: ExactDecimal) -> Int {
        let order = DecimalMath.compare(a, b)
        return isBid ? order : -order
    }

    /// The index of `price`, or where it would be inserted.
    @inline(__always)
    func search(_ price: ExactDecimal) -> (index: Int, found: Bool) {
        var low = 0, high = levels.count
        while low < high {
            let middle = (low + high) / 2
            let order = rank(levels[middle].price, price)
            if order == 0 { return (middle, true) }
            if order < 0 { low = middle + 1 } else { high = middle }
        }
        return (low, false)
    }

    /// Sets the level at `price` to `size`; size 0 removes it.
    mutating func set(price: ExactDecimal, size: ExactDecimal) {
        let (index, found) = search(price)
        if size.mantissa == 0 {
            if found { levels.remove(at: index) }
        } else if found {
            levels[index] = PriceLevel(price: price, size: size)
        } else {
            levels.insert(PriceLevel(price: price, size: size), at: index)
        }
    }

    /// Adds `change` (negative to take away) to the level at `price`,
    /// removing the level when it reaches 0. False on decimal overflow.
    mutating func add(price: ExactDecimal, change: ExactDecimal) -> Bool {
        let (index, found) = search(price)
        guard found else {
            if change.mantissa > 0 { levels.insert(PriceLevel(price: price, size: change), at: index) }
            return true
        }
        guard let size = DecimalMath.sum(levels[index].size, change) else { return false }
        if size.mantissa <= 0 { levels.remove(at: index) } else { levels[index].size = size }
        return true
    }

    /// Keeps the best `depth` levels (0: all).
    mutating func truncate(to depth: Int) {
        if depth > 0 && levels.count > depth { levels.removeFirst(levels.count - depth) }
    }

    /// Replaces the side with `entries` (any order; size 0 ignored; a
    /// repeated price keeps the last one).
    mutating func replace(with entries: UnsafeBufferPointer<ap_book_level>) {
        levels.removeAll(keepingCapacity: true)
        for entry in entries where entry.size.mantissa > 0 {
            levels.append(PriceLevel(price: ExactDecimal(entry.price), size: ExactDecimal(entry.size)))
        }
        let isBid = self.isBid
        levels.sort { isBid ? DecimalMath.compare($0.price, $1.price) < 0 : DecimalMath.compare($0.price, $1.price) > 0 }
        var kept = 0
        for index in levels.indices {
            if kept > 0 && DecimalMath.compare(levels[kept - 1].price, levels[index].price) == 0 {
                levels[kept - 1] = levels[index]
            } else {
                levels[kept] = levels[index]
                kept += 1
            }
        }
        levels.removeLast(levels.count - kept)
    }

    mutating func removeAll() { levels.removeAll(keepingCapacity: true) }
}
