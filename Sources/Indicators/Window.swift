/// The last `capacity` values of a series, oldest first once full, in
/// memory owned by an `Arena`. A plain value with no reference counting,
/// so pushing costs a store and two compares.
struct Window {
    private let storage: UnsafeMutablePointer<Double>
    let capacity: Int
    /// Where the next value goes; once full, also where the oldest one is.
    private var next = 0
    private(set) var count = 0

    init(capacity: Int, in arena: inout Arena) {
        precondition(capacity > 0, "a window holds at least one value")
        self.capacity = capacity
        storage = arena.take(capacity)
    }

    var isFull: Bool { count == capacity }

    /// The oldest value (the next to be overwritten), once full.
    var oldest: Double { storage[next] }

    /// The values in storage order (not time order), for order-free sums.
    var values: UnsafeBufferPointer<Double> { UnsafeBufferPointer(start: storage, count: count) }

    mutating func push(_ value: Double) {
        storage[next] = value
        next += 1
        if next == capacity { next = 0 }
        if count < capacity { count += 1 }
    }

    /// Highest and lowest of the values held.
    var extremes: (highest: Double, lowest: Double) {
        var highest = -Double.infinity, lowest = Double.infinity
        for value in values {
            highest = value > highest ? value : highest
            lowest = value < lowest ? value : lowest
        }
        return (highest, lowest)
    }
}

/// One allocation holding every window of an indicator set.
struct Arena {
    let base: UnsafeMutablePointer<Double>
    let size: Int
    private var used = 0

    init(size: Int) {
        self.size = size
        base = .allocate(capacity: size)
        base.initialize(repeating: 0, count: size)
    }

    mutating func take(_ count: Int) -> UnsafeMutablePointer<Double> {
        precondition(used + count <= size, "the arena is sized for every window")
        defer { used += count }
        return base + used
    }
}

/// TA-Lib's test for "zero" on a double (TA_IS_ZERO), used where TA-Lib
/// uses it so that outputs agree on flat series.
@inline(__always)
func isNearZero(_ value: Double) -> Bool { -1e-14 < value && value < 1e-14 }
