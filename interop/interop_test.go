package interop_test

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/phalcon"
)

// The shared-session scenario, run on each backend. The clocks of both sides
// are set by the test (T0 is the start, truncated to the second); nothing
// sleeps. Records:
//
//	A: created by PHP with the fixture, read by Go (1), changed by Go, read by PHP (2)
//	B: created and updated by PHP at T0, only read by Go at T0+50 (4)
//	C: like B but never used by Go: the control of (4)
//	D: created by PHP and never updated (Mongo: modified null) (5)
//	E: created by Go (3), read and updated by PHP, read again by Go
func TestSharedSessionsMariaDB(t *testing.T) {
	php := phpBinary(t)
	run(t, php, newMariaDB(t))
}

func TestSharedSessionsSQLite(t *testing.T) {
	php := phpBinary(t)
	run(t, php, newSQLite(t))
}

func TestSharedSessionsMongo(t *testing.T) {
	php := phpBinary(t)
	run(t, php, newMongo(t))
}

// scenario is one run on one backend.
type scenario struct {
	t           *testing.T
	b           backend
	phpBin      string
	clk         *clock
	t0          time.Time
	phpLaunches int
}

// at returns T0+d in Unix seconds, for PHP steps.
func (sc *scenario) at(d time.Duration) int64 { return sc.t0.Add(d).Unix() }

// goAt opens the Go side with its clock at T0+d.
func (sc *scenario) goAt(d time.Duration, configure func(*session.Manager)) *goTurn {
	sc.clk.set(sc.t0.Add(d))
	return goService(sc.t, sc.b, sc.clk, configure)
}

const sec = time.Second

// Expected values. PHP's fixture is in php/run.php (fixture()).
const (
	prefsSerialized = `a:3:{s:5:"theme";s:4:"dark";s:5:"langs";a:2:{i:0;s:2:"en";i:1;s:2:"fr";}s:6:"limits";a:2:{i:10;d:1.5;s:3:"max";a:1:{s:4:"deep";a:3:{i:0;b:1;i:1;b:0;i:2;N;}}}}`

	// What PHP finds in A after Go's changes (serialize() of $_SESSION,
	// top-level keys sorted).
	wantPHPSeesA = `a:13:{` +
		`s:18:"app#_flashMessages";a:2:{s:7:"success";a:1:{i:0;s:5:"Saved";}s:6:"notice";a:1:{i:0;s:11:"Go was here";}}` +
		`s:7:"app#big";d:1.0E+25;` +
		`s:8:"app#cart";a:2:{s:5:"sku-1";i:2;s:5:"sku-3";i:5;}` +
		`s:9:"app#count";i:43;` +
		`s:8:"app#flag";b:1;` +
		`s:8:"app#lang";s:5:"fr-CA";` +
		`s:12:"app#negative";i:-7;` +
		`s:9:"app#prefs";` + prefsSerialized +
		`s:9:"app#ratio";d:2.5;` +
		`s:8:"app#tags";a:2:{i:0;s:2:"go";i:1;s:3:"php";}` +
		`s:8:"app#user";s:25:"Zoë "Z" O'Brien|admin;{}";` +
		`s:9:"app#whole";d:3;` +
		`s:5:"other";s:20:"outside the uniqueId";` +
		`}`

	// What PHP finds in E, the session Go created.
	wantPHPSeesE = `a:4:{` +
		`s:18:"app#_flashMessages";a:1:{s:7:"success";a:1:{i:0;s:7:"Welcome";}}` +
		`s:8:"app#cart";a:1:{s:5:"sku-9";i:1;}` +
		`s:8:"app#user";s:3:"bob";` +
		`s:10:"app#visits";i:1;` +
		`}`
)

