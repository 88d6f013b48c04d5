package interop_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/phalcon"
	"github.com/sessionkit/session/phpcodec"
)

// site is a migration in progress on loopback: PHP's built-in web server
// running php/router.php and a Go server running sessionkit with
// phalcon.ConfigureWith, both on one store, behind one host:port where a
// reverse proxy sends /php/ to PHP and /go/ to Go.
type site struct {
	t       *testing.T
	shape   phalcon.Options
	phpURL  *url.URL // PHP's own address (the Go app calls it directly)
	proxy   *httptest.Server
	m       *session.Manager
	events  *eventCounter
	phpLogs *phpLog
}

// phpIniFlags are the PHP application's php.ini settings for an ID shape.
// session.save_handler is "user" through session_set_save_handler in
// router.php.
func phpIniFlags(o phalcon.Options) []string {
	n, bits := o.SIDLength, o.SIDBitsPerCharacter
	if n == 0 {
		n = phalcon.DefaultSIDLength
	}
	if bits == 0 {
		bits = phalcon.DefaultSIDBitsPerCharacter
	}
	var flags []string
	for _, kv := range []string{
		"session.name=" + phalcon.CookieName,
		"session.serialize_handler=php",
		"session.use_strict_mode=1",
		"session.use_cookies=1",
		"session.use_only_cookies=1",
		"session.use_trans_sid=0",
		"session.sid_length=" + strconv.Itoa(n),
		"session.sid_bits_per_character=" + strconv.Itoa(bits),
		"session.cookie_path=/",
		"session.cookie_domain=",
		"session.cookie_secure=0",
		"session.cookie_httponly=1",
		"session.cookie_samesite=Lax",
		"session.cookie_lifetime=0",
		"session.gc_maxlifetime=" + strconv.Itoa(int(maxLifetime/time.Second)),
		"session.gc_probability=0",
		"session.lazy_write=1",
		"date.timezone=UTC",
		"display_errors=0",
		"log_errors=1",
		"error_reporting=-1",
	} {
		flags = append(flags, "-d", kv)
	}
	return flags
}

// phpEnv is the environment telling router.php where the store is.
func phpEnv(b backend) []string {
	conn := b.phpConn()
	env := []string{"SK_BACKEND=" + conn["backend"].(string)}
	switch conn["backend"] {
	case "mongo":
		m := conn["mongo"].(map[string]any)
		env = append(env, "SK_MONGO_URI="+m["uri"].(string), "SK_MONGO_NS="+m["ns"].(string))
	default:
		pdo := conn["pdo"].(map[string]any)
		env = append(env, "SK_PDO_DSN="+pdo["dsn"].(string), "SK_TABLE="+conn["table"].(string))
		if u, ok := pdo["user"].(string); ok {
			env = append(env, "SK_PDO_USER="+u)
		}
		if p, ok := pdo["password"].(string); ok {
			env = append(env, "SK_PDO_PASSWORD="+p)
		}
	}
	return env
}

// phpLog drains the built-in server's log and keeps the lines PHP's error
// log wrote (warnings, notices, fatal errors).
type phpLog struct {
	mu     sync.Mutex
	errors []string
}

var phpErrorLine = regexp.MustCompile(`PHP (Warning|Notice|Deprecated|Fatal error|Parse error|Error)`)

func (l *phpLog) add(line string) {
	if phpErrorLine.MatchString(line) {
		l.mu.Lock()
		l.errors = append(l.errors, line)
		l.mu.Unlock()
	}
}

func (l *phpLog) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errors) > 0 {
		t.Errorf("PHP logged %d errors, first: %s", len(l.errors), l.errors[0])
	}
}

var serverStarted = regexp.MustCompile(`Development Server \((http://[^)]+)\) started`)

// startPHP runs php -S 127.0.0.1:0 php/router.php with the shape's php.ini
// settings on b, and returns its address once it listens. The server is
// killed at the end of the test.
func startPHP(t *testing.T, php string, b backend, shape phalcon.Options) (*url.URL, *phpLog) {
	t.Helper()
	router, err := filepath.Abs(filepath.Join("php", "router.php"))
	if err != nil {
		t.Fatal(err)
	}
	args := append(phpIniFlags(shape), "-S", "127.0.0.1:0", router)
	cmd := exec.Command(php, args...)
	cmd.Env = append(os.Environ(), phpEnv(b)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("start php -S: %v", err)
	}
	logs := &phpLog{}
	addr := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if m := serverStarted.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
			logs.add(line)
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-drained
		_ = cmd.Wait()
	})
	select {
	case a := <-addr:
		u, err := url.Parse(a)
		if err != nil {
			t.Fatal(err)
		}
		return u, logs
	case <-drained:
		t.Fatalf("php -S exited before listening: %v", logs.errors)
	case <-time.After(15 * time.Second):
		t.Fatal("php -S did not report its address within 15 s")
	}
	return nil, nil
}

