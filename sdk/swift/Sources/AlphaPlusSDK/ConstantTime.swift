/// Whether a presented secret (a webhook's signature or token) equals the
/// expected one, in time that depends only on the expected one's length,
/// so that timing tells an attacker nothing about how much of a guess was
/// right. Use it for every comparison with a secret.
public func constantTimeEquals(_ presented: [UInt8], _ expected: [UInt8]) -> Bool {
    var difference: UInt8 = presented.count == expected.count ? 0 : 1
    for index in expected.indices {
        difference |= (index < presented.count ? presented[index] : 0) ^ expected[index]
    }
    return difference == 0
}
