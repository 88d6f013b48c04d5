package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/storeurl"
	"github.com/sessionkit/session/cmd/internal/testenv"
)

// TestCommands runs every subcommand against every backend whose server
// is available: migrate, ls (with --owner and --json), show (by ID and by
// key, text and JSON), stats, gc (--dry-run, then for real) and rm.
func TestCommands(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			if b.Env != "" {
				testenv.Need(t, b.Env)
			}
			t.Parallel()
			url := b.URL(t)
			testCommands(t, b, url)
		})
	}
}

func testCommands(t *testing.T, b testenv.Backend, url string) {
	st := "--store=" + url
	r := must(t, st, "migrate")
	if r.stdout == "" {
		t.Errorf("migrate printed nothing")
	}
	must(t, st, "migrate") // idempotent
	s := seed(t, url, b.Owners, b.Collector)
	live := append(append([]string{}, s.alice...), s.bob...)

	t.Run("ls", func(t *testing.T) {
		if !b.Iterator {
			r := fails(t, exitFail, "cannot list sessions", st, "ls")
			if strings.Contains(r.stderr, "*") || strings.Contains(r.stderr, "store.Store") || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("ls on a store without listing: %q (one line, no Go type names)", r.stderr)
			}
			return
		}
		r := must(t, st, "ls")
		for _, id := range live {
			if !strings.Contains(r.stdout, s.keyOf(id)) {
				t.Errorf("ls does not list %s:\n%s", s.keyOf(id), r.stdout)
			}
		}
		for _, k := range s.expired {
			if strings.Contains(r.stdout, k) {
				t.Errorf("ls lists the expired record %s", k)
			}
		}
		if want := fmt.Sprintf("%d session(s)", len(live)); !strings.Contains(r.stderr, want) {
			t.Errorf("ls stderr %q, want %q", r.stderr, want)
		}
		if !strings.HasPrefix(r.stdout, "KEY ") {
			t.Errorf("ls has no header: %q", r.stdout)
		}
		if !b.Owners {
			return
		}
		r = must(t, st, "ls", "--owner", "alice", "--json")
		var keys []string
		sc := bufio.NewScanner(strings.NewReader(r.stdout))
		for sc.Scan() {
			var line lsJSON
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("ls --json line %q: %v", sc.Text(), err)
			}
			if line.Owner != "alice" || line.Size == 0 || line.Expires.IsZero() {
				t.Errorf("ls --owner alice --json: %+v", line)
			}
			keys = append(keys, line.Key)
		}
		want := []string{s.keyOf(s.alice[0]), s.keyOf(s.alice[1])}
		slices.Sort(keys)
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Errorf("ls --owner alice lists %v, want %v", keys, want)
		}
		r = must(t, st, "ls", "--limit", "1", "--json")
		if n := strings.Count(r.stdout, "\n"); n != 1 {
			t.Errorf("ls --limit 1 printed %d lines", n)
		}
	})

	t.Run("show", func(t *testing.T) {
		id := s.bob[0]
		r := must(t, st, "show", id)
		if !strings.Contains(r.stdout, "key:") || !strings.Contains(r.stdout, s.keyOf(id)) {
			t.Errorf("show by ID does not print the key:\n%s", r.stdout)
		}
		if !regexp.MustCompile(`(?m)^\s+user\s+string\s+bob$`).MatchString(r.stdout) {
			t.Errorf("show does not print user = bob:\n%s", r.stdout)
		}
		if b.Owners && !regexp.MustCompile(`(?m)^owner:\s+bob$`).MatchString(r.stdout) {
			t.Errorf("show does not print the owner:\n%s", r.stdout)
		}
		r = must(t, st, "show", "--json", "--hex", s.keyOf(id))
		var out showJSON
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("show --json: %v\n%s", err, r.stdout)
		}
		if out.Key != s.keyOf(id) || out.Values["user"] != "bob" || out.Size == 0 || len(out.Data) != 2*out.Size {
			t.Errorf("show --json by key: %+v", out)
		}
		if n, _ := out.Values["n"].(float64); n != 3 {
			t.Errorf("show --json: n = %v, want 3", out.Values["n"])
		}
		fails(t, exitFail, "no live session", st, "show", randomID())
		if len(s.expired) > 0 {
			fails(t, exitFail, "no live session", st, "show", s.expired[0])
		}
		// The wrong codec is a clear error, after the metadata.
		r = fails(t, exitFail, "decode the values", st, "show", "--codec", "json", id)
		if !strings.Contains(r.stdout, s.keyOf(id)) {
			t.Errorf("show with the wrong codec does not print the metadata:\n%s", r.stdout)
		}
		fails(t, exitUsage, "unknown codec", st, "show", "--codec", "yaml", id)
	})

	t.Run("stats", func(t *testing.T) {
		if !b.Iterator {
			fails(t, exitFail, "cannot list sessions", st, "stats")
			return
		}
		r := must(t, st, "stats")
		if !regexp.MustCompile(fmt.Sprintf(`(?m)^sessions:\s+%d$`, len(live))).MatchString(r.stdout) {
			t.Errorf("stats:\n%s", r.stdout)
		}
		var js statsJSON
		r = must(t, st, "stats", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &js); err != nil {
			t.Fatalf("stats --json: %v\n%s", err, r.stdout)
		}
		if js.Sessions != len(live) || js.Expired == nil || *js.Expired != len(s.expired) || js.Total == 0 || js.Max == 0 || js.Average != js.Total/int64(js.Sessions) {
			t.Errorf("stats --json: %+v (expired %v), want %d sessions, %d expired", js, deref(js.Expired), len(live), len(s.expired))
		}
		if wantOwners := map[bool]int{true: 2, false: 0}[b.Owners]; js.Owners != wantOwners {
			t.Errorf("stats: %d owners, want %d", js.Owners, wantOwners)
		}
	})

	t.Run("gc", func(t *testing.T) {
		r := must(t, st, "gc", "--dry-run")
		want := fmt.Sprintf("%d expired session(s) would be removed", len(s.expired))
		if !b.Collector {
			want = "nothing to collect"
		}
		if !strings.Contains(r.stdout, want) {
			t.Errorf("gc --dry-run: %q, want %q", r.stdout, want)
		}
		if b.Collector && b.Iterator {
			// The dry run removed nothing.
			if got := expiredCount(t, st); got != len(s.expired) {
				t.Errorf("after gc --dry-run: %d expired, want %d", got, len(s.expired))
			}
		}
		r = must(t, st, "gc")
		if b.Collector {
			if want := fmt.Sprintf("removed %d expired session(s)", len(s.expired)); !strings.Contains(r.stdout, want) {
				t.Errorf("gc: %q, want %q", r.stdout, want)
			}
			if got := expiredCount(t, st); got != 0 {
				t.Errorf("after gc: %d expired, want 0", got)
			}
		}
		// The live sessions are all still there.
		for _, id := range live {
			must(t, st, "show", id)
		}
	})

	t.Run("rm", func(t *testing.T) {
		id := s.alice[0]
		r := must(t, st, "rm", id)
		if want := "removed " + s.keyOf(id); !strings.Contains(r.stdout, want) {
			t.Errorf("rm: %q, want %q", r.stdout, want)
		}
		fails(t, exitFail, "no live session", st, "show", id)
		// By key; a missing one fails but the others are still removed.
		r = fails(t, exitFail, "no live session", st, "rm", randomID(), s.keyOf(s.alice[1]))
		if !strings.Contains(r.stdout, "removed "+s.keyOf(s.alice[1])) {
			t.Errorf("rm by key: %q", r.stdout)
		}
		fails(t, exitFail, "no live session", st, "show", s.alice[1])
		must(t, st, "show", s.bob[0])
	})
}

