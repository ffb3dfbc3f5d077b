/// An exact decimal: mantissa × 10^exponent, as venues send prices and sizes
/// (the contract's ap_decimal). "0.05000" is (5000, -5): trailing zeros are
/// kept because venue checksums are computed over them.
public struct ExactDecimal: Hashable, Sendable, CustomStringConvertible {
    public var mantissa: Int64
    public var exponent: Int32

    public init(mantissa: Int64, exponent: Int32) {
        self.mantissa = mantissa
        self.exponent = exponent
    }

    /// Parses plain decimal text ("61405.27923706", "-0.5", "12"); nil for
    /// anything else (exponents, NaN, empty, more digits than Int64 holds).
    public init?(_ text: some StringProtocol) {
        var mantissa: Int64 = 0
        var exponent: Int32 = 0
        var sawDigit = false, sawPoint = false, negative = false
        for (offset, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "-") where offset == 0: negative = true
            case UInt8(ascii: "+") where offset == 0: continue
            case UInt8(ascii: ".") where !sawPoint: sawPoint = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let (times10, o1) = mantissa.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                if o1 || o2 { return nil }
                mantissa = sum
                sawDigit = true
                if sawPoint { exponent -= 1 }
            default: return nil
            }
        }
        guard sawDigit else { return nil }
        self.init(mantissa: negative ? -mantissa : mantissa, exponent: exponent)
    }

    /// Rounds a double to `scale` decimal places (for synthetic data).
    public init(_ value: Double, scale: Int32) {
        var factor = 1.0
        for _ in 0..<max(scale, 0) { factor *= 10 }
        self.init(mantissa: Int64((value * factor).rounded()), exponent: -max(scale, 0))
    }

    /// The nearest double for the mantissas and exponents venues use (one
    /// correctly rounded operation while 10^|exponent| is exact, up to 22).
    /// Called per event on the host's hot path, hence the table.
    @inlinable
    public var doubleValue: Double {
        let value = Double(mantissa)
        let magnitude = Int(exponent.magnitude)
        let power: Double
        if magnitude < Self.exactPowersOfTen.count {
            power = Self.exactPowersOfTen[magnitude]
        } else {
            var repeated = 1.0
            for _ in 0..<magnitude { repeated *= 10 }
            power = repeated
        }
        return exponent < 0 ? value / power : value * power
    }

    /// 10^0 … 10^22, each exactly representable as a double.
    @usableFromInline
    static let exactPowersOfTen: [Double] = {
        var powers = [1.0]
        for _ in 1...22 { powers.append(powers[powers.count - 1] * 10) }
        return powers
    }()

    public var description: String {
        guard exponent < 0 else {
            return String(mantissa) + String(repeating: "0", count: Int(exponent))
        }
        let digits = String(mantissa.magnitude)
        let scale = Int(-exponent)
        let padded = String(repeating: "0", count: max(0, scale + 1 - digits.count)) + digits
        let split = padded.index(padded.endIndex, offsetBy: -scale)
        return (mantissa < 0 ? "-" : "") + padded[..<split] + "." + padded[split...]
    }
}
