package phalcon_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/phalcon"
)

// idShapes are PHP session ID settings of real applications: PHP's
// built-in defaults, Debian's (and php.ini-production's) 26 characters of 5
// bits, and the 6-bit alphabet with a comma at PHP's shortest and at a
// longer length.
var idShapes = []phalcon.Options{
	{},
	{SIDLength: 26, SIDBitsPerCharacter: 5},
	{SIDLength: 22, SIDBitsPerCharacter: 6},
	{SIDLength: 48, SIDBitsPerCharacter: 6},
}

func shapeName(o phalcon.Options) string {
	if o == (phalcon.Options{}) {
		return "defaults"
	}
	return fmt.Sprintf("%d-chars-%d-bits", o.SIDLength, o.SIDBitsPerCharacter)
}

// phpIni is the php.ini settings of a shape, as -d flags.
func phpIni(o phalcon.Options) []string {
	n, bits := o.SIDLength, o.SIDBitsPerCharacter
	if n == 0 {
		n, bits = phalcon.DefaultSIDLength, phalcon.DefaultSIDBitsPerCharacter
	}
	return []string{"-d", "session.sid_length=" + strconv.Itoa(n), "-d", "session.sid_bits_per_character=" + strconv.Itoa(bits)}
}

func phpOrSkip(t *testing.T) string {
	t.Helper()
	php := os.Getenv("SESSION_TEST_PHP")
	if php == "" {
		t.Skip("SESSION_TEST_PHP is not set (scripts/test.sh sets it)")
	}
	return php
}

// runPHP runs code with php -r and the extra arguments, and returns its
// standard output. Any PHP warning fails the test.
func runPHP(t *testing.T, php string, flags []string, code string, args ...string) string {
	t.Helper()
	argv := append(append([]string{"-d", "error_reporting=-1", "-d", "display_errors=stderr"}, flags...), "-r", code)
	cmd := exec.CommandContext(t.Context(), php, append(argv, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("php: %v\nstderr: %s\nstdout: %s", err, stderr.String(), out)
	}
	return string(out)
}

func TestConfigureIsPHPDefaultShape(t *testing.T) {
	e := newEnv(t)
	for range 50 {
		id := e.request("", func(p *phalcon.Session) { p.Set("x", 1) })
		if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("Configure issued %q; PHP's defaults give 32 characters of [0-9a-f]", id)
		}
	}
	if e.m.MinIDLength != phalcon.MinSIDLength || !e.m.RawIDs || e.m.Cookie.Name != "PHPSESSID" {
		t.Fatalf("Configure: MinIDLength %d, RawIDs %v, cookie %q", e.m.MinIDLength, e.m.RawIDs, e.m.Cookie.Name)
	}
}

// TestPHPBuiltInDefaults checks the preset's defaults against PHP without
// a php.ini (-n): what PHP compiles in.
func TestPHPBuiltInDefaults(t *testing.T) {
	php := phpOrSkip(t)
	out := runPHP(t, php, []string{"-n"}, `echo ini_get("session.sid_length"), " ", ini_get("session.sid_bits_per_character");`)
	if want := fmt.Sprintf("%d %d", phalcon.DefaultSIDLength, phalcon.DefaultSIDBitsPerCharacter); out != want {
		t.Fatalf("PHP's built-in session.sid_length and sid_bits_per_character are %q, the preset's defaults %q", out, want)
	}
}

func TestSIDAlphabet(t *testing.T) {
	for bits, want := range map[int]string{
		4: "0123456789abcdef",
		5: "0123456789abcdefghijklmnopqrstuv",
		6: session.AlphabetPHP,
	} {
		if got, err := phalcon.SIDAlphabet(bits); err != nil || got != want {
			t.Errorf("SIDAlphabet(%d) = %q, %v; want %q", bits, got, err, want)
		}
	}
}

func TestConfigureWithShapes(t *testing.T) {
	for _, o := range idShapes[1:] {
		t.Run(shapeName(o), func(t *testing.T) {
			e := newEnvWith(t, o)
			alphabet, _ := phalcon.SIDAlphabet(o.SIDBitsPerCharacter)
			for range 50 {
				id := e.request("", func(p *phalcon.Session) { p.Set("x", 1) })
				if len(id) != o.SIDLength || strings.Trim(id, alphabet) != "" {
					t.Fatalf("issued %q, want %d characters of %q", id, o.SIDLength, alphabet)
				}
			}
		})
	}
}

func TestConfigureWithRejects(t *testing.T) {
	for _, o := range []phalcon.Options{
		{SIDLength: 21},
		{SIDLength: 257},
		{SIDLength: -1},
		{SIDBitsPerCharacter: 3},
		{SIDBitsPerCharacter: 7},
		{SIDLength: 26, SIDBitsPerCharacter: 4}, // 104 bits
		{SIDLength: 25, SIDBitsPerCharacter: 5}, // 125 bits
	} {
		m, before := session.New(nil), session.New(nil)
		err := phalcon.ConfigureWith(m, o)
		if !errors.Is(err, phalcon.ErrInvalidOptions) {
			t.Errorf("ConfigureWith(%+v) = %v, want an error wrapping ErrInvalidOptions", o, err)
		}
		if m.IDAlphabet != before.IDAlphabet || m.IDLength != before.IDLength || m.Cookie.Name != before.Cookie.Name || m.RawIDs || m.Codec != before.Codec {
			t.Errorf("ConfigureWith(%+v) failed but changed the manager", o)
		}
	}
}

