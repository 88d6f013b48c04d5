// Package sqlstore is a session.Store on database/sql for MySQL/MariaDB,
// PostgreSQL and SQLite. It needs only database/sql at run time: bring your
// own driver (for example github.com/go-sql-driver/mysql,
// github.com/jackc/pgx/v5/stdlib or modernc.org/sqlite).
//
// Two table layouts are supported:
//
//   - Native (the default, [New]): session_id, data as BLOB/BYTEA,
//     created_at, modified_at, an indexed expires_at, a version column for
//     compare-and-set, and an indexed owner column. One statement per Load,
//     Save (common case), Touch and new session. *Store implements
//     session.Store, Toucher, Collector, Iterator and OwnerIndex.
//   - Compatibility ([NewCompat]): the session_data table of Phalcon's
//     incubator Database adapter (phalcon/incubator-session) exactly
//     (session_id VARCHAR(35), data text, created_at, modified_at), shared
//     with PHP applications. Expiry is
//     COALESCE(modified_at, created_at) + MaxLifetime, versions are derived
//     from the stored data (a compare-and-set on the value) and the data must
//     be valid UTF-8 text (or base64, see Options.Base64). *CompatStore
//     implements session.Store, Toucher, Collector and Iterator, but not
//     OwnerIndex.
//
// [CreateSchema], [Migrate], [UpgradeIncubator34] and [UpgradeToNative]
// create and upgrade tables; all are idempotent.
//
// All times come from one application clock (Options.Now) in UTC; the
// database's CURRENT_TIMESTAMP is never used for a value the store reads.
// Table and column names are validated and quoted; values always travel as
// statement parameters. A row Load cannot read is reported with an error
// wrapping session.ErrCorrupt; deadlocks, lock wait timeouts, serialization
// and (Galera) certification failures during a save wrap
// session.ErrConflict, so that the manager reloads and retries. Owner
// lookups are exact: byte for byte, whatever the owner column's collation.
//
// On SQLite, open the database with [OpenSQLite]: a write pool of one
// connection and a read-only pool (Options.ReadDB), sized so that bursts
// of requests need no tuning; the store lets its writes through one at a
// time. A single pool of your own opened with [SQLiteDSN] also works.
package sqlstore
