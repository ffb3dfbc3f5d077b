// swift-tools-version: 6.0
// AlphaPlusSDK: what a plugin author builds against. It depends on nothing
// but the C contract (sdk/include/alphaplus/plugin.h) and Foundation.
import PackageDescription

let package = Package(
    name: "AlphaPlusSDK",
    products: [
        .library(name: "CAlphaPlus", targets: ["CAlphaPlus"]),
        .library(name: "AlphaPlusSDK", targets: ["AlphaPlusSDK"]),
        .library(name: "AlphaPlusSDKTesting", targets: ["AlphaPlusSDKTesting"]),
        .library(name: "AlphaPlusJSON", targets: ["AlphaPlusJSON"]),
        // Venue wire formats and market-data files, decoded into MarketEvents.
        .library(name: "AlphaPlusFeeds", targets: ["AlphaPlusFeeds"]),
        // UTC times as ns since the epoch: ISO 8601 text and back, no Foundation dates.
        .library(name: "AlphaPlusTime", targets: ["AlphaPlusTime"]),
    ],
    targets: [
        .target(name: "CAlphaPlus"),
        .target(name: "AlphaPlusJSON"),
        .target(name: "AlphaPlusSDK", dependencies: ["CAlphaPlus"]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "AlphaPlusTime"),
        .target(name: "AlphaPlusFeeds", dependencies: ["AlphaPlusSDK", "AlphaPlusTime", "CZlib"]),
        .testTarget(name: "AlphaPlusFeedsTests", dependencies: ["AlphaPlusFeeds"], exclude: ["Fixtures"]),
        .target(name: "AlphaPlusSDKTesting", dependencies: ["AlphaPlusSDK", "AlphaPlusJSON"]),
        .testTarget(name: "AlphaPlusSDKTests", dependencies: ["AlphaPlusSDK", "AlphaPlusSDKTesting"]),
        .testTarget(name: "AlphaPlusJSONTests", dependencies: ["AlphaPlusJSON"]),
    ]
)