// wantGoSeesFixture is what Go must find in PHP's fixture: every key, with
// its value in render's notation (so with its Go type).
var wantGoSeesFixture = map[string]string{
	"app#user":           `"Zoë \"Z\" O'Brien|admin;{}"`,
	"app#count":          `42`,
	"app#negative":       `-7`,
	"app#ratio":          `float(0.1)`,
	"app#big":            `float(1e+25)`,
	"app#whole":          `float(3)`,
	"app#flag":           `true`,
	"app#nothing":        `null`,
	"app#prefs":          `["theme" => "dark", "langs" => [0 => "en", 1 => "fr"], "limits" => [10 => float(1.5), "max" => ["deep" => [0 => true, 1 => false, 2 => null]]]]`,
	"app#cart":           `["sku-1" => 2, "sku-2" => 1]`,
	"app#_flashMessages": `["success" => [0 => "Saved"], "error" => [0 => "Card declined", 1 => "Try again"]]`,
	"other":              `"outside the uniqueId"`,
}

// checkPHPID checks that id looks like an ID of PHP's generator with its
// default session.sid_length=32 and session.sid_bits_per_character=4,
// which phalcon.Configure issues too.
func checkPHPID(t *testing.T, who, id string) {
	t.Helper()
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		t.Fatalf("%s issued ID %q, not 32 characters of [0-9a-f] (PHP's defaults)", who, id)
	}
}

