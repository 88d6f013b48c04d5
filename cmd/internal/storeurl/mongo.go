package storeurl

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/session/mongostore"
)

func init() {
	register(openMongo, []string{"collection", "layout", "max_lifetime"}, "mongodb", "mongodb+srv")
}

// Defaults for mongodb:// URLs without a database or collection.
const (
	defaultMongoDB         = "sessionkit"
	defaultMongoCollection = "sessions"
)

// openMongo opens a MongoDB store: mongodb://host:port/db?collection=NAME
// (defaults: database sessionkit, collection sessions). layout=compat
// writes data as strings, as the Phalcon incubator's adapter does;
// max_lifetime is the lifetime of documents written by PHP.
func openMongo(ctx context.Context, u *url.URL, p *params, o Options) (*Target, error) {
	db := strings.Trim(u.Path, "/")
	if db == "" {
		db = defaultMongoDB
	}
	coll := p.get("collection")
	if coll == "" {
		coll = defaultMongoCollection
	}
	client, err := mongo.Connect(options.Client().ApplyURI(u.String()))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	mo := mongostore.Options{Compat: p.layout == "compat", MaxLifetime: p.maxLifetime}
	s, err := mongostore.New(client.Database(db).Collection(coll), mo)
	if err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	where := fmt.Sprintf("MongoDB %s, collection %s.%s", u.Host, db, coll)
	t := &Target{Store: s, Where: where}
	if mo.Compat {
		t.MaxLifetime = p.maxLifetime
		if t.MaxLifetime == 0 {
			t.MaxLifetime = mongostore.DefaultMaxLifetime
		}
	}
	t.closers = append(t.closers, func() error { return client.Disconnect(context.Background()) })
	if err := client.Ping(ctx, nil); err != nil {
		t.Close()
		return nil, fmt.Errorf("connect to %s: %w", where, err)
	}
	t.migrate = func(ctx context.Context, m MigrateOptions) (string, error) {
		if m.Upgrade != "" {
			return "", fmt.Errorf("%w: --upgrade applies to SQL stores; Mongo documents of either layout are read as they are", ErrUsage)
		}
		if err := s.EnsureIndexes(ctx); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s: indexes %s and %s ensured", where, mongostore.OwnerIndexName, mongostore.ExpiresIndexName), nil
	}
	if o.Setup {
		if _, err := t.migrate(ctx, MigrateOptions{}); err != nil {
			t.Close()
			return nil, fmt.Errorf("create indexes on %s: %w", where, err)
		}
	}
	return p.finish(t)
}
