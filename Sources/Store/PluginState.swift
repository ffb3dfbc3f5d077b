import Foundation
import GRDB
import PluginRuntime

/// Plugin instances' key/value state, durable: a set or delete is one
/// transaction, committed before the plugin's call returns. The statements
/// are prepared once per connection (`cachedStatement`): a channel may write
/// its state once per delivery.
extension HostStore: InstanceStateStorage {
    public func values(tenant: String, plugin: String, instance: String) throws -> [String: [UInt8]] {
        try read { db in
            let rows = try Row.fetchCursor(db.cachedStatement(sql: "SELECT key, value FROM plugin_state WHERE tenant = ? AND plugin = ? AND instance = ?"),
                                           arguments: [tenant, plugin, instance])
            var values: [String: [UInt8]] = [:]
            while let row = try rows.next() {
                let value: Data = row["value"]
                values[row["key"]] = [UInt8](value)
            }
            return values
        }
    }

    public func set(tenant: String, plugin: String, instance: String, key: String, value: [UInt8]) throws {
        let updatedNs = clock()
        try write { db in
            try db.cachedStatement(sql: """
                INSERT INTO plugin_state (tenant, plugin, instance, key, value, updated_ns) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (tenant, plugin, instance, key) DO UPDATE SET value = excluded.value, updated_ns = excluded.updated_ns
                """).execute(arguments: [tenant, plugin, instance, key, Data(value), updatedNs])
        }
    }

    public func remove(tenant: String, plugin: String, instance: String, key: String) throws -> Bool {
        try write { db in
            try db.cachedStatement(sql: "DELETE FROM plugin_state WHERE tenant = ? AND plugin = ? AND instance = ? AND key = ?")
                .execute(arguments: [tenant, plugin, instance, key])
            return db.changesCount == 1
        }
    }
}
