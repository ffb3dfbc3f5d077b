// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "AlphaPlus",
    platforms: [.macOS(.v15)],  // Synchronization.Mutex
    products: [
        .executable(name: "alphaplus", targets: ["alphaplus"]),
        // Bundled plugins: each a shared library the host loads with dlopen.
        .library(name: "ap-example-swift-head", type: .dynamic, targets: ["ExampleSwiftHead"]),
        .library(name: "ap-example-c-head", type: .dynamic, targets: ["ExampleCHead"]),
        .library(name: "ap-exchange-sim", type: .dynamic, targets: ["ExchangeSimEntry"]),
        .library(name: "ap-exchange-replay", type: .dynamic, targets: ["ExchangeReplayEntry"]),
        .library(name: "ap-news-replay", type: .dynamic, targets: ["NewsReplayEntry"]),
        .library(name: "ap-head-sentiment", type: .dynamic, targets: ["HeadSentimentEntry"]),
        .library(name: "ap-head-technical", type: .dynamic, targets: ["HeadTechnicalEntry"]),
        .library(name: "ap-head-orderflow", type: .dynamic, targets: ["HeadOrderflowEntry"]),
        .library(name: "ap-head-rules", type: .dynamic, targets: ["HeadRulesEntry"]),
        .library(name: "ap-channel-discord", type: .dynamic, targets: ["ChannelDiscordEntry"]),
        .library(name: "ap-channel-telegram", type: .dynamic, targets: ["ChannelTelegramEntry"]),
        .library(name: "ap-channel-twitter", type: .dynamic, targets: ["ChannelTwitterEntry"]),
        .library(name: "ap-webhook-stripe", type: .dynamic, targets: ["WebhookStripeEntry"]),
    ],
    dependencies: [
        // The SDK, used by path exactly as a third-party plugin uses it.
        .package(path: "sdk/swift"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        // The store: SQLite (the system's libsqlite3) and SHA-256 for the audit chain.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The HTTP ingress (webhooks, admin API, health, metrics) and the metrics facade it records to.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // Hummingbird's own dependencies that the ingress names directly (fields, the bound channel, graceful shutdown).
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The HTTP parts the ingress's connection limits watch (Hummingbird's own NIO HTTP types).
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Host metrics: exposed by the Prometheus backend (HostMetrics).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The host's one clock (wall, manual, the data's time) at the bottom of the graph.
        .target(name: "Timekeeping"),
        // Tenants' subscribers: identities, paid tiers and the rules that change them.
        .target(name: "Subscriptions"),
        .target(name: "PluginRuntime", dependencies: [
            "Timekeeping",  // now_ns and timers
            "Subscriptions",  // the subscription host services
            .product(name: "CAlphaPlus", package: "swift"),
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),  // the HMAC host service
            "HTTPClient",  // the HTTP host service
            .product(name: "AlphaPlusSDK", package: "swift"),  // HTTPRequest/HTTPResponse and their C forms
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // libcurl (the system's), with non-variadic shims for curl_easy_setopt and co.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Asynchronous HTTP over libcurl's multi interface, for the host's HTTP service.
        .target(name: "HTTPClient", dependencies: ["CCurl", .product(name: "AlphaPlusSDK", package: "swift")]),
        // Technical indicators, incremental, equal to TA-Lib.
        .target(name: "Indicators"),
        // Ingest, candles and feature frames for the streams exchange plugins emit.
        .target(name: "MarketData", dependencies: [
            "Indicators", "OrderBook", "PluginRuntime",
            .product(name: "AlphaPlusSDK", package: "swift"),
            .product(name: "CAlphaPlus", package: "swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // Consensus, risk, signals, outcomes and the paper portfolio.
        .target(name: "Strategy", dependencies: [
            "PluginRuntime",
            .product(name: "AlphaPlusSDK", package: "swift"),
            .product(name: "CAlphaPlus", package: "swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // A backtest's report folder: report.json, trades.csv, signals.csv, report.html.
        .target(name: "BacktestReport", dependencies: [
            "Strategy", .product(name: "AlphaPlusFeeds", package: "swift"),  // UTCTime
        ]),
        // Tiers, templates and the outbox's dispatch of signals, exits, summaries and alerts to channel plugins.
        .target(name: "Distribution", dependencies: [
            "PluginRuntime", "Strategy", "Timekeeping",
            "Subscriptions",  // subscribers' destinations and tiers
            .product(name: "AlphaPlusSDK", package: "swift"),  // Delivery and RateLimit
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "AlphaPlusFeeds", package: "swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // The host's Prometheus registry: the one place the swift-metrics backend is bootstrapped (alphaplus run)
        // and the exposition text for /metrics, with every host metric's help and buckets.
        .target(name: "HostMetrics", dependencies: [
            "PluginRuntime", "MarketData", "Strategy", "Distribution", "Ingress",  // their metric descriptors
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The durable store: signals, votes, risk decisions, outcomes and the hash-chained audit log.
        .target(name: "Store", dependencies: [
            "Strategy",
            "Distribution",  // the outbox
            "PluginRuntime",  // instances' key/value state
            "Subscriptions",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "AlphaPlusFeeds", package: "swift"),
        ]),
        .target(name: "HostConfig", dependencies: [
            "Strategy",
            "HTTPClient",  // endpoint overrides are origins as the HTTP client parses them
            "Distribution",  // the distribution section's settings and templates
            .product(name: "AlphaPlusJSON", package: "swift"),
            "Yams",
        ]),
        // Order books rebuilt from the contract's book events.
        .target(name: "OrderBook", dependencies: [
            .product(name: "CAlphaPlus", package: "swift"),
            .product(name: "AlphaPlusSDK", package: "swift"),
        ]),
        // The live path on recorded data, with the data's own clock.
        .target(name: "Backtesting", dependencies: [
            "MarketData", "Strategy", "Timekeeping",
            .product(name: "AlphaPlusSDK", package: "swift"),
            .product(name: "CAlphaPlus", package: "swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The host's HTTP ingress: webhooks to plugin instances, the admin API, health, readiness and metrics.
        .target(name: "Ingress", dependencies: [
            "PluginRuntime", "Store", "Strategy", "Distribution", "Subscriptions",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),  // the HTTP/1 child channel, wrapped with the connection limits
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Crypto", package: "swift-crypto"),  // admin tokens are compared as SHA-256 digests
            .product(name: "AlphaPlusSDK", package: "swift"),  // WebhookRequest and WebhookResponse
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "AlphaPlusFeeds", package: "swift"),  // UTCTime
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Tenants at run time: their instances, shared connectors, strategies and distribution; the diff a reload applies.
        .target(name: "Tenancy", dependencies: [
            "Timekeeping",
            "HostConfig", "PluginRuntime", "MarketData", "Strategy", "Distribution", "Store", "Subscriptions",
            .product(name: "CAlphaPlus", package: "swift"),
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "Crypto", package: "swift-crypto"),  // connector ids and secret digests
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The host as a library: one value built from a configuration, a clock and adapters, started, driven and stopped.
        .target(name: "AlphaPlusHost", dependencies: [
            "Timekeeping", "PluginRuntime", "HostConfig", "MarketData", "Strategy", "Distribution", "Store", "Ingress", "Tenancy",
            "HostMetrics",  // /metrics
            .product(name: "CAlphaPlus", package: "swift"),
            .product(name: "AlphaPlusFeeds", package: "swift"),  // UTCTime in the reload status
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "Crypto", package: "swift-crypto"),  // the tenants folder's fingerprint
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "alphaplus", dependencies: [
            "AlphaPlusHost",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            "Timekeeping",
            "PluginRuntime", "HostConfig", "Strategy", "Backtesting", "BacktestReport", "Indicators", "MarketData", "OrderBook",
            "Store", "Ingress", "Tenancy",
            "HTTPClient",  // doctor reports libcurl's version
            "Distribution", "Subscriptions",
            "HostMetrics",
            .product(name: "AlphaPlusSDK", package: "swift"),
            .product(name: "CAlphaPlus", package: "swift"),
            .product(name: "AlphaPlusFeeds", package: "swift"),
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .target(name: "ExampleSwiftHead", dependencies: [.product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/ExampleSwiftHead"),
        // Built against the header alone: no SDK module, just the include path.
        .target(name: "ExampleCHead", path: "Plugins/ExampleCHead", publicHeadersPath: ".",
                cSettings: [.headerSearchPath("../../sdk/include")]),

        // Connector plugins. Each entry point is a target of its own so that the
        // tests can link several plugins into one binary.
        .target(name: "ExchangeSim", dependencies: [.product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/ExchangeSim/Sim"),
        .target(name: "ExchangeSimEntry", dependencies: ["ExchangeSim", .product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/ExchangeSim/Entry"),
        .target(name: "ExchangeReplay", dependencies: [
            .product(name: "AlphaPlusSDK", package: "swift"), .product(name: "AlphaPlusFeeds", package: "swift"),
        ], path: "Plugins/ExchangeReplay/Replay"),
        .target(name: "ExchangeReplayEntry", dependencies: ["ExchangeReplay", .product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/ExchangeReplay/Entry"),
        .target(name: "NewsReplay", dependencies: [
            .product(name: "AlphaPlusSDK", package: "swift"), .product(name: "AlphaPlusFeeds", package: "swift"),
            .product(name: "AlphaPlusJSON", package: "swift"),
        ], path: "Plugins/NewsReplay/Replay"),
        .target(name: "NewsReplayEntry", dependencies: ["NewsReplay", .product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/NewsReplay/Entry"),

        // Head plugins with a logic target and an entry target, like the connectors.
        .target(name: "HeadSentiment", dependencies: [.product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/HeadSentiment/Head"),
        .target(name: "HeadSentimentEntry", dependencies: ["HeadSentiment", .product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/HeadSentiment/Entry"),

        // Bundled model heads, each a logic target and an entry target like the connectors.
        .target(name: "HeadTechnical", dependencies: [.product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/HeadTechnical/Head"),
        .target(name: "HeadTechnicalEntry", dependencies: ["HeadTechnical", .product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/HeadTechnical/Entry"),
        .target(name: "HeadOrderflow", dependencies: [.product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/HeadOrderflow/Head"),
        .target(name: "HeadOrderflowEntry", dependencies: ["HeadOrderflow", .product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/HeadOrderflow/Entry"),
        .target(name: "HeadRules", dependencies: [
            .product(name: "AlphaPlusSDK", package: "swift"), .product(name: "AlphaPlusJSON", package: "swift"),
        ], path: "Plugins/HeadRules/Head"),
        .target(name: "HeadRulesEntry", dependencies: ["HeadRules", .product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/HeadRules/Entry"),

        // Distribution channels, each a logic target and an entry target like the heads.
        .target(name: "ChannelDiscord", dependencies: [
            .product(name: "AlphaPlusSDK", package: "swift"), .product(name: "AlphaPlusJSON", package: "swift"),
        ], path: "Plugins/ChannelDiscord/Discord"),
        .target(name: "ChannelDiscordEntry", dependencies: ["ChannelDiscord", .product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/ChannelDiscord/Entry"),
        .target(name: "ChannelTelegram", dependencies: [
            .product(name: "AlphaPlusSDK", package: "swift"), .product(name: "AlphaPlusJSON", package: "swift"),
        ], path: "Plugins/ChannelTelegram/Telegram"),
        .target(name: "ChannelTelegramEntry", dependencies: ["ChannelTelegram", .product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/ChannelTelegram/Entry"),
        .target(name: "ChannelTwitter", dependencies: [
            .product(name: "AlphaPlusSDK", package: "swift"), .product(name: "AlphaPlusJSON", package: "swift"),
        ], path: "Plugins/ChannelTwitter/Channel"),
        .target(name: "ChannelTwitterEntry", dependencies: ["ChannelTwitter", .product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/ChannelTwitter/Entry"),

        // Inbound webhooks: Stripe events to the tenant's subscribers, a logic target and an entry target.
        .target(name: "WebhookStripe", dependencies: [
            .product(name: "AlphaPlusSDK", package: "swift"), .product(name: "AlphaPlusJSON", package: "swift"),
        ], path: "Plugins/WebhookStripe/Webhook"),
        .target(name: "WebhookStripeEntry", dependencies: ["WebhookStripe", .product(name: "AlphaPlusSDK", package: "swift")],
                path: "Plugins/WebhookStripe/Entry"),

        .executableTarget(name: "ContractBench", dependencies: [
            "PluginRuntime", "ExampleSwiftHead",
            .product(name: "CAlphaPlus", package: "swift"),
        ], path: "bench/ContractBench"),

        // Fakes of the Discord, Telegram and X APIs that answer as the real ones document.
        .target(name: "FakeChannelServers", dependencies: [
            .product(name: "AlphaPlusSDK", package: "swift"),
            .product(name: "AlphaPlusJSON", package: "swift"),
            "ChannelTwitter",  // FakeX checks signatures and lengths with the plugin's (cross-checked) functions
            .product(name: "Crypto", package: "swift-crypto"),  // FakeX's HMAC-SHA1
        ], path: "Tests/FakeChannelServers"),
        // A whole host in the test's process on a manual clock (HostHarness), as HummingbirdTesting serves an application.
        .target(name: "HostTesting", dependencies: [
            "AlphaPlusHost", "HostConfig", "Store", "Timekeeping",
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/HostTesting"),
        // Finds ../shared/data for the tests that read real market data.
        .target(name: "SharedTestData", dependencies: [
            "TestRandom",
            "HostConfig",  // HostConfigFiles
            .product(name: "Logging", package: "swift-log"),  // LogLines
        ], path: "Tests/SharedTestData"),
        // SplitMix64, without XCTest, so that benchmarks draw the tests' random cases too.
        .target(name: "TestRandom", path: "Tests/TestRandom"),
        // Webhook and head plugins for the ingress tests, on the SDK only.
        .target(name: "IngressTestPlugins", dependencies: [.product(name: "AlphaPlusSDK", package: "swift")],
                path: "Tests/IngressTestPlugins"),
        // Random and mutated query strings against the admin API's query parser (IngressTests and IngressFuzz).
        .target(name: "IngressFuzzing", dependencies: ["Ingress", "TestRandom"], path: "Tests/IngressFuzzing"),
        // Counts heap allocations in the benchmarks (replaces malloc and co.).
        .target(name: "AllocationCounter", path: "bench/AllocationCounter"),
        // The benchmarks' clock and peak-memory reading.
        .target(name: "BenchSupport", path: "bench/BenchSupport"),
        .executableTarget(name: "MarketDataBench", dependencies: [
            "MarketData", "Indicators", "OrderBook", "AllocationCounter", "BenchSupport",
            "HostMetrics",  // measured with the Prometheus backend
            "PluginRuntime",  // a linked exchange plugin emitting through the services table
            .product(name: "CAlphaPlus", package: "swift"),
            .product(name: "AlphaPlusFeeds", package: "swift"),
            .product(name: "AlphaPlusSDK", package: "swift"),
            .product(name: "AlphaPlusJSON", package: "swift"),
        ], path: "bench/MarketDataBench", swiftSettings: [.swiftLanguageMode(.v5)]),  // top-level script state

        .executableTarget(name: "StrategyBench", dependencies: [
            "Timekeeping",
            "Backtesting", "Strategy", "PluginRuntime", "AllocationCounter", "BenchSupport",
            "HostMetrics",  // measured with the Prometheus backend
            .product(name: "AlphaPlusSDK", package: "swift"),
            .product(name: "AlphaPlusFeeds", package: "swift"),
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "CAlphaPlus", package: "swift"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "bench/StrategyBench"),

        // The outbox's throughput and a 10,000-subscriber fan-out, over real HTTP to the fakes.
        .executableTarget(name: "DistributionBench", dependencies: [
            "Timekeeping",
            "Distribution", "Store", "PluginRuntime", "Strategy", "HTTPClient", "ChannelTelegram", "FakeChannelServers", "BenchSupport",
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "AlphaPlusSDK", package: "swift"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "bench/DistributionBench"),

        // The admin query parser fuzzed for as long as one likes (ALPHAPLUS_FUZZ_ITERATIONS, ALPHAPLUS_FUZZ_SEED).
        .executableTarget(name: "IngressFuzz", dependencies: ["IngressFuzzing"], path: "bench/IngressFuzz"),
        // A running `alphaplus run` under busy and idle clients and reloads, for SOAK_SECONDS (default 30 minutes).
        .executableTarget(name: "SoakBench", path: "bench/SoakBench"),

        // The host as a library (HostApplication), driven in process by HostHarness on a manual clock.
        .testTarget(name: "HostTests", dependencies: [
            "AlphaPlusHost", "HostTesting", "FakeChannelServers", "Store", "Strategy",
        ]),
        .testTarget(name: "TenancyTests", dependencies: [
            "Tenancy", "HostConfig", "PluginRuntime", "MarketData", "Strategy", "Store", "SharedTestData", "Timekeeping",
            .product(name: "CAlphaPlus", package: "swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "PluginRuntimeTests", dependencies: [
            "PluginRuntime", "HostConfig", "SharedTestData",
            "Backtesting", "Strategy", "Timekeeping",  // plugins' clock in a backtest
            .product(name: "CAlphaPlus", package: "swift"),
            "HTTPClient", "FakeChannelServers",  // the HTTP service against a loopback server
            .product(name: "AlphaPlusSDK", package: "swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "MetricsTestKit", package: "swift-metrics"),
        ], exclude: ["Fixtures"]),
        .testTarget(name: "HTTPClientTests", dependencies: [
            "HTTPClient", "FakeChannelServers",
            .product(name: "AlphaPlusSDK", package: "swift"),
        ]),
        .testTarget(name: "StrategyTests", dependencies: [
            "Strategy", "HostConfig", "SharedTestData", "PluginRuntime", "MarketData",
            .product(name: "AlphaPlusSDK", package: "swift"),
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "MetricsTestKit", package: "swift-metrics"),
        ]),
        .testTarget(name: "IndicatorsTests", dependencies: [
            "Indicators", "SharedTestData",
            .product(name: "AlphaPlusFeeds", package: "swift"),
        ]),
        .testTarget(name: "MarketDataTests", dependencies: [
            "MarketData", "Indicators", "SharedTestData",
            .product(name: "AlphaPlusSDK", package: "swift"),
            .product(name: "AlphaPlusFeeds", package: "swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "MetricsTestKit", package: "swift-metrics"),
        ]),
        .testTarget(name: "OrderBookTests", dependencies: [
            "OrderBook", "SharedTestData",
            .product(name: "AlphaPlusFeeds", package: "swift"),
            .product(name: "CAlphaPlus", package: "swift"),
        ], exclude: ["Fixtures"]),
        .testTarget(name: "OutcomeTests", dependencies: ["Strategy", "BacktestReport", "SharedTestData"]),
        .testTarget(name: "ExamplePluginTests", dependencies: [
            "ExampleSwiftHead",
            .product(name: "AlphaPlusSDKTesting", package: "swift"),
        ]),
        .testTarget(name: "NewsSentimentTests", dependencies: [
            "NewsReplay", "HeadSentiment", "ExchangeSim",
            .product(name: "AlphaPlusSDKTesting", package: "swift"),
            .product(name: "AlphaPlusFeeds", package: "swift"),
        ]),
        .testTarget(name: "StoreTests", dependencies: [
            "Store", "Strategy", "SharedTestData", "Subscriptions",
            "PluginRuntime", .product(name: "CAlphaPlus", package: "swift"),  // plugin state through the services table
            .product(name: "AlphaPlusSDK", package: "swift"),  // reading the subscription services' answers
            .product(name: "Logging", package: "swift-log"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "DistributionTests", dependencies: [
            "Timekeeping",
            "Distribution", "Store", "PluginRuntime", "HostConfig", "Strategy", "SharedTestData", "Subscriptions",
            .product(name: "AlphaPlusSDK", package: "swift"),
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "MetricsTestKit", package: "swift-metrics"),
        ]),
        // The Prometheus backend end to end: the real components recording into a registry, its text
        // parsed; plugins' metrics through the services table; allocations on the emit path.
        .testTarget(name: "HostMetricsTests", dependencies: [
            "Timekeeping",
            "HostMetrics", "PluginRuntime", "MarketData", "Strategy", "Distribution", "Store", "AllocationCounter",
            .product(name: "AlphaPlusSDK", package: "swift"),
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "CAlphaPlus", package: "swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // Faults and the demo end to end: the alphaplus binary or PluginRuntime + Distributor, the built
        // channel plugins (.build/debug/*.so), the curl HTTP service and the fakes on loopback.
        .testTarget(name: "DistributionFaultTests", dependencies: [
            "HostTesting",  // the host in process on a manual clock
            "Timekeeping",
            "Distribution", "Store", "PluginRuntime", "HostConfig", "HTTPClient", "Strategy", "FakeChannelServers", "SharedTestData",
            "ChannelTwitter",  // OAuth1Credentials for FakeX, TwitterText to weigh the Tweets
            "Subscriptions", "Ingress",
            .product(name: "Crypto", package: "swift-crypto"),  // signing Stripe events and Telegram deep links
            .product(name: "AlphaPlusSDK", package: "swift"),
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The HTTP ingress in process (webhooks to test plugins, the admin API against docs/admin-api.yaml) and through `alphaplus run`.
        .testTarget(name: "IngressTests", dependencies: [
            "Ingress", "IngressTestPlugins", "IngressFuzzing", "PluginRuntime", "Store", "Strategy", "Distribution", "HostConfig",
            "SharedTestData", "Yams",
            .product(name: "AlphaPlusSDK", package: "swift"),
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "InMemoryLogging", package: "swift-log"),
            .product(name: "MetricsTestKit", package: "swift-metrics"),
        ], exclude: ["check_openapi.py"]),
        .testTarget(name: "ExchangePluginTests", dependencies: [
            "ExchangeSim", "ExchangeReplay", "SharedTestData", "OrderBook",
            .product(name: "AlphaPlusSDKTesting", package: "swift"),
            .product(name: "AlphaPlusFeeds", package: "swift"),
        ]),
        .testTarget(name: "ChannelPluginTests", dependencies: [
            "ChannelDiscord", "ChannelTelegram", "FakeChannelServers", "SharedTestData",
            .product(name: "AlphaPlusSDKTesting", package: "swift"),
            .product(name: "AlphaPlusJSON", package: "swift"),
        ], exclude: ["crosscheck_escape_markdown.py", "crosscheck_link_token.py"]),
        .testTarget(name: "TwitterChannelTests", dependencies: [
            "ChannelTwitter", "FakeChannelServers", "SharedTestData",
            .product(name: "AlphaPlusSDKTesting", package: "swift"),
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["crosscheck_oauth1.py", "crosscheck_twitter_text.py"]),
        .testTarget(name: "StripeWebhookTests", dependencies: [
            "WebhookStripe", "SharedTestData",
            .product(name: "AlphaPlusSDKTesting", package: "swift"),
            .product(name: "AlphaPlusJSON", package: "swift"),
            .product(name: "Crypto", package: "swift-crypto"),  // signs test requests independently of the host's HMAC
        ], exclude: ["crosscheck_stripe_signature.py"]),
        // Tenant files read with every error at its file:line:column, validated against the bundled plugins'
        // schemas (loaded from the built .so files) and secrets; the tenants and config commands.
        .testTarget(name: "HostConfigTests", dependencies: [
            "HostConfig", "SharedTestData", "PluginRuntime",
            .product(name: "AlphaPlusJSON", package: "swift"),
        ]),
        .testTarget(name: "HeadPluginTests", dependencies: [
            "HeadTechnical", "HeadOrderflow", "HeadRules", "AllocationCounter", "SharedTestData",
            .product(name: "AlphaPlusSDKTesting", package: "swift"),
        ]),
    ]
)
