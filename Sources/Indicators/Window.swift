/// The last `capacity` values of a series, oldest first once full. Its
/// storage is allocated once, so pushing never allocates.
struct Window {
    private(set) var storage: [Double]
    /// Where the next value goes; once full, also where the oldest one is.
    private(set) var next = 0
    private(set) var count = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a window holds at least one value")
        storage = [Double](repeating: 0, count: capacity)
    }

    var capacity: Int { storage.count }
    var isFull: Bool { count == storage.count }

    /// The oldest value (the next to be overwritten), once full.
    var oldest: Double { storage[next] }

    mutating func push(_ value: Double) {
        storage[next] = value
        next += 1
        if next == storage.count { next = 0 }
        if count < storage.count { count += 1 }
    }

    /// Highest and lowest of the values held.
    var extremes: (highest: Double, lowest: Double) {
        var highest = -Double.infinity, lowest = Double.infinity
        for index in 0..<count {
            let value = storage[index]
            if value > highest { highest = value }
            if value < lowest { lowest = value }
        }
        return (highest, lowest)
    }
}

/// TA-Lib's test for "zero" on a double (TA_IS_ZERO), used where TA-Lib
/// uses it so that outputs agree on flat series.
@inline(__always)
func isNearZero(_ value: Double) -> Bool { -1e-14 < value && value < 1e-14 }
