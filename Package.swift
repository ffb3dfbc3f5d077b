// swift-tools-version: 6.0
import PackageDescription

// What other packages provide, by the names the targets below use. Plugins
// depend on the SDK alone (`sdk`, `sdkJSON`, `sdkFeeds`), as a third-party
// plugin does.
let sdk: Target.Dependency = .product(name: "AlphaPlusSDK", package: "swift")
let sdkJSON: Target.Dependency = .product(name: "AlphaPlusJSON", package: "swift")
let sdkFeeds: Target.Dependency = .product(name: "AlphaPlusFeeds", package: "swift")
let sdkTime: Target.Dependency = .product(name: "AlphaPlusTime", package: "swift")
let sdkTesting: Target.Dependency = .product(name: "AlphaPlusSDKTesting", package: "swift")
/// The contract's C header as a module.
let contract: Target.Dependency = .product(name: "CAlphaPlus", package: "swift")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let metricsTestKit: Target.Dependency = .product(name: "MetricsTestKit", package: "swift-metrics")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")

/// A bundled plugin written against the SDK: a logic target in
/// `BundledPlugins/<name>/<logic>` and an entry target in
/// `BundledPlugins/<name>/Entry` (the tests link several logic targets into
/// one binary; only the entry exports `ap_plugin_entry`), built as the
/// shared library `libap-<product>.so` the host loads with dlopen.
struct BundledPlugin {
    let name: String
    let product: String
    let logic: String
    var dependencies: [Target.Dependency] = []

    var targets: [Target] {
        [.target(name: name, dependencies: [sdk] + dependencies, path: "BundledPlugins/\(name)/\(logic)"),
         .target(name: "\(name)Entry", dependencies: [.target(name: name), sdk], path: "BundledPlugins/\(name)/Entry")]
    }
}

let bundledPlugins = [
    // Market-data connectors.
    BundledPlugin(name: "ExchangeSim", product: "exchange-sim", logic: "Sim"),
    BundledPlugin(name: "ExchangeReplay", product: "exchange-replay", logic: "Replay", dependencies: [sdkFeeds]),
    BundledPlugin(name: "NewsReplay", product: "news-replay", logic: "Replay", dependencies: [sdkFeeds, sdkJSON]),
    // Model heads.
    BundledPlugin(name: "HeadSentiment", product: "head-sentiment", logic: "Head"),
    BundledPlugin(name: "HeadTechnical", product: "head-technical", logic: "Head"),
    BundledPlugin(name: "HeadOrderflow", product: "head-orderflow", logic: "Head"),
    BundledPlugin(name: "HeadRules", product: "head-rules", logic: "Head", dependencies: [sdkJSON]),
    // Distribution channels.
    BundledPlugin(name: "ChannelDiscord", product: "channel-discord", logic: "Discord", dependencies: [sdkJSON]),
    BundledPlugin(name: "ChannelTelegram", product: "channel-telegram", logic: "Telegram", dependencies: [sdkJSON]),
    BundledPlugin(name: "ChannelTwitter", product: "channel-twitter", logic: "Channel", dependencies: [sdkJSON]),
    // Inbound webhooks: Stripe events to the tenant's subscribers.
    BundledPlugin(name: "WebhookStripe", product: "webhook-stripe", logic: "Webhook", dependencies: [sdkJSON]),
]

