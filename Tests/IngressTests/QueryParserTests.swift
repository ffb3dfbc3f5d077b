import Foundation
import Ingress
import IngressFuzzing
import XCTest

/// The admin API's query parser: exact answers, then fuzzing.
final class QueryParserTests: XCTestCase {
    private let page: [QueryParameter] = [.integer("limit", in: 1...500), .cursor("before")]

    private func parse(_ query: String) throws(QueryError) -> ParsedQuery { try QueryParser.parse(Substring(query), accepting: page) }

    private func refusal(_ query: String) -> QueryError? {
        do { _ = try parse(query); return nil } catch { return error }
    }

    func testValuesInRangeAreParsedAndAbsentOnesAreNil() throws {
        XCTAssertEqual(try parse("").integer("limit"), nil)
        XCTAssertEqual(try parse("limit=1").integer("limit"), 1)
        XCTAssertEqual(try parse("limit=500").integer("limit"), 500)
        XCTAssertEqual(try parse("limit=007").integer("limit"), 7)
        XCTAssertEqual(try parse("&limit=%35%30&").integer("limit"), 50)
        XCTAssertEqual(try parse("before=12:a%3Ab+c").cursor("before"), PageCursor(ns: 12, id: "a:b c"))
        XCTAssertEqual(try parse("before=1795248000000000000:demo:sim:BTC-USDT:60:1795247940000").cursor("before")?.description,
                       "1795248000000000000:demo:sim:BTC-USDT:60:1795247940000")
    }

    func testEachRefusalNamesTheParameter() {
        let cases: [(String, [String], String)] = [
            ("limit=abc", ["limit"], "limit: 'abc' is not an integer in 1...500"),
            ("limit=+5", ["limit"], "limit: ' 5' is not an integer in 1...500"),
            ("limit=5.0", ["limit"], "limit: '5.0' is not an integer in 1...500"),
            ("limit", ["limit"], "limit: '' is not an integer in 1...500"),
            ("limit=1&limit=1", ["limit"], "limit: given more than once"),
            ("li%6dit=1&limit=2", ["limit"], "limit: given more than once"),
            ("limit=%F0%28", ["limit"], "limit: '%F0%28' is not percent-encoded UTF-8"),
            ("lim%G1t=1", ["lim%G1t"], "'lim%G1t': a query parameter's name is not percent-encoded UTF-8"),
            ("before=", ["before"], "before: '' is not a page cursor (a page's next: <created_at_ns>:<id>)"),
            ("before=-1:a", ["before"], "before: '-1:a' is not a page cursor (a page's next: <created_at_ns>:<id>)"),
            ("before=9223372036854775808:a", ["before"],
             "before: '9223372036854775808:a' is not a page cursor (a page's next: <created_at_ns>:<id>)"),
            ("x=1&y&x=2", ["x", "y"], "unknown query parameters 'x', 'y' (this route takes limit, before)"),
            ("=5", [""], "unknown query parameter '' (this route takes limit, before)"),
        ]
        for (query, parameters, message) in cases {
            let error = refusal(query)
            XCTAssertEqual(error?.parameters, parameters, query)
            XCTAssertEqual(error?.message, message, query)
        }
        let long = String(repeating: "9", count: 200)
        XCTAssertEqual(refusal("limit=\(long)")?.message, "limit: '\(String(repeating: "9", count: 64))…' is not an integer in 1...500")
    }

    /// ~20,000 random and mutated queries (ALPHAPLUS_FUZZ_ITERATIONS for
    /// more; `swift run IngressFuzz` runs millions): no crash, and every
    /// answer in range or a refusal naming a parameter of the query.
    func testFuzzedQueriesParseInRangeOrNameTheParameter() {
        let iterations = ProcessInfo.processInfo.environment["ALPHAPLUS_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 20_000
        var fuzzer = QueryFuzzer(seed: 20_261_121)
        fuzzer.run(iterations)
        XCTAssertEqual(fuzzer.iterations, iterations)
        XCTAssertEqual(fuzzer.findings.map(\.description), [])
        // Both answers are exercised, not just refusals.
        XCTAssertGreaterThan(fuzzer.accepted, iterations / 20, "accepted")
        XCTAssertGreaterThan(fuzzer.refused, iterations / 20, "refused")
    }

    func testTheFuzzersOracle() {
        // A refusal naming a parameter of the query, an answer in range: both keep the property.
        var fuzzer = QueryFuzzer(seed: 1)
        XCTAssertNil(fuzzer.check("limit=abc"))
        XCTAssertNil(fuzzer.check("limit=5&before=1:x"))
        XCTAssertEqual(QueryFuzzer.names(in: "a=1&%62=2&%zz"), ["a", "%62", "b", "%zz"])
    }
}
