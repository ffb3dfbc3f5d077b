/// Why the store could not open, write or read, naming the store file and,
/// for a write, the record ("signal demo:binance:BTC-USDT:60:1700000000000").
public struct StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The store file.
    public var store: String
    /// The record being written, when the error is about one.
    public var record: String?
    public var message: String

    public init(store: String, record: String? = nil, message: String) {
        self.store = store
        self.record = record
        self.message = message
    }

    public var description: String {
        if let record { return "\(store): cannot record \(record): \(message)" }
        return "\(store): \(message)"
    }
}
