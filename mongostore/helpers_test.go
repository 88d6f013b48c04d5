package mongostore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/session/mongostore"
)

const uriVar = "SESSION_TEST_MONGO_URI"

// commands counts the commands a client sends (CommandStartedEvent), by
// name: the store's round trips.
type commands struct {
	mu     sync.Mutex
	byName map[string]int
	total  int
}

func (c *commands) started(_ context.Context, e *event.CommandStartedEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byName == nil {
		c.byName = map[string]int{}
	}
	c.byName[e.CommandName]++
	c.total++
}

func (c *commands) reset() {
	c.mu.Lock()
	c.byName, c.total = nil, 0
	c.mu.Unlock()
}

func (c *commands) snapshot() (int, map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]int{}
	for k, v := range c.byName {
		m[k] = v
	}
	return c.total, m
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// env is a collection of its own on the test server, with a counting client.
type env struct {
	client *mongo.Client
	coll   *mongo.Collection
	cmds   *commands
}

// newEnv connects to SESSION_TEST_MONGO_URI (skipping when unset) and
// returns a fresh collection in a database of this test's own, dropped at
// the end of the test.
func newEnv(t testing.TB) *env {
	t.Helper()
	uri := os.Getenv(uriVar)
	if uri == "" {
		t.Skipf("%s is not set: no MongoDB-wire server to test against", uriVar)
	}
	cmds := &commands{}
	client, err := mongo.Connect(options.Client().
		ApplyURI(uri).
		SetServerSelectionTimeout(5 * time.Second).
		SetMonitor(&event.CommandMonitor{Started: cmds.started}))
	if err != nil {
		t.Fatalf("connect %s: %v", uri, err)
	}
	db := client.Database("mongostore_test_" + randomHex(6))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			t.Errorf("drop test database: %v", err)
		}
		_ = client.Disconnect(ctx)
	})
	ctx := ctxFor(t)
	if err := client.Ping(ctx, nil); err != nil {
		t.Fatalf("ping %s: %v", uri, err)
	}
	return &env{client: client, coll: db.Collection("sessions"), cmds: cmds}
}

// ferretDBVersion returns the FerretDB version the server reports in
// buildInfo ("unknown" for an embedded FerretDB v1 built without its version
// file), or "" for another server.
func (e *env) ferretDBVersion(t testing.TB) string {
	t.Helper()
	var info struct {
		FerretDBVersion string `bson:"ferretdbVersion"`
	}
	if err := e.client.Database("admin").RunCommand(ctxFor(t), bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		t.Fatalf("buildInfo: %v", err)
	}
	return info.FerretDBVersion
}

func (e *env) store(t testing.TB, opts mongostore.Options) *mongostore.Store {
	t.Helper()
	s := newStore(t, e.coll, opts)
	if err := s.EnsureIndexes(ctxFor(t)); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	return s
}

// newStore is mongostore.New, failing the test on an error.
func newStore(t testing.TB, coll *mongo.Collection, opts mongostore.Options) *mongostore.Store {
	t.Helper()
	s, err := mongostore.New(coll, opts)
	if err != nil {
		t.Fatalf("mongostore.New: %v", err)
	}
	return s
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// clock is a settable Options.Now.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }
