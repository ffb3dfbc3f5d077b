import AlphaPlusSDK

/// Kraken's v1 book checksum: CRC32 over the top 10 asks (best first,
/// ascending) then the top 10 bids (best first, descending), each price
/// then size written with the '.' removed and leading zeros stripped —
/// which is exactly the decimal's mantissa digits, trailing zeros kept.
enum KrakenChecksum {
    static let levelsPerSide = 10

    static func of(bids: BookSide, asks: BookSide) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        update(&crc, topOf: asks)
        update(&crc, topOf: bids)
        return ~crc
    }

    private static func update(_ crc: inout UInt32, topOf side: BookSide) {
        for rank in 0..<min(levelsPerSide, side.count) {
            let level = side.level(fromBest: rank)
            update(&crc, digitsOf: level.price)
            update(&crc, digitsOf: level.size)
        }
    }

    /// Feeds the decimal digits of |mantissa| (then `exponent` zeros when
    /// positive) without building a string.
    private static func update(_ crc: inout UInt32, digitsOf value: ExactDecimal) {
        let magnitude = value.mantissa.magnitude
        guard magnitude > 0 else { return }  // "0.000" strips to nothing
        var divisor: UInt64 = 1
        while divisor <= magnitude / 10 { divisor *= 10 }
        var rest = magnitude
        while divisor > 0 {
            update(&crc, byte: UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
        for _ in 0..<max(0, Int(value.exponent)) { update(&crc, byte: UInt8(ascii: "0")) }
    }

    @inline(__always)
    private static func update(_ crc: inout UInt32, byte: UInt8) {
        crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
    }

    /// The CRC-32 (IEEE 802.3, reflected 0xEDB88320) table, as zlib's.
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 != 0 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }
}
