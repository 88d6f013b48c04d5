package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session/cmd/internal/testenv"
)

// TestHelp checks that the program and every subcommand answer --help with
// their usage on stderr and exit 0.
func TestHelp(t *testing.T) {
	r := must(t, "--help")
	for _, c := range commands {
		if !strings.Contains(r.stderr, "  "+c.name+" ") {
			t.Errorf("sessionctl --help does not list %s:\n%s", c.name, r.stderr)
		}
	}
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}} {
			r := must(t, args...)
			if want := "Usage: sessionctl " + c.name; !strings.Contains(r.stderr, want) {
				t.Errorf("sessionctl %s: stderr %q does not contain %q", strings.Join(args, " "), r.stderr, want)
			}
			if !strings.Contains(r.stderr, "-store URL") || !strings.Contains(r.stderr, "Examples:") {
				t.Errorf("sessionctl %s: usage lacks flags or examples:\n%s", strings.Join(args, " "), r.stderr)
			}
		}
	}
}

// TestUsageErrors checks that mistakes on the command line exit 2 with a
// message saying what is wrong.
func TestUsageErrors(t *testing.T) {
	t.Setenv("SESSIONCTL_STORE", "")
	db := testenv.SQLite(t)
	cases := []struct {
		args []string
		want string
	}{
		{nil, "no command given"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"--bogus", "ls"}, "flag provided but not defined: -bogus"},
		{[]string{"ls"}, "no store: give --store URL or set SESSIONCTL_STORE"},
		{[]string{"--store", db, "ls", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"--store", db, "ls", "extra"}, `unexpected argument "extra"`},
		{[]string{"--store", db, "show"}, "missing argument ID|KEY"},
		{[]string{"--store", db, "rm"}, "missing argument ID|KEY..."},
		{[]string{"--store", db, "show", "a", "b"}, `unexpected argument "b"`},
		{[]string{"--store", db, "migrate", "--layout", "wide"}, `--layout "wide"`},
		{[]string{"--store", db, "migrate", "--upgrade", "php9"}, `--upgrade "php9"`},
		{[]string{"--store", db, "migrate", "--layout", "compat", "--upgrade", "native"}, "contradicts"},
		{[]string{"--store", db, "gc", "--max-batches", "-1"}, "must not be negative"},
		{[]string{"--store", "oracle://db/x", "ls"}, `unknown scheme "oracle"`},
		{[]string{"--store", db + "?tabel=x", "ls"}, "unknown parameter"},
		{[]string{"--store", "redis://127.0.0.1:1/0?table=x", "ls"}, "do not apply to this store"},
		{[]string{"--store", db + "?codec=yaml", "ls"}, `unknown codec "yaml"`},
		{[]string{"--store", db + "?layout=wide", "ls"}, `layout="wide"`},
		{[]string{"--store", "mysql://root:secret@127.0.0.1/", "ls"}, "no database name"},
		{[]string{"--timeout", "-1s", "ls"}, "--timeout must not be negative"},
		{[]string{"--timeout", "soon", "ls"}, `invalid value "soon" for flag -timeout`},
		{[]string{"--store", db, "ls", "--timeout", "-1s"}, "--timeout must not be negative"},
		{[]string{"--store", db, "show", "--codec", "yaml", "x"}, `unknown codec "yaml"`},
	}
	for _, c := range cases {
		r := ctl(t, c.args...)
		if r.code != exitUsage {
			t.Errorf("sessionctl %s: exit %d, want 2\nstderr: %s", strings.Join(c.args, " "), r.code, r.stderr)
			continue
		}
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("sessionctl %s: stderr %q does not contain %q", strings.Join(c.args, " "), r.stderr, c.want)
		}
		if strings.Contains(r.stderr, "secret") {
			t.Errorf("sessionctl %s: stderr shows the password: %s", strings.Join(c.args, " "), r.stderr)
		}
		if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.HasPrefix(r.stderr, "sessionctl: ") || !strings.Contains(r.stderr, "(see 'sessionctl help") {
			t.Errorf("sessionctl %s: stderr is not one line saying where to read the usage:\n%s", strings.Join(c.args, " "), r.stderr)
		}
		if strings.Contains(r.stderr, "storeurl") {
			t.Errorf("sessionctl %s: stderr names an internal package: %s", strings.Join(c.args, " "), r.stderr)
		}
	}
	// The exact form, for a subcommand's flag and for a global one.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--store", db, "ls", "--bogus"}, "sessionctl: ls: flag provided but not defined: -bogus (see 'sessionctl help ls')\n"},
		{[]string{"--bogus", "ls"}, "sessionctl: flag provided but not defined: -bogus (see 'sessionctl help')\n"},
	} {
		if r := ctl(t, c.args...); r.code != exitUsage || r.stderr != c.want {
			t.Errorf("sessionctl %s: exit %d, stderr %q; want 2, %q", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}
}

// TestTimeout checks that the global --timeout, and a command's own,
// bound the command, against a server that accepts connections and never
// answers; and that the default is 30 seconds.
func TestTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never answered
		}
	}()
	defer func() {
		ln.Close()
		<-accepted
		for _, c := range conns {
			c.Close()
		}
	}()
	st := "--store=redis://" + ln.Addr().String() + "/0"
	for _, args := range [][]string{{"--timeout", "300ms", st, "stats"}, {st, "stats", "--timeout", "300ms"}} {
		start := time.Now()
		r := fails(t, exitFail, "gave up after 300ms", args...)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("sessionctl %s took %v", strings.Join(args, " "), d)
		}
		if strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("sessionctl %s: stderr is not one line: %q", strings.Join(args, " "), r.stderr)
		}
	}
	for _, args := range [][]string{{"--help"}, {"ls", "--help"}} {
		if r := must(t, args...); !strings.Contains(r.stderr, "(default 30s)") {
			t.Errorf("sessionctl %s does not show the 30s default timeout:\n%s", strings.Join(args, " "), r.stderr)
		}
	}
}