// expiredCount returns the expired count of "stats --json".
func expiredCount(t *testing.T, st string) int {
	t.Helper()
	var js statsJSON
	r := must(t, st, "stats", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &js); err != nil || js.Expired == nil {
		t.Fatalf("stats --json: %v\n%s", err, r.stdout)
	}
	return *js.Expired
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestDashID checks that an ID starting with '-' (PHP's alphabet allows
// it) is taken as an argument after "--", and as a flag without.
func TestDashID(t *testing.T) {
	url := testenv.SQLite(t)
	st := "--store=" + url
	must(t, st, "migrate")
	ctx := context.Background()
	tgt, err := storeurl.Open(ctx, url, storeurl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	id := "-" + randomID()[1:]
	data, _ := session.GobCodec{}.Encode(map[string]any{"user": "dash"})
	key := session.New(tgt.Store).KeyOf(id)
	if _, err := tgt.Store.Save(ctx, key, session.Record{Data: data, Expiry: time.Now().Add(time.Hour), Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	fails(t, exitUsage, "flag provided but not defined", st, "show", id)
	r := must(t, st, "show", "--", id)
	if !strings.Contains(r.stdout, key) || !strings.Contains(r.stdout, "dash") {
		t.Errorf("show -- %s:\n%s", id, r.stdout)
	}
	must(t, st, "rm", "--", id)
	fails(t, exitFail, "no live session", st, "show", "--", id)
}
