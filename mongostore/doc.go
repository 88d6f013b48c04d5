// Package mongostore is a session.Store on MongoDB (and MongoDB-wire servers
// such as FerretDB) through the official driver go.mongodb.org/mongo-driver/v2.
//
// It reads and writes the documents of the Phalcon incubator's Mongo session
// adapter, {_id: <session id>, modified: <date or null>, data: <string>}, so
// that a PHP application and a Go application can share one collection, and
// adds fields of its own (expires, version, owner, created) that PHP ignores.
//
// Load is one find on _id alone, and liveness is judged from the
// document's fields with the store's clock. A new record is one insert (a
// duplicate _id is a conflict unless the stored document is expired), a
// native save one update whose filter is _id and the stored version, Touch
// one update, Delete one delete. In Compat mode, where PHP shares the
// collection, a save reads the document and updates it on the condition
// that its version and data are still those read, so that a PHP write
// between a Go load and a Go save is a session.ErrConflict, never lost.
//
// The store implements session.Store, session.Toucher, session.Collector,
// session.Iterator and session.OwnerIndex. See the README for the document
// layout, how documents written by PHP are judged and versioned, and the
// indexes that [Store.EnsureIndexes] creates.
package mongostore
