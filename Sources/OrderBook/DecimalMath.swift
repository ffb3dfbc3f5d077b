import AlphaPlusSDK
import CAlphaPlus

/// Exact comparison and arithmetic on venue decimals whose exponents may
/// differ ("61391" against "61405.27923706"). Nothing here allocates.
enum DecimalMath {
    /// -1, 0 or 1 as `a` is below, equal to or above `b` in value.
    @inline(__always)
    static func compare(_ a: ExactDecimal, _ b: ExactDecimal) -> Int {
        if a.exponent == b.exponent {
            return a.mantissa < b.mantissa ? -1 : (a.mantissa == b.mantissa ? 0 : 1)
        }
        let aIsCoarser = a.exponent > b.exponent
        let (coarse, fine) = aIsCoarser ? (a, b) : (b, a)
        let result: Int
        if let scaled = scale(coarse.mantissa, by: Int(coarse.exponent) - Int(fine.exponent)) {
            result = scaled < fine.mantissa ? -1 : (scaled == fine.mantissa ? 0 : 1)
        } else {
            // Too large to align: the coarse one is the larger in magnitude.
            result = coarse.mantissa < 0 ? -1 : 1
        }
        return aIsCoarser ? result : -result
    }

    /// `a + b` at the finer exponent; nil on overflow.
    static func sum(_ a: ExactDecimal, _ b: ExactDecimal) -> ExactDecimal? {
        let exponent = min(a.exponent, b.exponent)
        guard let left = scale(a.mantissa, by: Int(a.exponent - exponent)),
              let right = scale(b.mantissa, by: Int(b.exponent - exponent)) else { return nil }
        let (total, overflow) = left.addingReportingOverflow(right)
        return overflow ? nil : ExactDecimal(mantissa: total, exponent: exponent)
    }

    static func difference(_ a: ExactDecimal, _ b: ExactDecimal) -> ExactDecimal? {
        sum(a, ExactDecimal(mantissa: -b.mantissa, exponent: b.exponent))
    }

    /// `mantissa × 10^power` (power ≥ 0); nil on overflow.
    @inline(__always)
    static func scale(_ mantissa: Int64, by power: Int) -> Int64? {
        var value = mantissa
        for _ in 0..<power {
            let (next, overflow) = value.multipliedReportingOverflow(by: 10)
            if overflow { return nil }
            value = next
        }
        return value
    }
}

extension ExactDecimal {
    @inline(__always)
    init(_ raw: ap_decimal) { self.init(mantissa: raw.mantissa, exponent: raw.exponent) }
}
