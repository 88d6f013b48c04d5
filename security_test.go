package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// TestStoreDumpHoldsNoCookie: nothing the store keeps is a usable cookie
// value, and a stored key presented as a cookie opens nothing.
func TestStoreDumpHoldsNoCookie(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for range 5 {
		ids = append(ids, f.newSession("user", "dave"))
	}
	var dump strings.Builder
	if err := f.store.Iterate(t.Context(), func(key string, rec session.Record) bool {
		dump.WriteString(key)
		dump.Write(rec.Data)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if strings.Contains(dump.String(), id) {
			t.Fatalf("store dump contains the cookie value %q", id)
		}
	}
	var keys []string
	f.store.Iterate(t.Context(), func(key string, _ session.Record) bool { keys = append(keys, key); return true })
	for _, k := range keys {
		// A key is 64 characters and too long for a default ID; with a
		// manager that accepted 64-character IDs it would still be hashed
		// again and miss.
		m := session.New(f.store)
		m.IDLength = 64
		m.Now = f.clock.Now
		var got any
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(&http.Cookie{Name: "session", Value: k})
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := m.Load(r.Context())
			got = s.Get("user")
		})).ServeHTTP(httptest.NewRecorder(), req)
		if got != nil {
			t.Fatalf("a stored key used as a cookie opened a session")
		}
	}
}

func TestRawIDsStoreTheID(t *testing.T) {
	f := newFixture(t)
	f.m.RawIDs = true
	f.m.IDAlphabet = session.AlphabetPHP
	f.m.IDLength = 32
	id := f.newSession("k", "v")
	if len(id) != 32 || strings.Trim(id, session.AlphabetPHP) != "" {
		t.Fatalf("PHP-style ID %q", id)
	}
	if _, err := f.store.Store.Load(t.Context(), id); err != nil {
		t.Fatalf("raw ID is not the store key: %v", err)
	}
}

// unconditional wraps a store that declares it cannot compare-and-set.
type unconditional struct{ *countingStore }

func (unconditional) Unconditional() bool { return true }

func (u unconditional) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	// Last writer wins: ignore the version.
	cur, err := u.countingStore.Store.Load(ctx, key)
	if err == nil {
		rec.Version = cur.Version
	} else {
		rec.Version = 0
	}
	return u.countingStore.Save(ctx, key, rec)
}

func TestUnconditionalStoreLastWriterWins(t *testing.T) {
	f := newFixture(t)
	f.m.Store = unconditional{f.store}
	id := f.newSession("k", "first")
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := load(t, f.m, r)
		// Another request saves meanwhile: a compare-and-set would now
		// conflict; an unconditional store overwrites.
		cur, _ := f.store.Store.Load(r.Context(), f.m.KeyOf(id))
		cur.Expiry = time.Now().Add(time.Hour)
		if _, err := f.store.Store.Save(r.Context(), f.m.KeyOf(id), cur); err != nil {
			t.Fatal(err)
		}
		s.Set("k", "second")
	}, id)
	if f.value(id, "k") != "second" {
		t.Fatal("last writer did not win on an unconditional store")
	}
}

// With raw IDs (PHP's mode) nothing reachable through a pre-login ID holds
// the new ID: not the retired record's data, not Inspect, not the
// session's values. Whoever planted the old ID cannot follow the login.
func TestRawIDsRetiredRecordHoldsNoNewID(t *testing.T) {
	f := newFixture(t)
	f.m.RawIDs = true
	old := f.newSession("cart", 1)
	newID := f.renew(old, "alice")
	rec, err := f.store.Store.Load(t.Context(), f.m.KeyOf(old))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(rec.Data), newID) {
		t.Fatal("the retired record's data holds the new ID")
	}
	_, values, err := f.m.Inspect(t.Context(), f.m.KeyOf(old))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		if strings.Contains(k, newID) || strings.Contains(fmt.Sprint(v), newID) {
			t.Fatalf("Inspect of the old ID shows the new ID under %q", k)
		}
	}
	// The link the server follows is kept under keys no client can
	// present: a lenient manager given each of them opens nothing.
	lenient := session.New(f.store)
	lenient.RawIDs, lenient.MinIDLength, lenient.AcceptIDAlphabet = true, 8, session.AlphabetURL+".:"
	lenient.Now = f.clock.Now
	f.store.Iterate(t.Context(), func(key string, rec session.Record) bool {
		if key == old || key == newID {
			return true
		}
		if strings.Contains(string(rec.Data), old) && !strings.Contains(string(rec.Data), newID) {
			return true // the link back to the pre-login ID: nothing to hide
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(&http.Cookie{Name: "session", Value: key})
		lenient.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if s, _ := lenient.Load(r.Context()); !s.IsNew() {
				t.Errorf("the link record %q opens as a session", key)
			}
		})).ServeHTTP(httptest.NewRecorder(), req)
		return true
	})
	// A write through the old raw ID in its grace period goes to the
	// login; the old ID still never sees it.
	if rec := f.set(old, "cart", 2); rec.Code != http.StatusOK {
		t.Fatalf("write through the retired raw ID: status %d", rec.Code)
	}
	if f.value(newID, "cart") != 2 || f.value(newID, "user") != "alice" || f.value(old, "user") != nil {
		t.Fatal("the write through the old ID did not reach the login, or the old ID sees it")
	}
	// A logout through the new ID ends the old one too.
	f.destroy(newID)
	if f.store.Len() != 0 {
		t.Fatalf("%d records left after a logout with raw IDs", f.store.Len())
	}
}

// Commit on a request that never loaded its session vouches for no ID:
// the client's unchecked (planted, or destroyed) ID is not returned as the
// token to present.
func TestCommitNeverVouchesForAnUncheckedID(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"planted" + strings.Repeat("A", 40), f.newSession("n", 1)} {
		ctx, err := f.m.Attach(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := f.m.Commit(ctx)
		if err != nil || tok.Value != "" || tok.Changed {
			t.Fatalf("Commit without Load returned %+v, %v", tok, err)
		}
	}
}
