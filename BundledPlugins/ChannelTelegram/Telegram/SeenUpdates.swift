/// The ids of the last `capacity` updates that linked or unlinked a chat,
/// oldest first, so that an update Telegram delivers again (it resends
/// until it gets a 2xx) has no second effect, across restarts too: the
/// window is kept in the instance's state under `stateKey`, 8 bytes per
/// id, little-endian.
///
/// The rule is membership alone, not "at or below the highest id seen":
/// Telegram picks the next id at random after a week without updates (the
/// Bot API's `Update.update_id`), so a new update may have a lower id. An
/// update redelivered after 1000 newer ones linked or unlinked chats would
/// act again.
struct SeenUpdates {
    static let capacity = 1000
    static let stateKey = "webhook:seen_update_ids"

    private var ids: [Int64] = []
    private var members: Set<Int64> = []

    init() {}

    /// nil when the bytes are not a whole number of ids.
    init?(bytes: [UInt8]) {
        guard bytes.count % 8 == 0 else { return nil }
        let stored = bytes.withUnsafeBytes { raw in
            (0..<bytes.count / 8).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        }
        stored.forEach { insert($0) }
    }

    func contains(_ id: Int64) -> Bool { members.contains(id) }

    mutating func insert(_ id: Int64) {
        guard members.insert(id).inserted else { return }
        ids.append(id)
        if ids.count > Self.capacity { members.remove(ids.removeFirst()) }
    }

    var bytes: [UInt8] { ids.map(\.littleEndian).withUnsafeBytes { Array($0) } }
}