// TestReadOnlyCommands checks that the commands that only read open a
// SQLite file read-only: on a missing file they fail with "no such
// database" and create neither the file nor its directory; migrate
// creates both.
func TestReadOnlyCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	st := "--store=sqlite://" + filepath.Join(dir, "s.db")
	for _, args := range [][]string{{"ls"}, {"show", "abc"}, {"stats"}, {"gc", "--dry-run"}, {"gc"}, {"rm", "abc"}} {
		r := fails(t, exitFail, "no such database", append([]string{st}, args...)...)
		if strings.Count(r.stderr, "\n") != 1 || strings.Count(r.stderr, "sessionctl migrate") != 1 {
			t.Errorf("sessionctl %s: %q, want one line with one hint", strings.Join(args, " "), r.stderr)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("sessionctl %s created %s", strings.Join(args, " "), dir)
		}
	}
	must(t, st, "migrate")
	r := must(t, st, "ls")
	if !strings.HasPrefix(r.stdout, "KEY ") || !strings.Contains(r.stderr, "0 session(s)") {
		t.Errorf("ls after migrate: %q %q", r.stdout, r.stderr)
	}
}

// TestStoreFromEnv checks that SESSIONCTL_STORE selects the store and that
// --store wins over it.
func TestStoreFromEnv(t *testing.T) {
	a, b := testenv.SQLite(t), testenv.SQLite(t)
	t.Setenv("SESSIONCTL_STORE", a)
	r := must(t, "migrate")
	if !strings.Contains(r.stdout, strings.TrimPrefix(a, "sqlite://")) {
		t.Errorf("migrate with SESSIONCTL_STORE: %q does not name %s", r.stdout, a)
	}
	r = must(t, "migrate", "--store", b)
	if !strings.Contains(r.stdout, strings.TrimPrefix(b, "sqlite://")) {
		t.Errorf("migrate --store: %q does not name %s", r.stdout, b)
	}
}

// TestUnreachableServer checks that a store that does not answer is an
// operation failure (exit 1) with the reason, within --timeout.
func TestUnreachableServer(t *testing.T) {
	fails(t, exitFail, "connect to", "--store", "redis://127.0.0.1:1/0", "stats", "--timeout", "5s")
}

// TestBinary builds the real program and checks --help and the exit code
// of a usage error as a shell sees them.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	exe := filepath.Join(t.TempDir(), "sessionctl")
	build := exec.Command("go", "build", "-o", exe, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(exe, "gc", "--help")
	cmd.Env = append(os.Environ(), "SESSIONCTL_STORE=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sessionctl gc --help: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Usage: sessionctl gc") || !strings.Contains(string(out), "-dry-run") {
		t.Errorf("sessionctl gc --help:\n%s", out)
	}
	cmd = exec.Command(exe, "ls", "--no-such-flag")
	out, err = cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("sessionctl ls --no-such-flag: %v, want exit status 2\n%s", err, out)
	}
	if !strings.Contains(string(out), "flag provided but not defined") {
		t.Errorf("sessionctl ls --no-such-flag:\n%s", out)
	}
	cmd = exec.Command(exe, "--store", "sqlite://"+filepath.Join(t.TempDir(), "s.db"), "show", "nope")
	out, err = cmd.CombinedOutput()
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("sessionctl show nope on an empty store: %v, want exit status 1\n%s", err, out)
	}
}
