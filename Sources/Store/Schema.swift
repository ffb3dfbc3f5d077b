import GRDB

/// The store's versioned schema. GRDB records the migrations applied in
/// `grdb_migrations`; each also sets `PRAGMA user_version` to its number, so
/// `sqlite3 store.sqlite 'PRAGMA user_version'` shows the schema version.
/// Add a migration for every change; never edit one that has shipped.
enum Schema {
    /// The newest schema version this build writes.
    static let version = 4

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1", migrate: createVersion1)
        migrator.registerMigration("v2", migrate: createVersion2)
        migrator.registerMigration("v3", migrate: createVersion3)
        migrator.registerMigration("v4", migrate: createVersion4)
        return migrator
    }

    private static func createVersion1(_ db: Database) throws {
        // Each data row names the audit row that logged it (audit_seq), so
        // the verifier can compare the two.
        try db.execute(sql: """
            CREATE TABLE signals (
                id TEXT PRIMARY KEY NOT NULL,
                tenant TEXT NOT NULL,
                venue TEXT NOT NULL,
                symbol TEXT NOT NULL,
                timeframe_s INTEGER NOT NULL,
                side TEXT NOT NULL,
                entry REAL NOT NULL,
                stop REAL NOT NULL,
                targets TEXT NOT NULL,        -- JSON array of prices, nearest first
                scale_out TEXT NOT NULL,      -- JSON array of fractions, one per target
                quantity REAL NOT NULL,
                confidence REAL NOT NULL,
                high_confidence INTEGER NOT NULL,
                created_at_ns INTEGER NOT NULL,
                expires_at_ns INTEGER NOT NULL,
                audit_seq INTEGER NOT NULL UNIQUE
            );
            CREATE INDEX signals_by_tenant_newest ON signals (tenant, created_at_ns DESC, id DESC);

            CREATE TABLE votes (
                signal_id TEXT NOT NULL REFERENCES signals (id),
                position INTEGER NOT NULL,    -- the tenant's head order
                head TEXT NOT NULL,
                plugin TEXT NOT NULL,
                status TEXT NOT NULL,
                direction TEXT NOT NULL,
                confidence REAL NOT NULL,
                calibrated_confidence REAL NOT NULL,
                weight REAL NOT NULL,
                rationale TEXT NOT NULL,
                error TEXT NOT NULL,
                PRIMARY KEY (signal_id, position)
            );

            CREATE TABLE risk_decisions (
                id INTEGER PRIMARY KEY,
                tenant TEXT NOT NULL,
                venue TEXT NOT NULL,
                symbol TEXT NOT NULL,
                timeframe_s INTEGER NOT NULL,
                side TEXT NOT NULL,
                confidence REAL NOT NULL,
                accepted INTEGER NOT NULL,
                rejection TEXT,               -- NULL when accepted
                detail TEXT NOT NULL,
                signal_id TEXT NOT NULL,      -- no foreign key: a rejection's signal is never stored
                at_ns INTEGER NOT NULL,
                audit_seq INTEGER NOT NULL UNIQUE
            );
            CREATE INDEX risk_decisions_by_tenant ON risk_decisions (tenant, id DESC);

            CREATE TABLE outcomes (
                signal_id TEXT PRIMARY KEY NOT NULL REFERENCES signals (id),
                tenant TEXT NOT NULL,
                symbol TEXT NOT NULL,
                side TEXT NOT NULL,
                entry_ns INTEGER NOT NULL,
                entry_price REAL NOT NULL,
                quantity REAL NOT NULL,
                final_reason TEXT NOT NULL,
                closed_at_ns INTEGER NOT NULL,
                pnl REAL NOT NULL,
                fees REAL NOT NULL,
                mae REAL NOT NULL,
                mfe REAL NOT NULL,
                audit_seq INTEGER NOT NULL UNIQUE
            );
            CREATE INDEX outcomes_by_tenant_newest ON outcomes (tenant, closed_at_ns DESC, signal_id DESC);

            CREATE TABLE trade_legs (
                signal_id TEXT NOT NULL REFERENCES outcomes (signal_id),
                position INTEGER NOT NULL,    -- exit order
                symbol TEXT NOT NULL,
                side TEXT NOT NULL,
                entry_ns INTEGER NOT NULL,
                entry_price REAL NOT NULL,
                exit_ns INTEGER NOT NULL,
                exit_price REAL NOT NULL,
                quantity REAL NOT NULL,
                fees REAL NOT NULL,
                pnl REAL NOT NULL,
                reason TEXT NOT NULL,
                target INTEGER NOT NULL,
                PRIMARY KEY (signal_id, position)
            );

            CREATE TABLE audit_log (
                seq INTEGER PRIMARY KEY,
                at_ns INTEGER NOT NULL,
                kind TEXT NOT NULL,
                subject TEXT NOT NULL,
                payload TEXT NOT NULL,
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL
            );

            -- The chain's anchor: how many rows and the last hash. Kept by a
            -- trigger, so every append moves it; rows deleted from the end
            -- leave it pointing past the log.
            CREATE TABLE audit_head (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                count INTEGER NOT NULL,
                last_seq INTEGER NOT NULL,
                last_hash TEXT NOT NULL
            );
            INSERT INTO audit_head (id, count, last_seq, last_hash) VALUES (1, 0, 0, '\(AuditChain.genesisHash)');

            CREATE TRIGGER audit_log_moves_head AFTER INSERT ON audit_log BEGIN
                UPDATE audit_head SET count = count + 1, last_seq = NEW.seq, last_hash = NEW.hash WHERE id = 1;
            END;
            CREATE TRIGGER audit_log_refuses_update BEFORE UPDATE ON audit_log BEGIN
                SELECT RAISE(ABORT, 'audit_log is append-only: its rows cannot be updated');
            END;
            CREATE TRIGGER audit_log_refuses_delete BEFORE DELETE ON audit_log BEGIN
                SELECT RAISE(ABORT, 'audit_log is append-only: its rows cannot be deleted');
            END;

            PRAGMA user_version = 1;
            """)
    }

    /// The outbox: one row per delivery, and the destinations it goes to.
    /// Not in the audit log: its rows change state as they are sent.
    private static func createVersion2(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE outbox_destinations (
                tenant TEXT NOT NULL,
                id TEXT NOT NULL,
                channel TEXT NOT NULL,             -- the tenant's channel instance id
                tier TEXT NOT NULL,
                target_json TEXT NOT NULL,         -- what deliveries use (the platform may have moved it)
                configured_target_json TEXT NOT NULL,
                enabled INTEGER NOT NULL,
                disabled_reason TEXT NOT NULL,
                disabled_at_ns INTEGER NOT NULL,   -- 0 while enabled
                updated_at_ns INTEGER NOT NULL,
                PRIMARY KEY (tenant, id)
            );

            CREATE TABLE outbox (
                id INTEGER PRIMARY KEY,
                idempotency_key TEXT NOT NULL UNIQUE,   -- tenant/destination/kind/subject
                tenant TEXT NOT NULL,
                destination TEXT NOT NULL,
                tier TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('signal', 'outcome', 'summary', 'alert')),
                subject TEXT NOT NULL,
                text TEXT NOT NULL,
                payload TEXT NOT NULL,
                not_before_ns INTEGER NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'dead', 'dry_run')),
                attempts INTEGER NOT NULL,
                next_attempt_ns INTEGER NOT NULL,
                last_error TEXT NOT NULL,
                external_id TEXT NOT NULL,
                created_at_ns INTEGER NOT NULL,
                updated_at_ns INTEGER NOT NULL,
                FOREIGN KEY (tenant, destination) REFERENCES outbox_destinations (tenant, id)
            );
            CREATE INDEX outbox_by_state ON outbox (state, not_before_ns, id);
            CREATE INDEX outbox_by_destination ON outbox (tenant, destination, state);

            PRAGMA user_version = 2;
            """)
    }

    /// Plugin instances' key/value state (the contract's state_* services):
    /// one namespace per (tenant, plugin, instance). Not in the audit log:
    /// plugins rewrite it freely.
    private static func createVersion3(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE plugin_state (
                tenant TEXT NOT NULL,
                plugin TEXT NOT NULL,
                instance TEXT NOT NULL,
                key TEXT NOT NULL,
                value BLOB NOT NULL,
                updated_ns INTEGER NOT NULL,
                PRIMARY KEY (tenant, plugin, instance, key)
            );

            PRAGMA user_version = 3;
            """)
    }

    /// Tenants' subscribers (the contract's subscription services and the
    /// admin API): one row per subscriber, the identities linked to it, and
    /// the history of every change with who made it.
    private static func createVersion4(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE subscribers (
                tenant TEXT NOT NULL,
                id TEXT NOT NULL,
                paid_tier TEXT NOT NULL,           -- '' when there has been no subscription
                status TEXT NOT NULL,
                period_end_ns INTEGER NOT NULL,    -- 0 when unknown
                grace_until_ns INTEGER NOT NULL,   -- past_due keeps the paid tier until then
                as_of_ns INTEGER NOT NULL,         -- source time of the last change applied
                automatic INTEGER NOT NULL,        -- made by the host for an identity alone
                created_ns INTEGER NOT NULL,
                updated_ns INTEGER NOT NULL,
                PRIMARY KEY (tenant, id)
            );

            CREATE TABLE subscriber_identities (
                tenant TEXT NOT NULL,
                kind TEXT NOT NULL,
                value TEXT NOT NULL,
                subscriber TEXT NOT NULL,
                PRIMARY KEY (tenant, kind, value),
                FOREIGN KEY (tenant, subscriber) REFERENCES subscribers (tenant, id) ON DELETE CASCADE
            );
            CREATE INDEX subscriber_identities_by_subscriber ON subscriber_identities (tenant, subscriber);

            CREATE TABLE subscription_history (
                seq INTEGER PRIMARY KEY,
                tenant TEXT NOT NULL,
                subscriber TEXT NOT NULL,
                at_ns INTEGER NOT NULL,
                change TEXT NOT NULL,
                source TEXT NOT NULL,              -- plugin/instance, or operator
                reference TEXT NOT NULL            -- e.g. the Stripe event id
            );
            CREATE INDEX subscription_history_by_subscriber ON subscription_history (tenant, subscriber, seq);

            PRAGMA user_version = 4;
            """)
    }
}
