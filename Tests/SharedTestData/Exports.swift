// SplitMix64 lives in TestRandom, which the benchmarks can link without
// XCTest; the tests keep finding it here.
@_exported import TestRandom
