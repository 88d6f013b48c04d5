package reliability_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// TestConcurrentGCFromTwoServers: two application servers (two managers,
// each with its own client) collect the same store at the same time, as
// Manager.Cleanup on every app server does: every expired record is
// removed exactly once between them, no call fails, live records stay.
func TestConcurrentGCFromTwoServers(t *testing.T) {
	for _, b := range pick("files", "SQLite", "MariaDB", "PostgreSQL", "Mongo",
		"SQLite incubator table", "MariaDB incubator table", "PostgreSQL incubator table") {
		t.Run(b.name, func(t *testing.T) {
			open := b.prepare(t)
			c1, c2 := open(t), open(t)
			t.Cleanup(c1.close)
			t.Cleanup(c2.close)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			const expired, live = 600, 20
			key := func() string {
				var b [16]byte
				_, _ = rand.Read(b[:])
				return hex.EncodeToString(b[:])[:32] // fits the incubator table's VARCHAR(35)
			}
			now := time.Now()
			var liveKeys []string
			for i := range expired + live {
				k, exp := key(), now.Add(-time.Minute)
				if i >= expired {
					exp = now.Add(time.Hour)
					liveKeys = append(liveKeys, k)
				}
				if _, err := c1.store.Save(ctx, k, session.Record{Data: []byte("x"), Expiry: exp, Created: now.Add(-2 * time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			removed := make([]int, 2)
			errs := make([]error, 2)
			for i, c := range []*conn{c1, c2} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					m := session.New(c.store)
					removed[i], errs[i] = m.GCBatches(ctx, 50, nil)
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("server %d: %v", i+1, err)
				}
			}
			if got := removed[0] + removed[1]; got != expired {
				t.Fatalf("removed %d+%d = %d, want the %d expired records, each once", removed[0], removed[1], got, expired)
			}
			if ec, ok := c2.store.(session.ExpiredCounter); ok {
				if n, err := ec.CountExpired(ctx); err != nil || n != 0 {
					t.Fatalf("CountExpired after both GCs: %d, %v", n, err)
				}
			}
			for _, k := range liveKeys {
				if _, err := c2.store.Load(ctx, k); err != nil {
					t.Fatalf("live record %s after GC: %v", k, err)
				}
			}
			t.Logf("server 1 removed %d, server 2 removed %d", removed[0], removed[1])
		})
	}
}
