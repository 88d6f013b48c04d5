package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sessionkit/session"
)

// Item 11: a response that sets the session cookie keeps shared caches from
// storing it, merged with the handler's own Cache-Control.
func TestCachesNeverKeepASessionCookie(t *testing.T) {
	f := newFixture(t)
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		load(t, f.m, r).Set("k", 1)
	}, "")
	if cc := rec.Header().Get("Cache-Control"); cc != `public, max-age=60, no-cache="Set-Cookie"` {
		t.Fatalf("Cache-Control %q", cc)
	}
	if v := rec.Header().Values("Vary"); len(v) != 1 || v[0] != "Cookie" {
		t.Fatalf("Vary %q", v)
	}
	// A response that sets no cookie is left alone.
	id := f.newSession("k", 1)
	rec = f.serve(func(w http.ResponseWriter, r *http.Request) { _ = load(t, f.m, r).Get("k") }, id)
	if rec.Header().Get("Cache-Control") != "" || rec.Header().Get("Vary") != "" {
		t.Fatalf("read-only response got cache headers: %v", rec.Header())
	}
}

// Item 12: after Destroy, a Set in the same request starts a fresh session
// with that value; the destroyed ID stays dead.
func TestSetAfterDestroyStartsFreshSession(t *testing.T) {
	f := newFixture(t)
	old := f.newSession("user", "alice")
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := load(t, f.m, r)
		s.Destroy()
		s.Set("flash", "you have been logged out")
	}, old)
	c := f.sessionCookie(rec)
	if c == nil || c.Value == old || c.MaxAge < 0 {
		t.Fatalf("cookie after logout with a message: %q", rec.Header().Values("Set-Cookie"))
	}
	if len(rec.Header().Values("Set-Cookie")) != 1 {
		t.Fatalf("want one session cookie line, got %q", rec.Header().Values("Set-Cookie"))
	}
	if f.value(old, "user") != nil {
		t.Fatal("destroyed ID answers")
	}
	if f.value(c.Value, "flash") != "you have been logged out" || f.value(c.Value, "user") != nil {
		t.Fatal("fresh session after logout is wrong")
	}
}

// corruptStore answers ErrCorrupt for one key, as stores do for a record
// they cannot read.
type corruptStore struct {
	*countingStore
	key string
}

func (c *corruptStore) Load(ctx context.Context, key string) (session.Record, error) {
	if key == c.key {
		return session.Record{}, fmt.Errorf("teststore: created_at 0000-00-00: %w", session.ErrCorrupt)
	}
	return c.countingStore.Load(ctx, key)
}

// Item 13: a record the store reports as corrupt gives a fresh session and
// a log line, not an error on every request.
func TestCorruptMetadataGivesFreshSession(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("k", "v")
	f.m.Store = &corruptStore{countingStore: f.store, key: f.m.KeyOf(id)}
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := load(t, f.m, r)
		if !s.IsNew() {
			t.Error("corrupt record adopted")
		}
		s.Set("k", "fresh")
	}, id)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d for a corrupt record", rec.Code)
	}
	if c := f.sessionCookie(rec); c == nil || c.Value == id {
		t.Fatal("no fresh session")
	}
	if !strings.Contains(f.logs.String(), "corrupt") {
		t.Fatalf("not logged: %s", f.logs)
	}
}

// Cookies carry IDs the way PHP writes them: a comma is %2C, never quoted,
// and every form a client may send is read.
func TestCookieEncodingLikePHP(t *testing.T) {
	f := newFixture(t)
	f.m.IDAlphabet = session.AlphabetPHP
	f.m.IDLength = 32
	quoted := 0
	for range 100 {
		rec := f.set("", "k", "v")
		line := rec.Header().Get("Set-Cookie")
		if strings.Contains(line, `"`) || strings.Contains(strings.SplitN(line, ";", 2)[0], ",") {
			quoted++
		}
		id := f.sessionCookie(rec).Value
		raw := strings.ReplaceAll(id, "%2C", ",")
		for _, form := range []string{id, raw} {
			if f.value(form, "k") != "v" {
				t.Fatalf("cookie form %q not read back", form)
			}
		}
		// The quoted form (what a client that kept the quotes sends).
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Cookie", `session="`+raw+`"`)
		var got any
		f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = load(t, f.m, r).Get("k") })).ServeHTTP(httptest.NewRecorder(), req)
		if got != "v" {
			t.Fatalf("quoted cookie %q not read back", raw)
		}
	}
	if quoted != 0 {
		t.Fatalf("%d of 100 cookies quoted or with a raw comma", quoted)
	}
	for _, bad := range []string{"%zz", "abc%2", "%"} {
		if f.value(strings.Repeat("a", 30)+bad, "k") != nil {
			t.Fatalf("malformed escape %q accepted", bad)
		}
	}
}

// With raw IDs (records shared with PHP) the renewed record holds only the
// user's values: PHP sees no lifecycle metadata in $_SESSION.
func TestRenewWithRawIDsKeepsMetadataOutOfTheData(t *testing.T) {
	f := newFixture(t)
	f.m.RawIDs = true
	f.m.Codec = session.JSONCodec{}
	old := f.newSession("cart", "1 book")
	newID := f.renew(old, "alice")
	rec, err := f.store.Store.Load(t.Context(), newID)
	if err != nil {
		t.Fatal(err)
	}
	values, err := session.JSONCodec{}.Decode(rec.Data)
	if err != nil {
		t.Fatal(err)
	}
	for k := range values {
		if k != "cart" && k != "user" {
			t.Fatalf("renewed record holds %q: %s", k, rec.Data)
		}
	}
	if f.value(old, "user") != nil {
		t.Fatal("old ID sees the login")
	}
}
