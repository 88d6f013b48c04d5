package storeurl

import (
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/filestore"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/mongostore"
	"github.com/sessionkit/session/sqlstore"
)

// Every store opened here that keeps expired records until a GC removes
// them counts them with a query of its own and collects them in batches:
// [Target.CountExpired] and the programs' GC rely on these interfaces and
// count nothing themselves.
var (
	_ session.ExpiredCounter = (*sqlstore.Store)(nil)
	_ session.ExpiredCounter = (*sqlstore.CompatStore)(nil)
	_ session.ExpiredCounter = (*mongostore.Store)(nil)
	_ session.ExpiredCounter = (*filestore.Store)(nil)
	_ session.ExpiredCounter = (*memstore.Store)(nil)

	_ session.BatchCollector = (*sqlstore.Store)(nil)
	_ session.BatchCollector = (*sqlstore.CompatStore)(nil)
	_ session.BatchCollector = (*mongostore.Store)(nil)
	_ session.BatchCollector = (*filestore.Store)(nil)
	_ session.BatchCollector = (*memstore.Store)(nil)
)
