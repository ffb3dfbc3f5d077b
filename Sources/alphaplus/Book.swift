import AlphaPlusFeeds
import AlphaPlusSDK
import ArgumentParser
import Foundation
import OrderBook

struct Book: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild order books from market-data captures.",
        subcommands: [Replay.self])

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay capture files (in the order given, as one stream) into books and print each symbol's final top of book.")

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case binance, kraken, bitfinex
        }

        @Option(help: "The capture format: binance (hftbacktest), kraken (cryptofeed), bitfinex (raw book JSON array).")
        var format: Format
        @Argument(help: "The capture files, plain or gzip.") var files: [String]
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if files.isEmpty { throw ValidationError("give at least one capture file") }
            for file in files where !FileManager.default.isReadableFile(atPath: file) {
                throw ValidationError("\(file): no such readable file")
            }
        }

        func run() throws {
            let books = BookSet(venue: format.rawValue)
            do {
                switch format {
                case .binance:
                    var decoder = BinanceCaptureDecoder()
                    for file in files { try decoder.decodeFile(file, books.apply) }
                case .kraken:
                    var decoder = KrakenBookDecoder()
                    for file in files { try decoder.decodeFile(file, books.apply) }
                case .bitfinex:
                    var decoder = BitfinexRawBookDecoder()
                    for file in files { try decoder.decodeFile(file, books.apply) }
                }
            } catch let error as FeedError {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
            let summaries = books.symbols.map { BookSummary(books[$0]!, withChecksums: format == .kraken) }
            if json { return try printJSON(Output(books: summaries)) }
            for book in summaries { print(book.line) }
        }
    }

    struct Output: Encodable {
        let books: [BookSummary]
    }

    /// One symbol's final state; the JSON keys are documented in docs/OPERATIONS.md.
    struct BookSummary: Encodable {
        let venue, symbol: String
        let bestBidPrice, bestBidSize, bestAskPrice, bestAskSize: String?
        let synced, crossed: Bool
        let snapshotsApplied, deltasApplied, sequenceBreaks, crossedEpisodes: Int
        let checksumsMatched, checksumsTotal: Int?

        init(_ book: BookBuilder, withChecksums: Bool) {
            venue = book.venue
            symbol = book.symbol
            bestBidPrice = book.bestBid?.price.description
            bestBidSize = book.bestBid?.size.description
            bestAskPrice = book.bestAsk?.price.description
            bestAskSize = book.bestAsk?.size.description
            synced = book.isSynced
            crossed = book.isCrossed
            snapshotsApplied = book.counters.snapshotsApplied
            deltasApplied = book.counters.deltasApplied
            sequenceBreaks = book.counters.sequenceBreaks
            crossedEpisodes = book.counters.crossedEpisodes
            checksumsMatched = withChecksums ? book.counters.checksumsMatched : nil
            checksumsTotal = withChecksums ? book.counters.checksumsTotal : nil
        }

        var line: String {
            var text = "\(symbol)  bid \(bestBidPrice ?? "-") x \(bestBidSize ?? "-")  ask \(bestAskPrice ?? "-") x \(bestAskSize ?? "-")"
                + "  sequence_breaks \(sequenceBreaks)"
            if let checksumsMatched, let checksumsTotal {
                text += "  checksums_matched \(checksumsMatched)  checksums_total \(checksumsTotal)"
            }
            if !synced { text += "  (not synced)" }
            if crossed { text += "  (crossed)" }
            return text
        }

        enum CodingKeys: String, CodingKey {
            case venue, symbol, synced, crossed
            case bestBidPrice = "best_bid_price", bestBidSize = "best_bid_size"
            case bestAskPrice = "best_ask_price", bestAskSize = "best_ask_size"
            case snapshotsApplied = "snapshots_applied", deltasApplied = "deltas_applied"
            case sequenceBreaks = "sequence_breaks", crossedEpisodes = "crossed_episodes"
            case checksumsMatched = "checksums_matched", checksumsTotal = "checksums_total"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(venue, forKey: .venue)
            try container.encode(symbol, forKey: .symbol)
            // Always present; null for an empty side.
            try container.encode(bestBidPrice, forKey: .bestBidPrice)
            try container.encode(bestBidSize, forKey: .bestBidSize)
            try container.encode(bestAskPrice, forKey: .bestAskPrice)
            try container.encode(bestAskSize, forKey: .bestAskSize)
            try container.encode(synced, forKey: .synced)
            try container.encode(crossed, forKey: .crossed)
            try container.encode(snapshotsApplied, forKey: .snapshotsApplied)
            try container.encode(deltasApplied, forKey: .deltasApplied)
            try container.encode(sequenceBreaks, forKey: .sequenceBreaks)
            try container.encode(crossedEpisodes, forKey: .crossedEpisodes)
            try container.encodeIfPresent(checksumsMatched, forKey: .checksumsMatched)
            try container.encodeIfPresent(checksumsTotal, forKey: .checksumsTotal)
        }
    }
}