func run(t *testing.T, php string, b backend) {
	sc := &scenario{t: t, b: b, phpBin: php, clk: &clock{}, t0: time.Now().Truncate(time.Second)}
	var summary []string
	note := func(format string, args ...any) { summary = append(summary, fmt.Sprintf(format, args...)) }

	// PHP, launch 1, at T0: create A, B, C, D; update B and C.
	step := map[string]any{"app#step": "updated by PHP"}
	r := sc.php(
		phpStep{Op: "create", Now: sc.at(0)},
		phpStep{Op: "create", Now: sc.at(0)},
		phpStep{Op: "set", Now: sc.at(0), ID: "@1", Values: step},
		phpStep{Op: "create", Now: sc.at(0)},
		phpStep{Op: "set", Now: sc.at(0), ID: "@3", Values: step},
		phpStep{Op: "create", Now: sc.at(0)},
	)
	idA, idB, idC, idD := r[0].ID, r[1].ID, r[3].ID, r[5].ID
	for _, id := range []string{idA, idB, idC, idD} {
		checkPHPID(t, "PHP", id)
	}
	if ids := []string{idA, idB, idC, idD}; len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 4 {
		t.Fatalf("PHP issued the same ID twice: %v", ids)
	}
	if r[2].ID != idB || r[4].ID != idC {
		t.Fatalf("PHP's updates went to %s and %s, want %s and %s", r[2].ID, r[4].ID, idB, idC)
	}
	if exists, null, _ := b.modified(t, idD); !exists || !null {
		t.Fatalf("the record PHP only inserted: exists %v, modified null %v; want a record with a null modification date", exists, null)
	}
	if exists, null, m := b.modified(t, idB); !exists || null || m != sc.at(0) {
		t.Fatalf("the record PHP updated at T0: exists %v, null %v, modified T0%+d s", exists, null, m-sc.at(0))
	}

	// Go at T0+5.
	g := sc.goAt(5*sec, nil)

	// (1) PHP wrote, Go reads exactly those values.
	_, err := g.request(idA, func(s *session.Session, p *phalcon.Session) {
		if s.IsNew() || s.ID() != idA {
			t.Fatalf("Go did not load PHP's session %s: new %v, ID %s", idA, s.IsNew(), s.ID())
		}
		got := map[string]string{}
		for _, k := range s.Keys() {
			got[k] = render(s.Get(k))
		}
		for k, want := range wantGoSeesFixture {
			if got[k] != want {
				t.Errorf("Go reads %s = %s, PHP wrote %s", k, got[k], want)
			}
		}
		if len(got) != len(wantGoSeesFixture) {
			t.Errorf("Go reads keys %v, PHP wrote %d keys", slices.Sorted(maps.Keys(got)), len(wantGoSeesFixture))
		}
		// The same through Phalcon's API.
		if v := p.Get("count", nil); v != int64(42) {
			t.Errorf("p.Get(count) = %#v", v)
		}
		if v := p.Get("ratio", nil); v != 0.1 {
			t.Errorf("p.Get(ratio) = %#v", v)
		}
		if p.Has("nothing") || p.Get("nothing", "default") != "default" || !s.Has("app#nothing") {
			t.Errorf("a stored null: Phalcon's has() %v, get() %v; session has the key %v", p.Has("nothing"), p.Get("nothing", "default"), s.Has("app#nothing"))
		}
		if p.Has("other") {
			t.Error("a key without the uniqueId prefix is visible through the prefix")
		}
		cart := p.Bag("cart")
		if cart.Len() != 2 || cart.Get("sku-1", nil) != int64(2) || cart.Has("sku-3") {
			t.Errorf("bag cart: len %d, sku-1 %#v, has sku-3 %v", cart.Len(), cart.Get("sku-1", nil), cart.Has("sku-3"))
		}
		if !p.Flash().Has("error") || !p.Flash().Has("success") || p.Flash().Has("notice") {
			t.Errorf("flash: has error %v, success %v, notice %v", p.Flash().Has("error"), p.Flash().Has("success"), p.Flash().Has("notice"))
		}
	})
	if err != nil {
		t.Fatalf("Go reading PHP's session: %v", err)
	}
	// A read-only request must not shorten the session: PHP wrote A at T0.
	if exists, null, m := b.modified(t, idA); !exists || (!null && m < sc.at(0)) {
		t.Fatalf("after Go's read-only request at T0+5, A exists %v with modification date %v (want null or T0 or later): the read ended the session",
			exists, time.Unix(m, 0).UTC())
	}
	note("PHP→Go: %d keys read exactly (string, ints, floats, bool, null, nested array, bag, flash)", len(wantGoSeesFixture))

	// (2) Go writes: change values, use the bag, add a flash message and
	// consume the error messages.
	_, err = g.request(idA, func(s *session.Session, p *phalcon.Session) {
		p.Set("count", 43)
		p.Set("ratio", 2.5)
		p.Set("lang", "fr-CA")
		p.Set("tags", []string{"go", "php"})
		p.Remove("nothing")
		p.Bag("cart").Set("sku-3", 5)
		p.Bag("cart").Remove("sku-2")
		p.Flash().Notice("Go was here")
		msgs := p.Flash().Messages("error")
		if got := fmt.Sprint(msgs); got != "map[error:[Card declined Try again]]" {
			t.Errorf("Go consumed flash messages %s", got)
		}
	})
	if err != nil {
		t.Fatalf("Go writing PHP's session: %v", err)
	}

	// (3) Go creates a session.
	idE, err := g.request("", func(s *session.Session, p *phalcon.Session) {
		p.Set("user", "bob")
		p.Set("visits", 1)
		p.Bag("cart").Set("sku-9", 1)
		p.Flash().Success("Welcome")
	})
	if err != nil {
		t.Fatalf("Go creating a session: %v", err)
	}
	checkPHPID(t, "Go", idE)
	if slices.Contains([]string{idA, idB, idC, idD}, idE) {
		t.Fatalf("Go issued PHP's ID %s", idE)
	}

	// (5) The incubator adapter's defects, not reproduced.
	switch b := b.(type) {
	case *sqlBackend:
		note("64-character IDs: %s", sc.longIDs(g, idA))
	case *mongoBackend:
		n, err := g.store.(session.Collector).GC(ctxT(t))
		if err != nil || n != 0 {
			t.Fatalf("Go GC at T0+5 = %d, %v; want 0 deleted", n, err)
		}
		if d := b.doc(t, idD); d == nil || d["modified"] != nil || d["seen"] == nil {
			t.Fatalf("after a first GC, PHP's never-updated document is %v; want modified null and a seen date", d)
		}
	}
	g.done()

	// PHP, launch 2, at T0+10: read A and E, update E.
	r = sc.php(
		phpStep{Op: "dump", Now: sc.at(10 * sec), ID: idA},
		phpStep{Op: "dump", Now: sc.at(10 * sec), ID: idE},
		phpStep{Op: "set", Now: sc.at(10 * sec), ID: idE, Values: map[string]any{"app#from_php": "hello from PHP", "app#visits": 2}},
	)
	if !r[0].Found || r[0].Session != wantPHPSeesA {
		t.Errorf("PHP reads A after Go's changes (found %v):\n got %s\nwant %s", r[0].Found, r[0].Session, wantPHPSeesA)
	} else {
		note("Go→PHP: 13 keys byte-identical in PHP's serialize($_SESSION)")
	}
	if !r[1].Found || r[1].Session != wantPHPSeesE {
		t.Errorf("PHP reads the session Go created (found %v):\n got %s\nwant %s", r[1].Found, r[1].Session, wantPHPSeesE)
	}

	// Go at T0+15 reads PHP's update of its session.
	g = sc.goAt(15*sec, nil)
	_, err = g.request(idE, func(s *session.Session, p *phalcon.Session) {
		if s.IsNew() {
			t.Fatal("Go lost its session after PHP updated it")
		}
		if p.Get("from_php", nil) != "hello from PHP" || p.Get("visits", nil) != int64(2) || p.Get("user", nil) != "bob" || !p.Flash().Has("success") {
			t.Errorf("Go reads its session after PHP's update: from_php %#v, visits %#v, user %#v, flash %v",
				p.Get("from_php", nil), p.Get("visits", nil), p.Get("user", nil), p.Flash().Has("success"))
		}
	})
	g.done()
	if err != nil {
		t.Fatalf("Go reading its session after PHP's update: %v", err)
	}
	note("Go-created session %s…: read by PHP, updated by PHP, read back by Go", idE[:6])

	// (4) Go at T0+50 only reads B: the read pushes the expiry, for PHP too.
	g = sc.goAt(50*sec, nil)
	_, err = g.request(idB, func(s *session.Session, p *phalcon.Session) {
		if s.IsNew() || p.Get("step", nil) != "updated by PHP" {
			t.Fatalf("Go at T0+50 reads B: new %v, step %#v", s.IsNew(), p.Get("step", nil))
		}
	})
	g.done()
	if err != nil {
		t.Fatalf("Go reading B: %v", err)
	}
	if _, null, m := b.modified(t, idB); null || m != sc.at(50*sec) {
		t.Fatalf("after Go's read-only request at T0+50, B's modification date is T0%+d s (null %v); want T0+50", m-sc.at(0), null)
	}

	// PHP, launch 3, at T0+100 (max lifetime 60 s): gc, then read B and C.
	r = sc.php(
		phpStep{Op: "gc", Now: sc.at(100 * sec)},
		phpStep{Op: "dump", Now: sc.at(100 * sec), ID: idB},
		phpStep{Op: "dump", Now: sc.at(100 * sec), ID: idC},
	)
	// Older than T0+40: A (T0+5), C (T0), E (T0+10), and on SQL D (created
	// at T0; Mongo: modified null, which the incubator adapter's gc never deletes) and
	// the fresh session that the 64-character cookie got.
	wantDeleted, wantLeft := 5, 1
	if _, ok := b.(*mongoBackend); ok {
		wantDeleted, wantLeft = 3, 2
	}
	if r[0].Deleted != wantDeleted {
		t.Errorf("PHP's gc at T0+100 deleted %d records, want %d", r[0].Deleted, wantDeleted)
	}
	if !r[1].Found || !strings.Contains(r[1].Session, `s:8:"app#step";s:14:"updated by PHP";`) {
		t.Errorf("PHP at T0+100 does not find B, which Go read at T0+50: found %v, %s", r[1].Found, r[1].Session)
	}
	if r[2].Found {
		t.Errorf("PHP at T0+100 still finds the control C, last used at T0: the test cannot tell a touch from no expiry")
	}
	if n := b.count(t); n != wantLeft {
		t.Errorf("after PHP's gc, %d records are left, want %d", n, wantLeft)
	}
	note("Go's read at T0+50 kept B alive for PHP at T0+100 (max lifetime 60 s; control C expired, PHP's gc deleted %d)", r[0].Deleted)

	// (5) Mongo: Go's GC collects PHP's never-updated document once old.
	if mb, ok := b.(*mongoBackend); ok {
		g = sc.goAt(70*sec, nil)
		n, err := g.store.(session.Collector).GC(ctxT(t))
		g.done()
		if err != nil || n != 1 {
			t.Fatalf("Go GC at T0+70 = %d, %v; want 1 (D)", n, err)
		}
		if mb.doc(t, idD) != nil || mb.doc(t, idB) == nil {
			t.Fatalf("Go GC at T0+70: D (modified null) present %v, B (live) present %v", mb.doc(t, idD) != nil, mb.doc(t, idB) != nil)
		}
		note("Go's GC stamped PHP's document with modified: null at T0+5 and deleted it at T0+70 (max lifetime 60 s; the incubator adapter's gc never deletes it)")
	}

	// Go's GC long after: nothing is left.
	g = sc.goAt(1000*sec, nil)
	n, err := g.store.(session.Collector).GC(ctxT(t))
	g.done()
	if err != nil || n != 1 {
		t.Errorf("Go GC at T0+1000 = %d, %v; want 1 (B)", n, err)
	}
	if left := b.count(t); left != 0 {
		t.Errorf("after Go's GC at T0+1000, %d records are left", left)
	}

	t.Logf("%s: %d PHP launches\n  %s", b.name(), sc.phpLaunches, strings.Join(summary, "\n  "))
}

