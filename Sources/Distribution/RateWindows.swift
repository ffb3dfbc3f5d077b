import struct AlphaPlusSDK.RateLimit
import PluginRuntime

/// The send times of one channel instance's rate-limit buckets, as sliding
/// windows: a bucket "capacity per window" allows a send at t only if
/// fewer than `capacity` sends fall in (t − window, t]. So every window of
/// that length, anywhere, holds at most `capacity` sends.
struct RateWindows {
    /// Per bucket, its sends still inside the longest window seen, oldest first.
    private var sends: [String: [Int64]] = [:]
    private var longestWindowNs: [String: Int64] = [:]

    /// The earliest time ≥ `now` at which every limit allows one more send.
    func earliestSend(_ limits: [RateLimit], now: Int64) -> Int64 {
        var earliest = now
        for limit in limits {
            guard let times = sends[limit.bucket] else { continue }
            let windowNs = Int64(limit.windowMs) * 1_000_000
            // Sends in (now − window, now]; the capacity-th newest of them
            // must leave the window first.
            let inside = times.reversed().prefix { $0 > now - windowNs }.count
            if inside >= limit.capacity {
                earliest = max(earliest, times[times.count - limit.capacity] + windowNs)
            }
        }
        return earliest
    }

    mutating func record(_ limits: [RateLimit], at now: Int64) {
        for limit in limits {
            let windowNs = Int64(limit.windowMs) * 1_000_000
            let longest = max(longestWindowNs[limit.bucket] ?? 0, windowNs)
            longestWindowNs[limit.bucket] = longest
            var times = sends[limit.bucket] ?? []
            times.append(now)
            // Older sends no window of this bucket can see again.
            if let firstKept = times.firstIndex(where: { $0 > now - longest }), firstKept > 0 {
                times.removeFirst(firstKept)
            }
            sends[limit.bucket] = times
        }
    }
}

/// A min-heap of (time, destination) wake-ups.
struct WakeHeap {
    private var items: [(ns: Int64, key: DestinationKey)] = []

    var first: (ns: Int64, key: DestinationKey)? { items.first }
    var isEmpty: Bool { items.isEmpty }

    mutating func push(_ ns: Int64, _ key: DestinationKey) {
        items.append((ns, key))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].ns < items[parent].ns else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (ns: Int64, key: DestinationKey)? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, items[left].ns < items[smallest].ns { smallest = left }
            if right < items.count, items[right].ns < items[smallest].ns { smallest = right }
            guard smallest != parent else { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}

/// SplitMix64: a seeded generator, so tests can replay the jitter.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
