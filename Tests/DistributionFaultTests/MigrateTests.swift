import Distribution
import FakeChannelServers
import Foundation
import Store
import XCTest

/// A Telegram group upgraded to a supergroup, through the real plugin, the
/// host's curl client and FakeTelegram on loopback: the 400 with
/// `migrate_to_chat_id` moves the destination durably, the message is sent
/// again to the new chat, and every later message goes there.
final class MigrateTests: XCTestCase {
    private var server: LoopbackServer?
    private var host: InProcessHost?
    private let fakeClock = FakeClock(manualSeconds: Double(t0) / 1e9)

    override func tearDown() {
        host?.close()
        server?.stop()
    }

    func testAnUpgradedGroupMovesTheDestinationAndNothingIsLost() throws {
        let telegram = FakeTelegram(token: "7300000002:AAHmigrateTestToken_0123456789abcd", clock: fakeClock)
        let server = try LoopbackServer(telegram)
        self.server = server
        let host = try InProcessHost(fakeClock: fakeClock, overrides: ["https://api.telegram.org": server])
        self.host = host
        telegram.addChat(-4_000_000_001, type: .group)
        telegram.upgradeToSupergroup(-4_000_000_001, newID: -1_002_000_000_001)
        let channel = try host.channel("ap-channel-telegram", id: "telegram", tenant: "acme", secrets: ["bot_token": telegram.token])
        _ = try host.start(tenant: "acme", settings: distribution([("club", "telegram", #"{"chat_id":-4000000001}"#)]),
                           channels: ["telegram": channel], rows: (1...3).map { row("acme", "club", "s\($0)", "message \($0)") })
        for step in Int64(0)...5 { host.advance(toNs: t0 + step * second) }

        XCTAssertEqual(telegram.messages(in: -1_002_000_000_001).map(\.text), ["message 1", "message 2", "message 3"],
                       "every message once, in order, in the supergroup")
        XCTAssertTrue(telegram.messages(in: -4_000_000_001).isEmpty, "nothing reached the old group")
        let destination = try XCTUnwrap(host.store.outboxDestinations().first { $0.id == "club" })
        XCTAssertEqual(destination.targetJSON, #"{"chat_id":-1002000000001}"#, "the new chat id is stored for every later delivery")
        XCTAssertTrue(destination.enabled)
        XCTAssertEqual(try host.store.outboxEntries().map(\.state), [.delivered, .delivered, .delivered])
        XCTAssertEqual(telegram.requestCount, 4, "one 400 with migrate_to_chat_id, then three messages to the new chat")
    }
}
