package phalcon_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/phalcon"
)

type env struct {
	t     *testing.T
	store *memstore.Store
	m     *session.Manager
}

func newEnv(t *testing.T) *env {
	st := memstore.New()
	m := session.New(st)
	phalcon.Configure(m)
	return &env{t: t, store: st, m: m}
}

// newEnvWith is newEnv for a PHP application with other ID settings.
func newEnvWith(t *testing.T, o phalcon.Options) *env {
	st := memstore.New()
	m := session.New(st)
	if err := phalcon.ConfigureWith(m, o); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: st, m: m}
}

// request runs fn in a request carrying the PHPSESSID cookie id ("" for
// none) and returns the ID the response set or kept.
func (e *env) request(id string, fn func(p *phalcon.Session)) string {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if id != "" {
		req.AddCookie(&http.Cookie{Name: phalcon.CookieName, Value: id})
	}
	rec := httptest.NewRecorder()
	e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := e.m.Load(r.Context())
		if err != nil {
			e.t.Fatal(err)
		}
		fn(phalcon.Wrap(s, "app"))
	})).ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == phalcon.CookieName {
			v, err := url.PathUnescape(c.Value) // PHP-style URL encoding: "," is "%2C"
			if err != nil {
				e.t.Fatalf("cookie value %q: %v", c.Value, err)
			}
			return v
		}
	}
	return id
}

// seed stores data (PHP's "php" serialization) under the raw ID id, as the
// PHP application would have.
func (e *env) seed(id, data string) {
	e.t.Helper()
	if _, err := e.store.Save(e.t.Context(), id, session.Record{Data: []byte(data), Expiry: farFuture(), Created: now()}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) raw(id string) string {
	e.t.Helper()
	rec, err := e.store.Load(e.t.Context(), id) // raw IDs: the ID is the key
	if err != nil {
		e.t.Fatalf("store has no record under the raw ID: %v", err)
	}
	return string(rec.Data)
}

func TestConfigureAndPrefixedKeys(t *testing.T) {
	e := newEnv(t)
	id := e.request("", func(p *phalcon.Session) {
		p.Set("user", "alice")
		p.Bag("cart").Set("item", 2)
		p.Flash().Success("saved")
	})
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		t.Fatalf("ID %q is not a 32-character ID of PHP's default shape ([0-9a-f])", id)
	}
	got := e.raw(id)
	for _, want := range []string{
		`app#user|s:5:"alice";`,
		`app#cart|a:1:{s:4:"item";i:2;}`,
		`app#_flashMessages|a:1:{s:7:"success";a:1:{i:0;s:5:"saved";}}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("stored %q lacks %q", got, want)
		}
	}
	e.request(id, func(p *phalcon.Session) {
		if p.Get("user", nil) != "alice" || p.Bag("cart").Get("item", nil) != int64(2) {
			t.Errorf("values: user %v, cart item %v", p.Get("user", nil), p.Bag("cart").Get("item", nil))
		}
		if msgs := p.Flash().Messages("success"); len(msgs["success"]) != 1 || msgs["success"][0] != "saved" {
			t.Errorf("flash = %v", msgs)
		}
	})
	e.request(id, func(p *phalcon.Session) {
		if p.Flash().Has("success") {
			t.Error("flash shown twice")
		}
	})
}

func TestPHPWrittenSession(t *testing.T) {
	e := newEnvWith(t, phalcon.Options{SIDBitsPerCharacter: 6})
	id := "abcdefghij0123456789ABCDEFGH,-xy"
	e.seed(id, `app#user|s:3:"bob";app#gone|N;app#_flashMessages|a:2:{s:5:"error";a:1:{i:0;s:3:"bad";}s:6:"notice";a:1:{i:0;s:2:"hi";}}other|i:5;`)
	e.request(id, func(p *phalcon.Session) {
		if !p.Has("user") || p.Has("gone") || p.Has("other") {
			t.Errorf("has: user %v, gone (null) %v, other (unprefixed) %v", p.Has("user"), p.Has("gone"), p.Has("other"))
		}
		if p.Get("gone", "default") != "default" {
			t.Error("a stored null did not give the default")
		}
		if p.GetRemove("user", nil) != "bob" || p.Has("user") {
			t.Error("get with remove")
		}
		msgs := p.Flash().Messages("")
		if len(msgs["error"]) != 1 || msgs["notice"][0] != "hi" {
			t.Errorf("flash = %v", msgs)
		}
	})
	got := e.raw(id)
	if strings.Contains(got, "app#user") || strings.Contains(got, "_flashMessages") || !strings.Contains(got, "other|i:5;") {
		t.Fatalf("after the request the store holds %q", got)
	}
}

// TestPHPReadsWhatGoWrote asks real PHP to session_decode Go's bytes, and
// Go to read what PHP's session_encode wrote.
func TestPHPReadsWhatGoWrote(t *testing.T) {
	php := os.Getenv("SESSION_TEST_PHP")
	if php == "" {
		t.Skip("SESSION_TEST_PHP is not set (scripts/test.sh sets it)")
	}
	e := newEnv(t)
	id := e.request("", func(p *phalcon.Session) {
		p.Set("user", "alice")
		p.Bag("cart").Set("qty", 3)
		p.Flash().Error("oops")
	})
	script := `ini_set('session.save_path', sys_get_temp_dir()); ini_set('session.use_cookies', '0');
session_start();
session_decode(base64_decode($argv[1]));
echo $_SESSION['app#user'], ',', $_SESSION['app#cart']['qty'], ',', $_SESSION['app#_flashMessages']['error'][0], "\n";
$_SESSION['app#user'] = 'from-php';
$_SESSION['app#_flashMessages']['notice'][] = 'php says hi';
echo base64_encode(session_encode());`
	out, err := exec.Command(php, "-r", script, base64.StdEncoding.EncodeToString([]byte(e.raw(id)))).CombinedOutput()
	if err != nil {
		t.Fatalf("php: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || lines[0] != "alice,3,oops" {
		t.Fatalf("PHP read %q", out)
	}
	phpData, err := base64.StdEncoding.DecodeString(lines[1])
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := e.store.Load(t.Context(), id)
	rec.Data = phpData
	if _, err := e.store.Save(t.Context(), id, rec); err != nil {
		t.Fatal(err)
	}
	e.request(id, func(p *phalcon.Session) {
		if p.Get("user", nil) != "from-php" {
			t.Errorf("user = %v", p.Get("user", nil))
		}
		msgs := p.Flash().Messages("")
		if len(msgs["error"]) != 1 || len(msgs["notice"]) != 1 || msgs["notice"][0] != "php says hi" {
			t.Errorf("flash = %v", msgs)
		}
		if p.Bag("cart").Get("qty", nil) != int64(3) {
			t.Errorf("bag = %v", p.Bag("cart").Get("qty", nil))
		}
	})
}
