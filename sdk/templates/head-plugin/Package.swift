// swift-tools-version: 6.0
import PackageDescription

// Point this at your copy of the AlphaPlus SDK: the `sdk/swift` folder of an
// AlphaPlus checkout or release (absolute, or relative to this file). The
// default works while the template sits in sdk/templates/head-plugin.
// SwiftPM names a path dependency after its folder, so keep the folder
// called `swift` (or change `package: "swift"` below to match).
let alphaPlusSDKPath = "../../swift"

let package = Package(
    name: "my-head",
    platforms: [.macOS(.v14)],
    products: [
        // The plugin: `swift build -c release` produces libmy-head.so, the
        // file the AlphaPlus host loads.
        .library(name: "my-head", type: .dynamic, targets: ["MyHead"]),
    ],
    dependencies: [
        .package(path: alphaPlusSDKPath),
    ],
    targets: [
        .target(name: "MyHead", dependencies: [
            .product(name: "AlphaPlusSDK", package: "swift"),
        ]),
        .testTarget(name: "MyHeadTests", dependencies: [
            "MyHead",
            .product(name: "AlphaPlusSDKTesting", package: "swift"),
        ]),
    ]
)
