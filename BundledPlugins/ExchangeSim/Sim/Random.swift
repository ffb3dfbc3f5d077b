import Foundation

/// xoshiro256** seeded through SplitMix64: a small, fast generator whose
/// output depends only on the seed (never the system RNG), so a simulated
/// market replays identically for the same seed on every machine.
struct SimRandom {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }

    /// Uniform in [0, 1), 53 bits.
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in 0..<bound.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// Standard normal (Box–Muller; the second value is dropped to keep the
    /// stream of draws simple to follow).
    mutating func normal() -> Double {
        let u1 = 1 - uniform() // in (0, 1]: log stays finite
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * uniform())
    }

    /// Exponential with the given mean.
    mutating func exponential(mean: Double) -> Double { -log(1 - uniform()) * mean }
}