// eventCounter is a session.Observer counting the manager's events.
type eventCounter struct{ conflicts, retries atomic.Int64 }

func (c *eventCounter) StoreCall(context.Context, session.StoreOp, time.Duration, error) {}

func (c *eventCounter) Event(_ context.Context, e session.Event) {
	switch e {
	case session.EventConflict:
		c.conflicts.Add(1)
	case session.EventRetry:
		c.retries.Add(1)
	}
}

// reply is what both applications answer.
type reply struct {
	ID      string `json:"id"`
	Found   bool   `json:"found"`
	Session string `json:"session"`
	Error   string `json:"error"`
}

// dump is serialize($_SESSION) with the keys sorted, from Go's view.
func dump(s *session.Session) (string, error) {
	a := &phpcodec.Array{}
	for _, k := range s.Keys() {
		a.Set(k, s.Get(k))
	}
	out, err := phpcodec.Marshal(a)
	return string(out), err
}

// newSite starts PHP, the Go app and the proxy on b, both applications
// configured for shape.
func newSite(t *testing.T, php string, b backend, shape phalcon.Options) *site {
	t.Helper()
	w := &site{t: t, shape: shape, events: &eventCounter{}}
	w.phpURL, w.phpLogs = startPHP(t, php, b, shape)

	st, done := b.store(t, time.Now)
	t.Cleanup(done)
	m := session.New(st)
	if err := phalcon.ConfigureWith(m, shape); err != nil {
		t.Fatal(err)
	}
	m.IdleTimeout = maxLifetime // = PHP's session.gc_maxlifetime = the store's MaxLifetime
	m.Cookie.Insecure = true    // plain HTTP on loopback, like session.cookie_secure=0
	m.Observer = w.events
	m.Logger = slog.New(failOnError{t})
	w.m = m
	goApp := httptest.NewServer(m.Handler(w.goRoutes()))
	t.Cleanup(goApp.Close)
	goURL, _ := url.Parse(goApp.URL)

	toPHP := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(w.phpURL); r.SetXForwarded() }}
	toGo := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(goURL); r.SetXForwarded() }}
	mux := http.NewServeMux()
	mux.Handle("/php/", toPHP)
	mux.Handle("/go/", toGo)
	w.proxy = httptest.NewServer(mux)
	t.Cleanup(w.proxy.Close)
	return w
}

// goRoutes is the Go application: the same requests as router.php.
func (w *site) goRoutes() http.Handler {
	mux := http.NewServeMux()
	handle := func(path string, fn func(r *http.Request, s *session.Session, p *phalcon.Session) error) {
		mux.HandleFunc(path, func(rw http.ResponseWriter, r *http.Request) {
			s, err := w.m.Load(r.Context())
			if err == nil {
				err = fn(r, s, phalcon.Wrap(s, uniqueID))
			}
			var d string
			if err == nil {
				d, err = dump(s)
			}
			rw.Header().Set("Content-Type", "application/json")
			if err != nil {
				rw.WriteHeader(http.StatusInternalServerError)
				_ = json.NewEncoder(rw).Encode(reply{Error: err.Error()})
				return
			}
			_ = json.NewEncoder(rw).Encode(reply{ID: s.ID(), Found: !s.IsNew(), Session: d})
		})
	}
	handle("/go/login", func(r *http.Request, s *session.Session, p *phalcon.Session) error {
		if err := s.Renew(); err != nil {
			return err
		}
		user := r.URL.Query().Get("user")
		p.Set("user", user)
		p.Set("visits", 1)
		p.Bag("cart").Set("sku-"+strconv.Itoa(len(user)), 1)
		p.Flash().Success("Welcome " + user)
		return nil
	})
	handle("/go/visit", func(_ *http.Request, s *session.Session, p *phalcon.Session) error {
		s.Update(uniqueID+"#visits", func(old any) any { n, _ := phpcodec.Deref(old).(int64); return n + 1 })
		cart := p.Bag("cart")
		n, _ := cart.Get("sku-go", int64(0)).(int64)
		cart.Set("sku-go", n+2)
		p.Flash().Notice("Go was here")
		return nil
	})
	handle("/go/show", func(*http.Request, *session.Session, *phalcon.Session) error { return nil })
	// /go/race loads the session, has PHP write to it, then changes it.
	handle("/go/race", func(r *http.Request, s *session.Session, p *phalcon.Session) error {
		q := r.URL.Query()
		u := w.phpURL.JoinPath("/php/set")
		u.RawQuery = url.Values{"key": {uniqueID + "#php_key"}, "value": {q.Get("value")}}.Encode()
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u.String(), nil)
		if err != nil {
			return err
		}
		req.Header.Set("Cookie", r.Header.Get("Cookie"))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		var rep reply
		err = json.NewDecoder(res.Body).Decode(&rep)
		_ = res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK || rep.ID != s.ID() {
			return fmt.Errorf("PHP's write during the Go request: status %d, id %q (want %q), %v %s", res.StatusCode, rep.ID, s.ID(), err, rep.Error)
		}
		p.Set("go_key", q.Get("value"))
		return nil
	})
	return mux
}

