package main

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/storeurl"
	"github.com/sessionkit/session/cmd/internal/testenv"
)

// TestRmCorruptRecord: "sessionctl rm" removes a record that the store
// holds but cannot read (data that is not base64 in a SQL table of the
// compatibility layout, a damaged session file), by session ID, without
// showing the ID in any error.
func TestRmCorruptRecord(t *testing.T) {
	cases := []struct {
		name    string
		url     func(t *testing.T) string
		corrupt func(t *testing.T, storeURL, key string)
	}{
		{"sqlite", func(t *testing.T) string { return testenv.SQLite(t) + "?layout=compat&base64=true" }, corruptSQLite},
		{"mysql", func(t *testing.T) string { return testenv.MySQL(t, "layout=compat&base64=true") }, corruptMySQL},
		{"files", func(t *testing.T) string { return testenv.Files(t) + "?raw_ids=true" }, corruptFile},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storeURL := tc.url(t)
			must(t, "--store", storeURL, "migrate")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tgt, err := storeurl.Open(ctx, storeURL, storeurl.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer tgt.Close()
			id := randomID()
			if _, err := tgt.Store.Save(ctx, id, session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour), Created: time.Now()}); err != nil {
				t.Fatal(err)
			}
			tc.corrupt(t, storeURL, id)
			if _, err := tgt.Store.Load(ctx, id); err == nil || errors.Is(err, session.ErrNotFound) {
				t.Fatalf("the record is not corrupt: Load = %v", err)
			}
			r := must(t, "--store", storeURL, "rm", id)
			if !strings.Contains(r.stdout, "removed") {
				t.Errorf("rm: stdout %q", r.stdout)
			}
			if _, err := tgt.Store.Load(ctx, id); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("after rm: Load = %v, want ErrNotFound", err)
			}
		})
	}
}

// tableName is the SQL table of storeURL: its table parameter, else the
// default.
func tableName(t *testing.T, storeURL string) string {
	if tb := tableOf(t, storeURL); tb != "" {
		return tb
	}
	return "session_data"
}

func corruptSQLite(t *testing.T, storeURL, key string) {
	path := strings.TrimPrefix(strings.SplitN(storeURL, "?", 2)[0], "sqlite://")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE "`+tableName(t, storeURL)+`" SET data = '!!! not base64' WHERE session_id = ?`, key); err != nil {
		t.Fatal(err)
	}
}

func corruptMySQL(t *testing.T, storeURL, key string) {
	cfg, err := mysql.ParseDSN(os.Getenv("SESSION_TEST_MYSQL_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE `"+tableName(t, storeURL)+"` SET data = '!!! not base64' WHERE session_id = ?", key); err != nil {
		t.Fatal(err)
	}
}

func corruptFile(t *testing.T, storeURL, key string) {
	dir := strings.TrimPrefix(strings.SplitN(storeURL, "?", 2)[0], "file://")
	if err := os.WriteFile(filepath.Join(dir, key), []byte("PHP data, not a sessionkit file"), 0o600); err != nil {
		t.Fatal(err)
	}
}