// TestPHPGeneratedIDsAccepted has real PHP generate IDs with each shape's
// php.ini settings and checks that the manager configured for that shape
// loads the sessions stored under them.
func TestPHPGeneratedIDsAccepted(t *testing.T) {
	php := phpOrSkip(t)
	for _, o := range idShapes {
		t.Run(shapeName(o), func(t *testing.T) {
			e := newEnvWith(t, o)
			out := runPHP(t, php, phpIni(o), `for ($i = 0; $i < 100; $i++) { echo session_create_id(), "\n"; }`)
			ids := strings.Fields(out)
			if len(ids) != 100 {
				t.Fatalf("PHP printed %d IDs", len(ids))
			}
			for i, id := range ids {
				e.seed(id, fmt.Sprintf("app#n|i:%d;", i))
				e.request(id, func(p *phalcon.Session) {
					if p.Session().IsNew() || p.Get("n", nil) != int64(i) {
						t.Fatalf("PHP's ID %q: new session %v, n = %v", id, p.Session().IsNew(), p.Get("n", nil))
					}
				})
			}
		})
	}
}

// TestGoIDsAcceptedByPHPStrictMode writes sessions the Go manager created
// as PHP session files, and has PHP's session_start, with
// session.use_strict_mode=1, open them: PHP keeps each Go ID and reads its
// data. A control ID PHP has no session for is replaced, which shows that
// strict mode is on.
func TestGoIDsAcceptedByPHPStrictMode(t *testing.T) {
	php := phpOrSkip(t)
	for _, o := range idShapes {
		t.Run(shapeName(o), func(t *testing.T) {
			e := newEnvWith(t, o)
			dir := t.TempDir()
			var ids []string
			for i := range 100 {
				id := e.request("", func(p *phalcon.Session) { p.Set("n", i) })
				if err := os.WriteFile(filepath.Join(dir, "sess_"+id), []byte(e.raw(id)), 0o600); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			control := strings.Repeat("0", 32)
			flags := append(phpIni(o), "-d", "session.save_path="+dir, "-d", "session.use_strict_mode=1",
				"-d", "session.use_cookies=0", "-d", "session.cache_limiter=")
			out := runPHP(t, php, flags, `foreach (array_slice($argv, 1) as $id) {
	session_id($id);
	session_start();
	echo session_id() === $id ? "kept" : "replaced", " ", $_SESSION["app#n"] ?? "none", "\n";
	session_write_close();
}`, append(ids, control)...)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != len(ids)+1 {
				t.Fatalf("PHP answered %d lines for %d IDs", len(lines), len(ids)+1)
			}
			for i, id := range ids {
				if want := fmt.Sprintf("kept %d", i); lines[i] != want {
					t.Errorf("PHP on Go's ID %q: %q, want %q", id, lines[i], want)
				}
			}
			if last := lines[len(ids)]; last != "replaced none" {
				t.Errorf("PHP on an ID it has no session for: %q; strict mode is not on", last)
			}
		})
	}
}

// TestConfigureAcceptsEveryPHPShape: a manager set up with Configure (PHP's
// built-in defaults) adopts the sessions of a PHP application whatever
// shape its php.ini gives its IDs (php.ini-production's 26 characters of 5
// bits among them): PHP accepts all of them, and so does the preset. IDs
// the store does not know are still never adopted.
func TestConfigureAcceptsEveryPHPShape(t *testing.T) {
	php := phpOrSkip(t)
	for _, o := range idShapes {
		t.Run(shapeName(o), func(t *testing.T) {
			e := newEnvWith(t, phalcon.Options{})
			out := runPHP(t, php, phpIni(o), `for ($i = 0; $i < 20; $i++) { echo session_create_id(), "\n"; }`)
			for i, id := range strings.Fields(out) {
				e.seed(id, fmt.Sprintf("app#n|i:%d;", i))
				e.request(id, func(p *phalcon.Session) {
					if p.Session().IsNew() || p.Get("n", nil) != int64(i) {
						t.Fatalf("PHP's ID %q: new session %v, n = %v", id, p.Session().IsNew(), p.Get("n", nil))
					}
				})
			}
			unknown := strings.Fields(runPHP(t, php, phpIni(o), `echo session_create_id();`))[0]
			e.request(unknown, func(p *phalcon.Session) {
				if !p.Session().IsNew() || p.Session().ID() == unknown {
					t.Fatalf("an unknown ID %q was adopted", unknown)
				}
			})
		})
	}
}