// longIDs checks that a 64-character ID never reaches the incubator adapter's
// VARCHAR(35) column truncated: a manager configured for 64-character IDs
// fails to save with a clear error and leaves the table as it was, and a
// 64-character cookie whose first 35 characters start with an existing ID
// neither reads nor writes that row. It returns a line for the summary.
func (sc *scenario) longIDs(g *goTurn, existing string) string {
	t := sc.t
	before := sc.b.count(t)

	g64 := goService(t, sc.b, sc.clk, func(m *session.Manager) {
		m.IDLength = 64
		m.Logger = slog.New(slog.DiscardHandler) // the failed save is logged, and checked below
	})
	_, err := g64.request("", func(s *session.Session, p *phalcon.Session) {
		if len(s.ID()) != 64 {
			t.Fatalf("the manager configured for 64-character IDs issued %q", s.ID())
		}
		p.Set("user", "mallory")
	})
	g64.done()
	if !errors.Is(err, session.ErrInvalidKey) {
		t.Fatalf("saving a session under a 64-character ID: err = %v, want one wrapping session.ErrInvalidKey", err)
	}
	if after := sc.b.count(t); after != before {
		t.Fatalf("the failed save changed the table: %d rows before, %d after", before, after)
	}
	line := fmt.Sprintf("a new 64-character ID is refused (%v), table unchanged", err)

	long := existing + strings.Repeat("x", 64-len(existing))
	var loaded bool
	id, err := g.request(long, func(s *session.Session, p *phalcon.Session) {
		loaded = !s.IsNew()
		p.Set("user", "mallory")
	})
	switch {
	case loaded:
		t.Fatalf("a 64-character cookie loaded a session")
	case err != nil:
		t.Fatalf("a 64-character cookie: %v, want a fresh session (a client must not be able to provoke errors)", err)
	case id == long:
		t.Fatal("a 64-character cookie kept its ID")
	}
	line += "; a 64-character cookie gets a fresh session"
	if exists, _, _ := sc.b.modified(t, long[:35]); exists {
		t.Fatalf("a row exists under the 35-character prefix of the 64-character ID")
	}
	return line
}
