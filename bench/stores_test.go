package bench

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/bradfitz/gomemcache/memcache"
	"github.com/gorilla/sessions"
	"github.com/sessionkit/session"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// In-process stores have no driver to count at, so their store calls are
// counted at the library's store interface by these thin wrappers.

// countSK wraps a sessionkit store, keeping its Toucher capability.
func countSK(s session.Store, c *counter) session.Store {
	if t, ok := s.(session.Toucher); ok {
		return &countedToucher{countedStore{s, c}, t}
	}
	return &countedStore{s, c}
}

type countedStore struct {
	inner session.Store
	c     *counter
}

func (s *countedStore) Load(ctx context.Context, key string) (session.Record, error) {
	s.c.add()
	return s.inner.Load(ctx, key)
}

func (s *countedStore) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	s.c.add()
	return s.inner.Save(ctx, key, rec)
}

func (s *countedStore) Delete(ctx context.Context, key string) error {
	s.c.add()
	return s.inner.Delete(ctx, key)
}

type countedToucher struct {
	countedStore
	t session.Toucher
}

func (s *countedToucher) Touch(ctx context.Context, key string, expiry time.Time) error {
	s.c.add()
	return s.t.Touch(ctx, key, expiry)
}

// countedSCS wraps an scs store.
type countedSCS struct {
	inner scs.Store
	c     *counter
}

func (s *countedSCS) Find(token string) ([]byte, bool, error) {
	s.c.add()
	return s.inner.Find(token)
}

func (s *countedSCS) Commit(token string, b []byte, expiry time.Time) error {
	s.c.add()
	return s.inner.Commit(token, b, expiry)
}

func (s *countedSCS) Delete(token string) error {
	s.c.add()
	return s.inner.Delete(token)
}

// countedGorilla wraps a gorilla store: New with a session cookie is a load
// (gorilla's stores read the record there), Save a write.
type countedGorilla struct {
	inner sessions.Store
	c     *counter
}

func (s *countedGorilla) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

func (s *countedGorilla) New(r *http.Request, name string) (*sessions.Session, error) {
	if _, err := r.Cookie(name); err == nil {
		s.c.add()
	}
	return s.inner.New(r, name)
}

func (s *countedGorilla) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	s.c.add()
	return s.inner.Save(r, w, sess)
}

// scs has no MongoDB store that the module proxy serves here
// (github.com/alexedwards/scs/mongodbstore) and no memcached store at all.
// These two adapters give scs the same one-command Find and Commit that its
// other stores have, so that the manager's behaviour can be compared on
// those servers; they are this benchmark's code, not scs's.

// scsMongo is an scs.CtxStore on a MongoDB collection: documents
// {_id: token, data: binary, expiry: date}.
type scsMongo struct{ coll *mongo.Collection }

func (m scsMongo) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var doc struct {
		Data []byte `bson:"data"`
	}
	err := m.coll.FindOne(ctx, bson.D{{Key: "_id", Value: token}, {Key: "expiry", Value: bson.D{{Key: "$gt", Value: time.Now()}}}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return doc.Data, true, nil
}

func (m scsMongo) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := m.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: token}},
		bson.D{{Key: "_id", Value: token}, {Key: "data", Value: b}, {Key: "expiry", Value: expiry}},
		options.Replace().SetUpsert(true))
	return err
}

func (m scsMongo) DeleteCtx(ctx context.Context, token string) error {
	_, err := m.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: token}})
	return err
}

func (m scsMongo) Find(token string) ([]byte, bool, error) {
	return m.FindCtx(context.Background(), token)
}

func (m scsMongo) Commit(token string, b []byte, expiry time.Time) error {
	return m.CommitCtx(context.Background(), token, b, expiry)
}

func (m scsMongo) Delete(token string) error { return m.DeleteCtx(context.Background(), token) }

// scsMemcache is an scs.Store on memcached: one item per token, expiring
// with the session.
type scsMemcache struct {
	client *memcache.Client
	prefix string
}

func (m scsMemcache) Find(token string) ([]byte, bool, error) {
	it, err := m.client.Get(m.prefix + token)
	if errors.Is(err, memcache.ErrCacheMiss) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return it.Value, true, nil
}

func (m scsMemcache) Commit(token string, b []byte, expiry time.Time) error {
	return m.client.Set(&memcache.Item{Key: m.prefix + token, Value: b, Expiration: int32(expiry.Unix())})
}

func (m scsMemcache) Delete(token string) error {
	err := m.client.Delete(m.prefix + token)
	if errors.Is(err, memcache.ErrCacheMiss) {
		return nil
	}
	return err
}
