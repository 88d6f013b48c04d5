// Package interop holds end-to-end tests showing that a PHP application and
// a Go service using sessionkit share one session table or collection: the
// incubator adapter's session_data table on MariaDB and SQLite (sqlstore's compatibility
// layout) and the incubator adapter's {_id, modified, data} documents on a MongoDB-wire
// server (mongostore in Compat mode).
//
// The PHP side is real PHP (php-cli) using its own session machinery with
// handlers that issue the incubator adapter's queries (php/IncubatorDatabaseHandler.php,
// php/IncubatorMongoHandler.php, driven by php/run.php); the Go side is a
// session.Manager set up by phalcon.Configure and read through
// phalcon.Wrap. The package has no API: see README.md and the tests.
package interop