// browser is one user's browser: a cookie jar on the site's host.
type browser struct {
	w   *site
	c   *http.Client
	jar *cookiejar.Jar
}

func (w *site) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return &browser{w: w, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}, jar: jar}
}

// get requests path through the proxy and checks every PHPSESSID cookie
// the response sets: Path=/, no Secure over plain HTTP, HttpOnly,
// SameSite=Lax, host-only.
func (b *browser) get(path string) (reply, error) {
	res, err := b.c.Get(b.w.proxy.URL + path)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	var rep reply
	if err := json.NewDecoder(res.Body).Decode(&rep); err != nil {
		return reply{}, fmt.Errorf("GET %s: status %d, %w", path, res.StatusCode, err)
	}
	if res.StatusCode != http.StatusOK {
		return rep, fmt.Errorf("GET %s: status %d: %s", path, res.StatusCode, rep.Error)
	}
	for _, c := range res.Cookies() {
		if c.Name != phalcon.CookieName {
			continue
		}
		if c.Path != "/" || c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Domain != "" {
			return rep, fmt.Errorf("GET %s: cookie %s: want Path=/, not Secure, HttpOnly, SameSite=Lax, host-only", path, c)
		}
	}
	return rep, nil
}

// cookieID is the session ID the browser would send: the jar's only
// PHPSESSID cookie, decoded.
func (b *browser) cookieID() (string, error) {
	var ids []string
	for _, c := range b.jar.Cookies(mustURL(b.w.proxy.URL)) {
		if c.Name == phalcon.CookieName {
			v, err := url.PathUnescape(c.Value)
			if err != nil {
				return "", fmt.Errorf("cookie value %q: %w", c.Value, err)
			}
			ids = append(ids, v)
		}
	}
	if len(ids) != 1 {
		return "", fmt.Errorf("the browser holds %d %s cookies: %q", len(ids), phalcon.CookieName, ids)
	}
	return ids[0], nil
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// ser is PHP's serialize() of a string.
func ser(s string) string { return fmt.Sprintf(`s:%d:"%s";`, len(s), s) }

// loggedIn is what both applications store at login (the keys sorted).
func loggedIn(user string) string {
	return `a:4:{` +
		ser("app#_flashMessages") + `a:1:{` + ser("success") + `a:1:{i:0;` + ser("Welcome "+user) + `}}` +
		ser("app#cart") + `a:1:{` + ser("sku-"+strconv.Itoa(len(user))) + `i:1;}` +
		ser("app#user") + ser(user) +
		ser("app#visits") + `i:1;` +
		`}`
}

// checkShape checks that id has the shape both sides generate.
func (w *site) checkShape(who, id string) error {
	n, bits := w.shape.SIDLength, w.shape.SIDBitsPerCharacter
	if n == 0 {
		n, bits = phalcon.DefaultSIDLength, phalcon.DefaultSIDBitsPerCharacter
	}
	alphabet, _ := phalcon.SIDAlphabet(bits)
	if len(id) != n || strings.Trim(id, alphabet) != "" {
		return fmt.Errorf("%s issued %q, want %d characters of %q", who, id, n, alphabet)
	}
	return nil
}

// cross logs a new browser in on app first ("php" or "go") and continues on
// the other app, then comes back: the same ID all along, each app seeing
// exactly what the other stored. It returns the session ID.
func (w *site) cross(first string, n int) (string, error) {
	second := map[string]string{"php": "go", "go": "php"}[first]
	b := w.browser()
	user := fmt.Sprintf("user-%d-%s ünïcode \"q\" |;", n, first)
	login, err := b.get("/" + first + "/login?user=" + url.QueryEscape(user))
	if err != nil {
		return "", err
	}
	id := login.ID
	if err := w.checkShape(first, id); err != nil {
		return id, err
	}
	if login.Session != loggedIn(user) {
		return id, fmt.Errorf("%s stored at login %s, want %s", first, login.Session, loggedIn(user))
	}
	steps := []struct {
		path string
		want func(r reply) error
	}{
		{"/" + second + "/show", func(r reply) error {
			if !r.Found || r.Session != login.Session {
				return fmt.Errorf("%s after %s's login: found %v, %s; want %s", second, first, r.Found, r.Session, login.Session)
			}
			return nil
		}},
		{"/" + second + "/visit", func(r reply) error {
			if !r.Found || !strings.Contains(r.Session, ser("app#visits")+`i:2;`) {
				return fmt.Errorf("%s's visit: found %v, %s", second, r.Found, r.Session)
			}
			return nil
		}},
	}
	var last reply
	for _, st := range steps {
		r, err := b.get(st.path)
		if err != nil {
			return id, err
		}
		if r.ID != id {
			return id, fmt.Errorf("GET %s: session %q, want %q from %s's login", st.path, r.ID, id, first)
		}
		if err := st.want(r); err != nil {
			return id, err
		}
		last = r
	}
	back, err := b.get("/" + first + "/show")
	if err != nil {
		return id, err
	}
	if back.ID != id || !back.Found || back.Session != last.Session {
		return id, fmt.Errorf("back on %s: session %q found %v, %s; want %q, %s", first, back.ID, back.Found, back.Session, id, last.Session)
	}
	if got, err := b.cookieID(); err != nil || got != id {
		return id, fmt.Errorf("the browser's cookie: %q, %v; want %q", got, err, id)
	}
	return id, nil
}

// sessionsEachWay is how many browsers log in on each application.
const sessionsEachWay = 100

// crossMany runs sessionsEachWay crossings each way and fails on any
// failure, logging the counts.
func (w *site) crossMany(label string) {
	t := w.t
	var failures []error
	ok := map[string]int{}
	special := 0
	seen := map[string]bool{}
	for i := range sessionsEachWay * 2 {
		first := []string{"php", "go"}[i%2]
		id, err := w.cross(first, i)
		if err != nil {
			failures = append(failures, fmt.Errorf("session %d (%s first): %w", i, first, err))
			continue
		}
		if seen[id] {
			failures = append(failures, fmt.Errorf("session %d: ID %s issued twice", i, id))
		}
		seen[id] = true
		ok[first]++
		if strings.ContainsAny(id, ",-") {
			special++
		}
	}
	for _, err := range failures[:min(len(failures), 5)] {
		t.Error(err)
	}
	if w.shape.SIDBitsPerCharacter == 6 && special == 0 {
		t.Errorf("no ID of the 6-bit alphabet held a ',' or '-' in %d sessions", len(seen))
	}
	w.phpLogs.check(t)
	t.Logf("%s: %d sessions crossed PHP→Go→PHP, %d Go→PHP→Go, %d failures; %d IDs with ',' or '-'",
		label, ok["php"], ok["go"], len(failures), special)
}

// strictMode checks that PHP's session.use_strict_mode is on: a browser
// presenting an ID that no store holds gets a new one from PHP (and from
// Go), never the one it chose.
func (w *site) strictMode() {
	t := w.t
	chosen := strings.Repeat("a", 32)
	for _, app := range []string{"php", "go"} {
		b := w.browser()
		b.jar.SetCookies(mustURL(w.proxy.URL), []*http.Cookie{{Name: phalcon.CookieName, Value: chosen, Path: "/"}})
		r, err := b.get("/" + app + "/login?user=fixation")
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := b.cookieID(); r.ID == chosen || got == chosen {
			t.Errorf("%s adopted the ID the browser chose (session %q, cookie %q)", app, r.ID, got)
		}
	}
}

// race has PHP write a key while a Go request that loaded the session is
// in flight, then Go saves its own key: PHP's key must survive (the Go
// save meets a conflict, reloads and applies its change again).
func (w *site) race(sessions int) {
	t := w.t
	before := w.events.conflicts.Load()
	lost := 0
	for i := range sessions {
		b := w.browser()
		login, err := b.get([]string{"/php/login", "/go/login"}[i%2] + "?user=racer")
		if err != nil {
			t.Fatal(err)
		}
		value := "v" + strconv.Itoa(i)
		if _, err := b.get("/go/race?value=" + value); err != nil {
			t.Fatal(err)
		}
		for _, app := range []string{"php", "go"} {
			r, err := b.get("/" + app + "/show")
			if err != nil {
				t.Fatal(err)
			}
			php, goes := strings.Contains(r.Session, ser("app#php_key")+ser(value)), strings.Contains(r.Session, ser("app#go_key")+ser(value))
			if r.ID != login.ID || !php || !goes {
				lost++
				t.Errorf("session %d, read by %s: PHP's key kept %v, Go's key kept %v (%s)", i, app, php, goes, r.Session)
			}
		}
	}
	conflicts := w.events.conflicts.Load() - before
	if conflicts < int64(sessions) {
		t.Errorf("%d conflicts for %d Go saves that followed a PHP write", conflicts, sessions)
	}
	w.phpLogs.check(t)
	t.Logf("PHP wrote during %d Go requests: %d conflicts seen by Go, %d reads missing a key", sessions, conflicts, lost)
}

// browserShapes are the ID settings run on both sides: PHP's defaults, and
// the 6-bit alphabet with ',' and '-'.
var browserShapes = []struct {
	name  string
	shape phalcon.Options
}{
	{"defaults", phalcon.Options{}},
	{"6-bit", phalcon.Options{SIDLength: 32, SIDBitsPerCharacter: 6}},
}

func runBrowser(t *testing.T, newBackend func(*testing.T) backend) {
	php := phpBinary(t)
	for _, sh := range browserShapes {
		t.Run(sh.name, func(t *testing.T) {
			w := newSite(t, php, newBackend(t), sh.shape)
			w.strictMode()
			w.crossMany(sh.name)
		})
	}
}

func runRace(t *testing.T, newBackend func(*testing.T) backend) {
	php := phpBinary(t)
	w := newSite(t, php, newBackend(t), phalcon.Options{})
	w.race(20)
}

// TestBrowserMariaDB and the others log browsers in on one application and
// continue on the other, through one host:port.
func TestBrowserMariaDB(t *testing.T) {
	runBrowser(t, func(t *testing.T) backend { return newMariaDB(t) })
}

func TestBrowserSQLite(t *testing.T) {
	runBrowser(t, func(t *testing.T) backend { return newSQLite(t) })
}

func TestBrowserMongo(t *testing.T) {
	runBrowser(t, func(t *testing.T) backend { return newMongo(t) })
}

// TestGoRenewsPHPSessionMariaDB and the others: Go's login renews the ID
// of a session PHP created; PHP then sees exactly Go's values under the new
// ID.
func TestGoRenewsPHPSessionMariaDB(t *testing.T) {
	runRenew(t, func(t *testing.T) backend { return newMariaDB(t) })
}

func TestGoRenewsPHPSessionSQLite(t *testing.T) {
	runRenew(t, func(t *testing.T) backend { return newSQLite(t) })
}

func TestGoRenewsPHPSessionMongo(t *testing.T) {
	runRenew(t, func(t *testing.T) backend { return newMongo(t) })
}

func runRenew(t *testing.T, newBackend func(*testing.T) backend) {
	php := phpBinary(t)
	newSite(t, php, newBackend(t), phalcon.Options{}).renewAcross()
}

// TestGoLoadsPHPWritesGoSavesMariaDB and the others: PHP writes between a
// Go request's load and its save; PHP's key survives the Go save.
func TestGoLoadsPHPWritesGoSavesMariaDB(t *testing.T) {
	runRace(t, func(t *testing.T) backend { return newMariaDB(t) })
}

func TestGoLoadsPHPWritesGoSavesSQLite(t *testing.T) {
	runRace(t, func(t *testing.T) backend { return newSQLite(t) })
}

func TestGoLoadsPHPWritesGoSavesMongo(t *testing.T) {
	runRace(t, func(t *testing.T) backend { return newMongo(t) })
}

// renewAcross logs a browser in on PHP, then again on Go, which renews the
// PHP session's ID: PHP must find the session under the new ID, with what
// Go stored and nothing else.
func (w *site) renewAcross() {
	t := w.t
	b := w.browser()
	first, err := b.get("/php/login?user=alice")
	if err != nil {
		t.Fatal(err)
	}
	renewed, err := b.get("/go/login?user=bob")
	if err != nil {
		t.Fatal(err)
	}
	if renewed.ID == first.ID {
		t.Fatalf("Go's login kept PHP's ID %s", first.ID)
	}
	got, err := b.get("/php/show")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != renewed.ID || !got.Found || got.Session != renewed.Session {
		t.Errorf("PHP after Go renewed its session: id %s (want %s), found %v\n got %s\nwant %s", got.ID, renewed.ID, got.Found, got.Session, renewed.Session)
	}
}
