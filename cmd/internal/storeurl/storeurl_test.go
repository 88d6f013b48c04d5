package storeurl

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/testenv"
	"github.com/sessionkit/session/phpcodec"
	"github.com/sessionkit/session/sqlstore"
)

func TestSQLTarget(t *testing.T) {
	abs, _ := filepath.Abs("rel/x.db")
	dir := t.TempDir()
	cases := []struct {
		url, driver, dsn string
		dialect          sqlstore.Dialect
	}{
		{"mysql://user:p%40ss@db.example:3307/app", "mysql", "user:p@ss@tcp(db.example:3307)/app?parseTime=true", sqlstore.MySQL},
		{"mysql://root@127.0.0.1/sessionkit?tls=skip-verify", "mysql", "root@tcp(127.0.0.1:3306)/sessionkit?parseTime=true&tls=skip-verify", sqlstore.MySQL},
		{"postgres://postgres@127.0.0.1:5432/sessionkit?sslmode=disable", "pgx", "postgres://postgres@127.0.0.1:5432/sessionkit?sslmode=disable", sqlstore.Postgres},
		{"sqlite://" + dir + "/s.db", "sqlite", "file:" + dir + "/s.db?_pragma=busy_timeout%285000%29&_pragma=journal_mode%28WAL%29&_txlock=immediate&mode=rw", sqlstore.SQLite},
		{"sqlite:rel/x.db?_pragma=foreign_keys(1)", "sqlite", "file:" + abs + "?_pragma=foreign_keys%281%29&_pragma=busy_timeout%285000%29&_pragma=journal_mode%28WAL%29&_txlock=immediate&mode=rw", sqlstore.SQLite},
		{"sqlite:rel/x.db?_pragma=busy_timeout(100)&_pragma=journal_mode(DELETE)&_txlock=deferred", "sqlite", "file:" + abs + "?_pragma=busy_timeout%28100%29&_pragma=journal_mode%28DELETE%29&_txlock=deferred&mode=rw", sqlstore.SQLite},
	}
	for _, c := range cases {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		got, err := sqlTarget(u)
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if dsn := got.dsnFor(sqliteReadWrite); got.driver != c.driver || dsn != c.dsn || got.dialect != c.dialect {
			t.Errorf("%s:\n got %s %q %v\nwant %s %q %v", c.url, got.driver, dsn, got.dialect, c.driver, c.dsn, c.dialect)
		}
		if strings.Contains(got.where, "p@ss") {
			t.Errorf("%s: where %q shows the password", c.url, got.where)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ url, want string }{
		{"", "empty URL"},
		{"ftp://x", `unknown scheme "ftp"`},
		{"memory:?table=x", "do not apply"},
		{"memory:?codec=xml", `unknown codec "xml"`},
		{"memory:?raw_ids=maybe", "raw_ids"},
		{"memory:?layout=compat", "do not apply"},
		{"sqlite:", "names no path"},
		{"sqlite:x.db?max_lifetime=soon", "max_lifetime"},
		{"mysql://root@host", "no database name"},
		{"mysql:///db", "no host"},
		{"postgres:///db", "no host"},
		{"memcache://", "no address"},
		{"redis-sentinel://127.0.0.1:26379/0", "master=NAME is required"},
		{"redis://127.0.0.1:6379/0?prefix=a{b}", "must not contain"},
		{"file:///tmp/x?table=y", "do not apply"},
	} {
		_, err := Open(ctx, c.url, Options{})
		if err == nil || !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%q): %v, want ErrUsage containing %q", c.url, err, c.want)
		}
	}
	_, err := Open(ctx, "mysql://root:topsecret@127.0.0.1:1/db?bad%zz", Options{})
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("an unparsable URL: %v (must fail without showing the password)", err)
	}
}

func TestCodecs(t *testing.T) {
	for name, want := range map[string]session.Codec{
		"binary": session.BinaryCodec{}, "gob": session.GobCodec{}, "json": session.JSONCodec{}, "php": phpcodec.PHP,
		"php_binary": phpcodec.PHPBinary, "php_serialize": phpcodec.PHPSerialize, "PHP": phpcodec.PHP,
	} {
		got, err := Codec(name)
		if err != nil || got != want {
			t.Errorf("Codec(%q) = %v, %v", name, got, err)
		}
	}
	if c, err := Codec(""); c != nil || err != nil {
		t.Errorf(`Codec("") = %v, %v; want nil (the default)`, c, err)
	}
}

func TestCompatDefaults(t *testing.T) {
	tgt, err := Open(context.Background(), "sqlite://"+t.TempDir()+"/c.db?layout=compat", Options{Setup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if !tgt.RawIDs || tgt.CodecName != "php" || tgt.Codec != phpcodec.PHP || tgt.Layout != "compat" || !tgt.NoOwners {
		t.Errorf("compat layout: raw %v codec %q layout %q noOwners %v", tgt.RawIDs, tgt.CodecName, tgt.Layout, tgt.NoOwners)
	}
	if _, ok := tgt.Store.(*sqlstore.CompatStore); !ok {
		t.Errorf("store %T, want *sqlstore.CompatStore", tgt.Store)
	}
	tgt2, err := Open(context.Background(), "sqlite://"+t.TempDir()+"/c.db?layout=compat&codec=json&raw_ids=false", Options{Setup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt2.Close()
	if tgt2.RawIDs || tgt2.CodecName != "json" {
		t.Errorf("explicit parameters do not win over the compat defaults: raw %v codec %q", tgt2.RawIDs, tgt2.CodecName)
	}
}

func TestCountExpiredMemory(t *testing.T) {
	ctx := context.Background()
	tgt, err := Open(ctx, "memory:", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if n, err := tgt.CountExpired(ctx); n != 0 || err != nil {
		t.Fatalf("empty store: %d expired, %v", n, err)
	}
	if _, err := tgt.Migrate(ctx, MigrateOptions{}); !errors.Is(err, session.ErrUnsupported) {
		t.Errorf("Migrate on memory: %v, want ErrUnsupported", err)
	}
}

func TestRedact(t *testing.T) {
	if got := Redact("mysql://u:secret@h/db"); strings.Contains(got, "secret") {
		t.Errorf("Redact: %q", got)
	}
}

// TestCountExpiredByQuery: Target.CountExpired is the store's own count
// (session.ExpiredCounter) on every backend that keeps expired records.
func TestCountExpiredByQuery(t *testing.T) {
	backends := map[string]func(testing.TB) string{
		"memory": func(testing.TB) string { return "memory:" },
		"sqlite": testenv.SQLite,
		"files":  testenv.Files,
		"mongo":  testenv.Mongo,
	}
	for name, url := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tgt, err := Open(ctx, url(t), Options{Setup: true})
			if err != nil {
				t.Fatal(err)
			}
			defer tgt.Close()
			if _, ok := tgt.Store.(session.ExpiredCounter); !ok {
				t.Fatalf("%T is not a session.ExpiredCounter", tgt.Store)
			}
			now := time.Now()
			for i, ttl := range []time.Duration{-time.Minute, -time.Hour, -time.Second, time.Hour} {
				rec := session.Record{Data: []byte("x"), Expiry: now.Add(ttl), Created: now.Add(-2 * time.Hour)}
				if _, err := tgt.Store.Save(ctx, fmt.Sprintf("key%d", i), rec); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := tgt.CountExpired(ctx); err != nil || n != 3 {
				t.Fatalf("CountExpired = %d, %v; want 3", n, err)
			}
		})
	}
}
