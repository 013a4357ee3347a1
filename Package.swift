// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "ledger",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ledgerd", targets: ["ledgerd"]),
        .library(name: "EventStore", targets: ["EventStore"]),
        .library(name: "Ledger", targets: ["Ledger"]),
        .library(name: "Projections", targets: ["Projections"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // MARK: - C libraries (Debian: apt-get install -y liblmdb-dev libzstd-dev pkg-config)
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

        // MARK: - Libraries
        .target(
            name: "EventStore",
            dependencies: ["CLMDB", "CZstd", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(name: "Ledger", dependencies: ["EventStore", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Projections", dependencies: ["EventStore", "Ledger"]),
        // The deterministic fixture generator (domain.md §5.2): command streams for the demo, tests and benchmarks.
        .target(name: "Workload", dependencies: ["Ledger"]),

        // The daemon's peer credentials (SO_PEERCRED's struct ucred needs _GNU_SOURCE).
        .target(name: "CPeerCredentials"),

        // MARK: - Executables
        .executableTarget(
            name: "ledgerd",
            dependencies: [
                "EventStore", "Ledger", "Projections", "Workload", "CPeerCredentials",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            // The API description, served at /openapi.yaml (the repository's openapi.yaml links here).
            resources: [.embedInCode("openapi.yaml")]
        ),
        // A second process for the tests: appends under load for the crash test, or follows a store read-only.
        .executableTarget(name: "ledger-test-helper", dependencies: ["EventStore", "Projections"]),

        // MARK: - Tests
        // Shared by the test targets: finding the built executables and fixtures, reading a child process's output,
        // a small organisation published through the handlers.
        .target(name: "TestSupport", dependencies: ["EventStore", "Ledger"], path: "Tests/TestSupport"),
        .testTarget(name: "EventStoreTests", dependencies: ["EventStore", "TestSupport", "ledger-test-helper"]),
        .testTarget(name: "ProjectionTests", dependencies: ["Projections", "Ledger", "EventStore", "TestSupport",
                                                            "ledger-test-helper"]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "EventStore", "Workload", "TestSupport"]),
        .testTarget(name: "LedgerdTests", dependencies: [
            "ledgerd", "EventStore", "Ledger", "Projections", "TestSupport", "Workload",
            // The fake national portal the sync worker pushes to; NIO's HTTP/1.1 decoder on an embedded channel, which
            // the raw-append recognizer must always agree with.
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
    ]
)

// One strictness block for every Swift target (the swift-log pattern).
for target in package.targets where target.type != .system && target.name != "CPeerCredentials" {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        // SE-0335: `any` spelled out for existentials.
        .enableUpcomingFeature("ExistentialAny"),
        // SE-0444: a file sees only the modules it imports.
        .enableUpcomingFeature("MemberImportVisibility"),
        // SE-0409: imports are internal unless marked public, so no C type leaks into an API.
        .enableUpcomingFeature("InternalImportsByDefault"),
    ]
}
