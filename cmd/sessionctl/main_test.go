package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
