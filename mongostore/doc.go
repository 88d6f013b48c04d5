// Package mongostore is a session.Store on MongoDB (and MongoDB-wire servers
// such as FerretDB) through the official driver go.mongodb.org/mongo-driver/v2.
//
// It reads and writes the documents of the Phalcon incubator's Mongo session
// adapter, {_id: <session id>, modified: <date or null>, data: <string>}, so
// that a PHP application and a Go application can share one collection, and
// adds fields of its own (expires, version, owner, created) that PHP ignores.
//
// Every operation is one command: Load is one find, Save one update (with
// upsert for a new record), Touch one update, Delete one delete. Save is a
// compare-and-set on a stored version; two concurrent first saves of one key
// end with one success and one session.ErrConflict.
//
// The store implements session.Store, session.Toucher, session.Collector,
// session.Iterator and session.OwnerIndex. See the README for the document
// layout, how documents written by PHP are judged and versioned, and the
// indexes that [Store.EnsureIndexes] creates.
package mongostore
