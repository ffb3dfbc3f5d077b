// The cost of one ap.head.v1 evaluate through the C contract against a
// direct Swift call of the same head, measured in one run.
//
//     swift run -c release ContractBench [iterations]
import AlphaPlusJSON
import AlphaPlusSDK
import CAlphaPlus
import ExampleSwiftHead
import Foundation
import MarketData
import PluginRuntime

let iterations = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 10_000_000 : 10_000_000
let rounds = 5

func monotonicNs() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// Best of `rounds` (the least disturbed), in ns per call.
func measure(_ body: () -> Double) -> (nsPerCall: Double, checksum: Double) {
    var best = Double.infinity, checksum = 0.0
    for _ in 0..<rounds {
        let start = monotonicNs()
        checksum += body()
        best = min(best, Double(monotonicNs() - start) / Double(iterations))
    }
    return (best, checksum)
}

let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
let frame = FeatureFrameBuffer(venue: "sim", symbol: "BTC-USDT", timeframeSeconds: 60,
                               indicatorNames: ["ema_12", "ema_26", "rsi_14"], layoutID: 1)
frame.setValue(101, at: 0)
frame.setValue(100, at: 1)
frame.setValue(20, at: 2)

// Direct: the same head type, compiled into this binary, called in Swift.
let directHead = try MomentumHead(configuration: .init(threshold: 0.002))
let direct = measure {
    var sum = 0.0
    let view = FeatureFrame(frame.pointer)
    for _ in 0..<iterations { sum += (try? directHead.evaluate(view))?.confidence ?? 0 }
    return sum
}

// Through the contract: the bundled plugins, loaded with dlopen.
let services = HostServices()
let registry = PluginRegistry(services: services)
func contract(_ product: String, _ config: String) throws -> (nsPerCall: Double, checksum: Double) {
    let plugin = try registry.load(products.appendingPathComponent("lib\(product).so").path)
    let instance = try HostedInstance(plugin: plugin, tenantID: "bench", instanceID: product, config: try JSONValue(parsing: config), services: services)
    defer { instance.destroy() }
    return instance.withHead { head in
        var vote = ap_vote()
        var error = ap_error.empty()
        return measure {
            var sum = 0.0
            for _ in 0..<iterations {
                _ = head!.evaluate(frame.pointer, &vote, &error)
                sum += vote.confidence
            }
            return sum
        }
    }
}
let swiftPlugin = try contract("ap-example-swift-head", #"{"threshold":0.002}"#)
let cPlugin = try contract("ap-example-c-head", #"{"oversold":25,"overbought":75}"#)

precondition(direct.checksum > 0 && swiftPlugin.checksum == direct.checksum, "the plugin and the direct call must compute the same votes")
func format(_ value: Double) -> String { String(format: "%.2f", value) }
print("ap.head.v1 evaluate, \(iterations) calls, best of \(rounds) rounds")
print("  direct Swift call (MomentumHead.evaluate):      \(format(direct.nsPerCall)) ns/call")
print("  through the contract, Swift plugin (dlopen):    \(format(swiftPlugin.nsPerCall)) ns/call")
print("  through the contract, C plugin (dlopen):        \(format(cPlugin.nsPerCall)) ns/call")
print("  ratio contract/direct (same Swift head):        \(format(swiftPlugin.nsPerCall / direct.nsPerCall))x")
print("  overhead of the contract (Swift plugin - direct): \(format(swiftPlugin.nsPerCall - direct.nsPerCall)) ns/call")
func verdict(_ nsPerCall: Double) -> String { nsPerCall < 10 ? "met" : "NOT met" }
print("  target < 10 ns per call through the contract:   C plugin \(verdict(cPlugin.nsPerCall)), Swift plugin \(verdict(swiftPlugin.nsPerCall))")
