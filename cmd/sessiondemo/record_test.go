package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session/cmd/internal/testenv"
)

// TestRecordTimes checks the times of the record page: shown in UTC, the
// modification time that of the last save (on the compatibility layouts
// too, which derive the expiry from it), never in the future.
func TestRecordTimes(t *testing.T) {
	backends := []struct {
		name, env string
		url       func(t testing.TB) string
	}{
		{"sqlite", "", testenv.SQLite},
		{"sqlite-compat", "", func(t testing.TB) string { return testenv.SQLite(t) + "?layout=compat" }},
		{"mysql-compat", "SESSION_TEST_MYSQL_DSN", func(t testing.TB) string { return testenv.MySQL(t, "layout=compat") }},
		{"postgres-compat", "SESSION_TEST_POSTGRES_DSN", func(t testing.TB) string { return testenv.Postgres(t, "layout=compat") }},
		{"mongo-compat", "SESSION_TEST_MONGO_URI", func(t testing.TB) string { return testenv.Mongo(t) + "&layout=compat" }},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			if b.env != "" {
				testenv.Need(t, b.env)
			}
			t.Parallel()
			srv, _ := startDemo(t, b.url(t))
			d := newBrowser(t, srv.URL)
			d.get("/")
			if code, body := d.post("/login", url.Values{"name": {"alice"}}); code != http.StatusOK {
				t.Fatalf("login: %d\n%s", code, body)
			}
			saved := time.Now()
			code, body := d.get("/record")
			if code != http.StatusOK {
				t.Fatalf("GET /record: %d\n%s", code, body)
			}
			shown := func(name string) time.Time {
				t.Helper()
				v := find(body, `<tr><th>`+name+`</th><td>([^<(]*)`)
				tm, err := time.Parse(timeLayout, strings.TrimSpace(v))
				if err != nil {
					t.Fatalf("%s %q is not a UTC time (%s): %v", name, v, timeLayout, err)
				}
				return tm
			}
			created, modified, expiry := shown("created"), shown("modified"), shown("expiry")
			// Compat layouts keep whole seconds.
			if modified.After(saved) || saved.Sub(modified) > 10*time.Second {
				t.Errorf("modified %v, want the time of the login's save (about %v)", modified, saved.UTC())
			}
			if created.After(modified) || !expiry.After(modified) {
				t.Errorf("created %v, modified %v, expiry %v: out of order", created, modified, expiry)
			}
			if ago := find(body, `\((in [^)]*|[^)]* ago)\)`); !strings.HasSuffix(ago, " ago") {
				t.Errorf("modified is shown as %q, want a time in the past", ago)
			}
		})
	}
}

// TestTimesInUTC checks that pages show a time in UTC whatever its
// location.
func TestTimesInUTC(t *testing.T) {
	la := time.FixedZone("PST", -8*3600)
	tm := time.Date(2026, 12, 1, 12, 16, 32, 0, la)
	var b strings.Builder
	if err := pages["record"].ExecuteTemplate(&b, "content", pageData{Record: &recordView{Stored: true, Modified: tm}}); err != nil {
		t.Fatal(err)
	}
	if want := "2026-12-01 20:16:32 UTC"; !strings.Contains(b.String(), want) {
		t.Errorf("record page shows %q, want %s", find(b.String(), `<th>modified</th><td>([^<]*)`), want)
	}
}