let package = Package(
    name: "AlphaPlus",
    platforms: [.macOS(.v15)],  // Synchronization.Mutex
    products: [
        .executable(name: "alphaplus", targets: ["alphaplus"]),
        // Bundled plugins: each a shared library the host loads with dlopen.
        .library(name: "ap-example-swift-head", type: .dynamic, targets: ["ExampleSwiftHead"]),
        .library(name: "ap-example-c-head", type: .dynamic, targets: ["ExampleCHead"]),
    ] + bundledPlugins.map { plugin -> Product in
        .library(name: "ap-\(plugin.product)", type: .dynamic, targets: ["\(plugin.name)Entry"])
    },
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
        // The host's metrics as the operator sees them (name, kind, labels, help, buckets), for every module that records.
        .target(name: "MetricCatalog", dependencies: [contract, metrics]),
        // Tenants' subscribers: identities, paid tiers and the rules that change them.
        .target(name: "Subscriptions"),
        .target(name: "PluginRuntime", dependencies: [
            "MetricCatalog",
            "Timekeeping",  // now_ns and timers
            "Subscriptions",  // the subscription host services
            contract,
            sdkJSON,
            logging,
            crypto,  // the HMAC host service
            "HTTPClient",  // the HTTP host service
            sdk,  // HTTPRequest/HTTPResponse and their C forms
            metrics,
        ]),
        // libcurl (the system's), with non-variadic shims for curl_easy_setopt and co.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Asynchronous HTTP over libcurl's multi interface, for the host's HTTP service.
        .target(name: "HTTPClient", dependencies: ["CCurl", sdk]),
        // Technical indicators, incremental, equal to TA-Lib.
        .target(name: "Indicators"),
        // Ingest, candles and feature frames for the streams exchange plugins emit.
        .target(name: "MarketData", dependencies: [
            sdkTime,  // timeframe names
            "MetricCatalog",
            "Indicators", "OrderBook",
            sdk,
            contract,
            logging,
            metrics,
        ]),
        // The pure trading domain: signals, votes, consensus, the risk gate, the paper portfolio and its metrics.
        // No plugin runtime and no libcurl under it.
        .target(name: "Trading"),
        // A tenant's strategy: its heads' calls (the plugin runtime), then consensus, risk and the paper book.
        .target(name: "Strategy", dependencies: [
            "MetricCatalog",
            "Trading", "PluginRuntime",
            sdk,
            contract,
            logging,
            metrics,
        ]),
        // A backtest's report folder: report.json, trades.csv, signals.csv, report.html.
        .target(name: "BacktestReport", dependencies: [
            "Trading", sdkTime,
        ]),
        // Tiers, templates and the outbox's dispatch of signals, exits, summaries and alerts to channel plugins.
        .target(name: "Distribution", dependencies: [
            "MetricCatalog",
            "PluginRuntime", "Trading", "Timekeeping",
            "Subscriptions",  // subscribers' destinations and tiers
            sdk,  // Delivery and RateLimit
            sdkJSON,
            sdkTime,
            logging,
            metrics,
        ]),
        // The host's Prometheus registry: the one place the swift-metrics backend is bootstrapped (alphaplus run)
        // and the exposition text for /metrics, with every host metric's help and buckets.
        .target(name: "HostMetrics", dependencies: [
            "MetricCatalog",
            "PluginRuntime", "MarketData", "Strategy", "Distribution", "Ingress",  // their metric descriptors
            metrics,
            .product(name: "Prometheus", package: "swift-prometheus"),
            logging,
        ]),
        // The durable store: signals, votes, risk decisions, outcomes and the hash-chained audit log.
        .target(name: "Store", dependencies: [
            "Trading",
            "Distribution",  // the outbox
            "PluginRuntime",  // instances' key/value state
            "Subscriptions",
            .product(name: "GRDB", package: "GRDB.swift"),
            crypto,
            sdkJSON,
            sdkFeeds,
        ]),
        .target(name: "HostConfig", dependencies: [
            "Trading",
            "HTTPClient",  // endpoint overrides are origins as the HTTP client parses them
            "Distribution",  // the distribution section's settings and templates
            sdkJSON,
            "Yams",
        ]),
        // Order books rebuilt from the contract's book events.
        .target(name: "OrderBook", dependencies: [
            contract,
            sdk,
        ]),
        // The live path on recorded data, with the data's own clock.
        .target(name: "Backtesting", dependencies: [
            "MarketData", "Strategy", "Trading", "Timekeeping",
            sdk,
            contract,
            logging,
        ]),
        // The host's HTTP ingress: webhooks to plugin instances, the admin API, health, readiness and metrics.
        .target(name: "Ingress", dependencies: [
            "MetricCatalog",
            "PluginRuntime", "Store", "Trading", "Distribution", "Subscriptions",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),  // the HTTP/1 child channel, wrapped with the connection limits
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            serviceLifecycle,
            metrics,
            crypto,  // admin tokens are compared as SHA-256 digests
            sdk,  // WebhookRequest and WebhookResponse
            sdkJSON,
            sdkTime,
            logging,
        ]),
        // Tenants at run time: their instances, shared connectors, strategies and distribution; the diff a reload applies.
        .target(name: "Tenancy", dependencies: [
            "Timekeeping",
            "HostConfig", "PluginRuntime", "Strategy", "Trading", "Distribution", "Store", "Subscriptions",
            contract,
            sdkJSON,
            crypto,  // connector ids and secret digests
            logging,
        ]),
        // The host as a library: one value built from a configuration, a clock and adapters, started, driven and stopped.
        .target(name: "AlphaPlusHost", dependencies: [
            "Timekeeping", "PluginRuntime", "HostConfig", "MarketData", "Strategy", "Trading", "Distribution", "Store", "Ingress", "Tenancy",
            "HostMetrics",  // /metrics
            contract,
            sdkTime,  // the reload status's time
            sdkJSON,
            crypto,  // the tenants folder's fingerprint
            logging,
            serviceLifecycle,
        ]),
        .executableTarget(name: "alphaplus", dependencies: [
            "AlphaPlusHost",
            serviceLifecycle,
            "Timekeeping",
            "PluginRuntime", "HostConfig", "Strategy", "Trading", "Backtesting", "BacktestReport", "Indicators", "MarketData", "OrderBook",
            "Store", "Ingress", "Tenancy",
            "HTTPClient",  // doctor reports libcurl's version
            "Distribution", "Subscriptions",
            "HostMetrics",
            sdk,
            contract,
            sdkFeeds, sdkTime,
            sdkJSON,
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            logging,
        ]),

        .target(name: "ExampleSwiftHead", dependencies: [sdk],
                path: "BundledPlugins/ExampleSwiftHead"),
        // Built against the header alone: no SDK module, just the include path.
        .target(name: "ExampleCHead", path: "BundledPlugins/ExampleCHead", publicHeadersPath: ".",
                cSettings: [.headerSearchPath("../../sdk/include")]),

        .executableTarget(name: "ContractBench", dependencies: [
            "PluginRuntime", "MarketData", "ExampleSwiftHead",
            contract,
        ], path: "bench/ContractBench"),

        // Fakes of the Discord, Telegram and X APIs that answer as the real ones document.
        .target(name: "FakeChannelServers", dependencies: [
            sdk,
            sdkJSON,
            "ChannelTwitter",  // FakeX checks signatures and lengths with the plugin's (cross-checked) functions
            crypto,  // FakeX's HMAC-SHA1
        ], path: "Tests/FakeChannelServers"),
        // A whole host in the test's process on a manual clock (HostHarness), as HummingbirdTesting serves an application.
        .target(name: "HostTesting", dependencies: [
            "AlphaPlusHost", "HostConfig", "Store", "Timekeeping",
            "SharedTestData",  // the build's plugins folder
            logging,
        ], path: "Tests/HostTesting"),
        // Finds ../shared/data for the tests that read real market data.
        .target(name: "SharedTestData", dependencies: [
            "TestRandom",
            "HostConfig",  // HostConfigFiles
            logging,  // LogLines
        ], path: "Tests/SharedTestData"),
        // SplitMix64, without XCTest, so that benchmarks draw the tests' random cases too.
        .target(name: "TestRandom", path: "Tests/TestRandom"),
        // Webhook and head plugins for the ingress tests, on the SDK only.
        .target(name: "IngressTestPlugins", dependencies: [sdk],
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
            contract,
            sdkFeeds,
            sdk,
            sdkJSON,
        ], path: "bench/MarketDataBench", swiftSettings: [.swiftLanguageMode(.v5)]),  // top-level script state

        .executableTarget(name: "StrategyBench", dependencies: [
            "Timekeeping",
            "Backtesting", "Strategy", "Trading", "PluginRuntime", "AllocationCounter", "BenchSupport",
            "HostMetrics",  // measured with the Prometheus backend
            sdk,
            sdkFeeds,
            sdkJSON,
            contract,
            logging,
        ], path: "bench/StrategyBench"),

        // The outbox's throughput and a 10,000-subscriber fan-out, over real HTTP to the fakes.
        .executableTarget(name: "DistributionBench", dependencies: [
            "Timekeeping",
            "Distribution", "Store", "PluginRuntime", "Trading", "HTTPClient", "ChannelTelegram", "FakeChannelServers", "BenchSupport",
            sdkJSON,
            sdk,
            logging,
        ], path: "bench/DistributionBench"),

        // The admin query parser fuzzed for as long as one likes (ALPHAPLUS_FUZZ_ITERATIONS, ALPHAPLUS_FUZZ_SEED).
        .executableTarget(name: "IngressFuzz", dependencies: ["IngressFuzzing"], path: "bench/IngressFuzz"),
        // A running `alphaplus run` under busy and idle clients and reloads, for SOAK_SECONDS (default 30 minutes).
        .executableTarget(name: "SoakBench", path: "bench/SoakBench"),

        // The host as a library (HostApplication), driven in process by HostHarness on a manual clock.
        .testTarget(name: "HostTests", dependencies: [
            "AlphaPlusHost", "HostTesting", "FakeChannelServers", "Store", "Trading",
        ]),
        .testTarget(name: "TenancyTests", dependencies: [
            "Tenancy", "HostConfig", "PluginRuntime", "MarketData", "Strategy", "Trading", "Store", "SharedTestData", "Timekeeping",
            contract,
            logging,
        ]),
        .testTarget(name: "PluginRuntimeTests", dependencies: [
            "PluginRuntime", "HostConfig", "SharedTestData",
            "Backtesting", "Strategy", "Trading", "Timekeeping", "MarketData",  // plugins' clock in a backtest; frames
            contract,
            "HTTPClient", "FakeChannelServers",  // the HTTP service against a loopback server
            sdk,
            logging,
            metricsTestKit,
        ], exclude: ["Fixtures"]),
        .testTarget(name: "HTTPClientTests", dependencies: [
            "HTTPClient", "FakeChannelServers",
            sdk,
        ]),
        .testTarget(name: "StrategyTests", dependencies: [
            "Strategy", "Trading", "HostConfig", "SharedTestData", "PluginRuntime", "MarketData",
            sdk,
            sdkJSON,
            logging,
            metricsTestKit,
        ]),
        .testTarget(name: "IndicatorsTests", dependencies: [
            "Indicators", "SharedTestData",
            sdkFeeds,
        ]),
        .testTarget(name: "MarketDataTests", dependencies: [
            "MarketData", "Indicators", "SharedTestData",
            sdk,
            sdkFeeds,
            logging,
            metricsTestKit,
        ]),
        .testTarget(name: "OrderBookTests", dependencies: [
            "OrderBook", "SharedTestData",
            sdkFeeds,
            contract,
        ], exclude: ["Fixtures"]),
        .testTarget(name: "OutcomeTests", dependencies: ["Trading", "BacktestReport", "SharedTestData"]),
        .testTarget(name: "ExamplePluginTests", dependencies: [
            "ExampleSwiftHead",
            sdkTesting,
        ]),
        .testTarget(name: "NewsSentimentTests", dependencies: [
            "NewsReplay", "HeadSentiment", "ExchangeSim",
            sdkTesting,
            sdkFeeds,
        ]),
        .testTarget(name: "StoreTests", dependencies: [
            "Store", "Trading", "SharedTestData", "Subscriptions",
            "PluginRuntime", contract,  // plugin state through the services table
            sdk,  // reading the subscription services' answers
            logging,
            .product(name: "GRDB", package: "GRDB.swift"),
            crypto,
        ]),
        .testTarget(name: "DistributionTests", dependencies: [
            "Timekeeping",
            "Distribution", "Store", "PluginRuntime", "HostConfig", "Trading", "SharedTestData", "Subscriptions",
            sdk,
            sdkJSON,
            logging,
            metricsTestKit,
        ]),
        // The Prometheus backend end to end: the real components recording into a registry, its text
        // parsed; plugins' metrics through the services table; allocations on the emit path.
        .testTarget(name: "HostMetricsTests", dependencies: [
            "Timekeeping",
            "HostMetrics", "PluginRuntime", "MarketData", "Strategy", "Trading", "Distribution", "Store", "AllocationCounter",
            sdk,
            sdkJSON,
            contract,
            logging,
            metrics,
        ]),
        // Faults and the demo end to end: the alphaplus binary or PluginRuntime + Distributor, the built
        // channel plugins (.build/debug/*.so), the curl HTTP service and the fakes on loopback.
        .testTarget(name: "DistributionFaultTests", dependencies: [
            "HostTesting",  // the host in process on a manual clock
            "Timekeeping",
            "Distribution", "Store", "PluginRuntime", "HostConfig", "HTTPClient", "Trading", "FakeChannelServers", "SharedTestData",
            "ChannelTwitter",  // OAuth1Credentials for FakeX, TwitterText to weigh the Tweets
            "Subscriptions", "Ingress",
            crypto,  // signing Stripe events and Telegram deep links
            sdk,
            sdkJSON,
            logging,
        ]),
        // The HTTP ingress in process (webhooks to test plugins, the admin API against docs/admin-api.yaml) and through `alphaplus run`.
        .testTarget(name: "IngressTests", dependencies: [
            "Ingress", "IngressTestPlugins", "IngressFuzzing", "PluginRuntime", "Store", "Trading", "Distribution", "HostConfig",
            "SharedTestData", "Yams",
            sdk,
            sdkJSON,
            logging,
            .product(name: "InMemoryLogging", package: "swift-log"),
            metricsTestKit,
        ], exclude: ["check_openapi.py"]),
        .testTarget(name: "ExchangePluginTests", dependencies: [
            "ExchangeSim", "ExchangeReplay", "SharedTestData", "OrderBook",
            sdkTesting,
            sdkFeeds,
        ]),
        .testTarget(name: "ChannelPluginTests", dependencies: [
            "ChannelDiscord", "ChannelTelegram", "FakeChannelServers", "SharedTestData",
            sdkTesting,
            sdkJSON,
        ], exclude: ["crosscheck_escape_markdown.py", "crosscheck_link_token.py"]),
        .testTarget(name: "TwitterChannelTests", dependencies: [
            "ChannelTwitter", "FakeChannelServers", "SharedTestData",
            sdkTesting,
            sdkJSON,
            crypto,
        ], exclude: ["crosscheck_oauth1.py", "crosscheck_twitter_text.py"]),
        .testTarget(name: "StripeWebhookTests", dependencies: [
            "WebhookStripe", "SharedTestData",
            sdkTesting,
            sdkJSON,
            crypto,  // signs test requests independently of the host's HMAC
        ], exclude: ["crosscheck_stripe_signature.py"]),
        // Tenant files read with every error at its file:line:column, validated against the bundled plugins'
        // schemas (loaded from the built .so files) and secrets; the tenants and config commands.
        .testTarget(name: "HostConfigTests", dependencies: [
            "HostConfig", "SharedTestData", "PluginRuntime",
            sdkJSON,
        ]),
        .testTarget(name: "HeadPluginTests", dependencies: [
            "HeadTechnical", "HeadOrderflow", "HeadRules", "AllocationCounter", "SharedTestData",
            sdkTesting,
        ]),
    ] + bundledPlugins.flatMap(\.targets)
)