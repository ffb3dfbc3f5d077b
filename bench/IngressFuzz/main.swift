import Foundation
import IngressFuzzing

// The admin query parser's fuzzing (IngressTests runs 20,000 cases) for
// longer: ALPHAPLUS_FUZZ_ITERATIONS (default 2,000,000) cases from seed
// ALPHAPLUS_FUZZ_SEED (default the clock). Prints the rate, how many were
// accepted and refused, and every finding; exits 1 when there is one.
let environment = ProcessInfo.processInfo.environment
let iterations = environment["ALPHAPLUS_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 2_000_000
let seed = environment["ALPHAPLUS_FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64(Date().timeIntervalSince1970 * 1000)
var fuzzer = QueryFuzzer(seed: seed)
let started = Date()
let batch = 100_000
while fuzzer.iterations < iterations {
    fuzzer.run(min(batch, iterations - fuzzer.iterations))
    let seconds = Date().timeIntervalSince(started)
    print("\(fuzzer.iterations) queries in \(String(format: "%.1f", seconds)) s (\(Int(Double(fuzzer.iterations) / seconds))/s), "
          + "\(fuzzer.accepted) accepted, \(fuzzer.refused) refused, \(fuzzer.findings.count) findings")
}
print("seed \(seed): \(fuzzer.iterations) iterations, \(fuzzer.findings.count) findings")
for finding in fuzzer.findings.prefix(50) { print("finding: \(finding)") }
exit(fuzzer.findings.isEmpty ? 0 : 1)
