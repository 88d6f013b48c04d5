package otelsession_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/otelsession"
)

// TestManager drives a real Manager over memstore through HTTP and checks
// what the metrics say after each request: a new session, a read, a
// version conflict, a renewal, a logout, an unknown cookie and a record
// that does not decode.
func TestManager(t *testing.T) {
	r := newReader(t)
	obs, err := otelsession.New(r.p)
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New()
	m := session.New(store)
	m.Observer = obs
	m.Cookie.Insecure = true // httptest serves plain HTTP
	m.RenewGrace = -1        // Renew deletes the old record at once
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))

	mux := http.NewServeMux()
	load := func(w http.ResponseWriter, r *http.Request) *session.Session {
		s, err := m.Load(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return nil
		}
		return s
	}
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		if s := load(w, r); s != nil {
			s.Set("v", r.URL.Query().Get("v"))
		}
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		if s := load(w, r); s != nil {
			v, _ := session.Get[string](s, "v")
			io.WriteString(w, v)
		}
	})
	// /conflict changes the session while, behind the manager's back,
	// another writer saves the record first: the manager's save meets a
	// conflict, reloads and retries.
	mux.HandleFunc("/conflict", func(w http.ResponseWriter, r *http.Request) {
		s := load(w, r)
		if s == nil {
			return
		}
		s.Set("v", "mine")
		rec, err := store.Load(r.Context(), s.Key())
		if err == nil {
			_, err = store.Save(r.Context(), s.Key(), rec)
		}
		if err != nil {
			t.Errorf("the other writer: %v", err)
		}
	})
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) {
		if s := load(w, r); s != nil {
			if err := s.Renew(); err != nil {
				t.Errorf("Renew: %v", err)
			}
		}
	})
	mux.HandleFunc("/destroy", func(w http.ResponseWriter, r *http.Request) {
		if s := load(w, r); s != nil {
			s.Destroy()
		}
	})
	srv := httptest.NewServer(m.Handler(mux))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(path string, cookie *http.Cookie) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		c := client
		if cookie != nil {
			req.AddCookie(cookie)
			c = &http.Client{Timeout: 10 * time.Second} // no jar: this cookie only
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		return string(body)
	}
	sessionCookie := func() *http.Cookie {
		for _, c := range jar.Cookies(mustParse(t, srv.URL)) {
			if c.Name == "session" {
				return c
			}
		}
		t.Fatal("no session cookie")
		return nil
	}

	calls := func(op session.StoreOp, class string) string { return string(op) + "/" + class }
	snapshot := func() map[string]int64 {
		ms := r.collect()
		out := map[string]int64{}
		for _, op := range []session.StoreOp{session.OpLoad, session.OpSave, session.OpTouch, session.OpDelete} {
			for _, class := range []string{"none", "not_found", "conflict", "other"} {
				out[calls(op, class)] = sum(t, ms, otelsession.MetricStoreCalls, otelsession.AttrOp.String(string(op)), otelsession.AttrError.String(class))
			}
			n, _ := histogram(t, ms, otelsession.MetricStoreDuration, otelsession.AttrOp.String(string(op)))
			out["latency "+string(op)] = int64(n)
		}
		for _, name := range []string{otelsession.MetricCreated, otelsession.MetricRenewed, otelsession.MetricDestroyed,
			otelsession.MetricConflicts, otelsession.MetricRetries, otelsession.MetricDecodeErrors} {
			out[name] = sum(t, ms, name)
		}
		return out
	}
	last := snapshot()
	// step checks the changes since the previous step: every counter
	// named in want changed by exactly that much, every other one stayed.
	step := func(name string, want map[string]int64) {
		t.Helper()
		now := snapshot()
		for k, v := range now {
			if d := v - last[k]; d != want[k] {
				t.Errorf("%s: %s changed by %d, want %d", name, k, d, want[k])
			}
		}
		last = now
	}

	get("/set?v=hello", nil)
	step("new session", map[string]int64{otelsession.MetricCreated: 1, calls(session.OpSave, "none"): 1, "latency save": 1})

	if got := get("/get", nil); got != "hello" {
		t.Fatalf("/get = %q", got)
	}
	step("read", map[string]int64{calls(session.OpLoad, "none"): 1, "latency load": 1})

	get("/conflict", nil)
	step("conflict", map[string]int64{
		otelsession.MetricConflicts: 1, otelsession.MetricRetries: 1,
		calls(session.OpLoad, "none"): 2, "latency load": 2, // the request's load and the reload
		calls(session.OpSave, "conflict"): 1, calls(session.OpSave, "none"): 1, "latency save": 2,
	})
	if got := get("/get", nil); got != "mine" {
		t.Fatalf("after the conflict /get = %q, want mine", got)
	}
	step("read after the conflict", map[string]int64{calls(session.OpLoad, "none"): 1, "latency load": 1})

	old := sessionCookie()
	get("/renew", nil)
	step("renew", map[string]int64{
		otelsession.MetricRenewed: 1,
		// The request's load, and the old record's, read for its links
		// before it is deleted (RenewGrace < 0).
		calls(session.OpLoad, "none"): 2, "latency load": 2,
		// The session saved under the new ID, the old ID retired (marked
		// read-only with a link to the new one), then marked ended and
		// deleted.
		calls(session.OpSave, "none"): 3, "latency save": 3,
		calls(session.OpDelete, "none"): 1, "latency delete": 1,
	})

	get("/get", old) // the ID before Renew: unknown now
	step("unknown cookie", map[string]int64{calls(session.OpLoad, "not_found"): 1, "latency load": 1})

	get("/destroy", nil)
	step("destroy", map[string]int64{
		otelsession.MetricDestroyed: 1,
		// The request's load, then the chain of IDs linked by Renew read
		// for their links: the session's record and that of the ID it was
		// renewed from (deleted already).
		calls(session.OpLoad, "none"): 2, calls(session.OpLoad, "not_found"): 1, "latency load": 3,
		// The session's record marked ended (a compare-and-set, so that a
		// Renew at the same moment cannot link a new ID to it unseen).
		calls(session.OpSave, "none"): 1, "latency save": 1,
		calls(session.OpDelete, "none"): 2, "latency delete": 2,
	})

	// A record that does not decode gives a fresh session.
	get("/set?v=x", nil)
	step("second new session", map[string]int64{otelsession.MetricCreated: 1, calls(session.OpSave, "none"): 1, "latency save": 1})
	key := m.KeyOf(sessionCookie().Value)
	rec, err := store.Load(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	rec.Data = []byte("not gob")
	if _, err := store.Save(context.Background(), key, rec); err != nil {
		t.Fatal(err)
	}
	if got := get("/get", nil); got != "" {
		t.Errorf("/get on an undecodable record = %q, want a fresh session", got)
	}
	step("decode error", map[string]int64{otelsession.MetricDecodeErrors: 1, calls(session.OpLoad, "none"): 1, "latency load": 1})
}
