package storetest

import (
	"crypto/rand"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// ModelConfig sizes a [RunModel] run.
type ModelConfig struct {
	// Seeds are the runs to make, one per seed (default 1, 2).
	Seeds []uint64
	// Steps is the number of requests per run (default 300). The
	// environment variable SESSIONKIT_MODEL_STEPS overrides it, for
	// longer runs.
	Steps int
	// Managers is the number of application servers sharing the store
	// (default 2).
	Managers int
	// Browsers is the number of clients, each with its own cookie jar
	// (default 16).
	Browsers int
	// InFlight bounds how many requests may wait between their load and
	// their commit at once (default 3).
	InFlight int
	// OneServerAtOnce keeps the requests that commit at once on one
	// application server, for a test server whose compare-and-set is not
	// atomic across connections (FerretDB): there two app servers can
	// lose updates, a documented limit of that server, not of the store.
	OneServerAtOnce bool
}

func (c ModelConfig) withDefaults() ModelConfig {
	if len(c.Seeds) == 0 {
		c.Seeds = []uint64{1, 2}
	}
	if c.Steps <= 0 {
		c.Steps = 300
	}
	if n, err := strconv.Atoi(os.Getenv("SESSIONKIT_MODEL_STEPS")); err == nil && n > 0 {
		c.Steps = n
	}
	if c.Managers <= 0 {
		c.Managers = 2
	}
	if c.Browsers <= 0 {
		c.Browsers = 16
	}
	if c.InFlight <= 0 {
		c.InFlight = 3
	}
	return c
}

// RunModel checks the session rules of the manager's README on a store,
// against a model: several Managers (application servers) on the store,
// each behind a real HTTP server, and browsers with their own cookie jars
// send random requests — Set, Update, Pop, Delete, Clear, Renew, Destroy,
// SetOwner and DestroyOwnerSessions (when the store has an owner index),
// RememberMe and reads — some from stale
// tabs that still send an older ID, some held between their load and their
// commit while others run, so that replays, redirects through retired IDs
// and logouts interleave. Every response is checked against a sequential
// model of the rules:
//
//   - a request sees every change acknowledged before it loaded, and no
//     value whose Pop, Delete or Clear was acknowledged (nothing lost,
//     nothing resurrected);
//   - a replayed Delete, Pop or Clear removes only the value the request
//     saw; an Update runs again on the value saved meanwhile;
//   - an ID retired by Renew shows the data and owner it had before the
//     login, never the login, and changes through it go to the renewed
//     session;
//   - a destroyed session never comes back through any ID of its Renew
//     chain, and a change to it is dropped with the client's ID revoked;
//   - no response is a 5xx, but for a request whose Update function was
//     made to panic when replayed.
//
// A failing run reports its seed and the shortest history it found that
// breaks a rule. newManager is called once per application server; the
// managers must accept their cookies over plain HTTP
// (CookieOptions.Insecure). Numbers may come back as any integer type (PHP's
// codecs give int64). RunModel sets their RenewGrace to at least ten
// minutes, so that no grace period ends during a run.
func RunModel(t *testing.T, newManager func(t *testing.T) *session.Manager, cfg ModelConfig) {
	t.Helper()
	cfg = cfg.withDefaults()
	mr := &modelRunner{t: t, cfg: cfg, reqs: map[string]*modelReq{}}
	for i := range cfg.Managers {
		m := newManager(t)
		if m.RenewGrace < 10*time.Minute {
			m.RenewGrace = 10 * time.Minute
		}
		srv := httptest.NewServer(mr.handler(i, m))
		t.Cleanup(srv.Close)
		mr.managers = append(mr.managers, m)
		mr.servers = append(mr.servers, srv)
	}
	for _, seed := range cfg.Seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			_, owners := mr.managers[0].Store.(session.OwnerIndex)
			sched := genSchedule(seed, cfg, rand.Text()[:8], owners)
			bad := mr.run(sched)
			if bad == nil {
				t.Logf("%d requests checked, 0 violations", len(sched))
				return
			}
			short, last := mr.shrink(sched, bad)
			t.Fatalf("seed %d: %s\nshortest history found (%d of %d steps):\n%s", seed, last.msg, len(short), len(sched), strings.Join(last.history, "\n"))
		})
	}
}

// Operations of a model request.
type opKind int

const (
	opSet opKind = iota
	opUpdate
	opPanicUpdate // an Update whose function panics when it runs again
	opPop
	opDelete
	opClear
	opSetOwner
	opRenew
	opRemember
	opDestroy
	opDestroyOwner
)

var opNames = [...]string{"set", "update", "panic-update", "pop", "delete", "clear", "owner", "renew", "remember", "destroy", "destroy-owner"}

type modelOp struct {
	kind  opKind
	key   string
	value string
	owner string
	flag  bool
}

func (o modelOp) String() string {
	switch o.kind {
	case opSet:
		return fmt.Sprintf("set %s=%s", o.key, o.value)
	case opPop, opDelete:
		return opNames[o.kind] + " " + o.key
	case opSetOwner:
		return fmt.Sprintf("owner %q", o.owner)
	case opRemember:
		return fmt.Sprintf("remember %v", o.flag)
	}
	return opNames[o.kind]
}

// step is one request of a schedule, or the resumption of a held one.
type step struct {
	resume  bool
	burst   bool // resume two held requests at once (which and which+1)
	tabs    int  // this request and tabs-1 more (tabOps) from the same browser, committed at once
	tabOps  [][]modelOp
	which   int // resume: which held request (modulo)
	browser int
	server  int
	tab     int // 0: the browser's cookie; k: the k-th older ID it held
	hold    bool
	ops     []modelOp
}

func (s step) String() string {
	if s.burst {
		return fmt.Sprintf("resume held #%d and the next at once", s.which)
	}
	if s.resume {
		return fmt.Sprintf("resume held #%d", s.which)
	}
	ops := make([]string, len(s.ops))
	for i, o := range s.ops {
		ops[i] = o.String()
	}
	hold := ""
	if s.hold {
		hold = " (held)"
	}
	if s.tabs > 1 {
		hold = fmt.Sprintf(" (%d tabs at once)", s.tabs)
	}
	return fmt.Sprintf("browser %d tab %d on server %d: [%s]%s", s.browser, s.tab, s.server, strings.Join(ops, ", "), hold)
}

// genSchedule draws a schedule of cfg.Steps requests; owners tells whether
// the store has an owner index (SetOwner, DestroyOwnerSessions).
func genSchedule(seed uint64, cfg ModelConfig, tag string, owners bool) []step {
	rng := mrand.New(mrand.NewPCG(seed, 0x5e55))
	var sched []step
	held, counter := 0, 0
	for len(sched) < cfg.Steps {
		if held > 1 && rng.IntN(100) < 15 {
			sched = append(sched, step{resume: true, burst: true, which: rng.IntN(8)})
			held -= 2
			continue
		}
		if held > 0 && rng.IntN(100) < 40 {
			sched = append(sched, step{resume: true, which: rng.IntN(8)})
			held--
			continue
		}
		st := step{browser: rng.IntN(cfg.Browsers), server: rng.IntN(cfg.Managers)}
		if rng.IntN(100) < 20 {
			st.tab = 1 + rng.IntN(3)
		}
		switch p := rng.IntN(100); {
		case p < 10:
			st.tabs = 2 + rng.IntN(2)
		case held < cfg.InFlight && p < 45:
			st.hold = true
			held++
		}
		st.ops = genOps(rng, &counter, owners, tag)
		seen := kindsOf(st.ops)
		for range st.tabs - 1 {
			// Tabs that commit at once may each do anything but renew or
			// choose RememberMe twice: which of two such requests came
			// first cannot be read back (see burst).
			ops := slices.DeleteFunc(genOps(rng, &counter, owners, tag), func(o modelOp) bool { return seen[o.kind] && ambiguous(o.kind) })
			maps.Copy(seen, kindsOf(ops))
			st.tabOps = append(st.tabOps, ops)
		}
		sched = append(sched, st)
	}
	for held > 0 {
		sched = append(sched, step{resume: true})
		held--
	}
	return sched
}

// ambiguous reports whether two requests committed at once that both do
// k leave states that reads cannot tell apart: which of two renewals
// linked the old ID to its session, which RememberMe came last.
func ambiguous(k opKind) bool { return k == opRenew || k == opRemember }

// kindsOf returns the kinds of ops.
func kindsOf(ops []modelOp) map[opKind]bool {
	m := map[opKind]bool{}
	for _, o := range ops {
		m[o.kind] = true
	}
	return m
}

// genOps draws the operations of one request.
func genOps(rng *mrand.Rand, counter *int, owners bool, tag string) []modelOp {
	switch p := rng.IntN(100); {
	case p < 8:
		return []modelOp{{kind: opDestroy}}
	case p < 12 && owners:
		return []modelOp{{kind: opDestroyOwner}}
	case p < 30: // a read
		return nil
	}
	var ops []modelOp
	renewed := false
	for range 1 + rng.IntN(3) {
		o := modelOp{}
		switch q := rng.IntN(100); {
		case q < 30:
			*counter++
			o = modelOp{kind: opSet, key: []string{"a", "b", "flash"}[rng.IntN(3)], value: fmt.Sprintf("v%d", *counter)}
		case q < 45:
			o = modelOp{kind: opUpdate}
		case q < 48:
			o = modelOp{kind: opPanicUpdate}
		case q < 63:
			o = modelOp{kind: opPop, key: []string{"flash", "a"}[rng.IntN(2)]}
		case q < 68:
			o = modelOp{kind: opDelete, key: "b"}
		case q < 71:
			o = modelOp{kind: opClear}
		case q < 82 && owners:
			o = modelOp{kind: opSetOwner, owner: []string{"alice-" + tag, "bob-" + tag, ""}[rng.IntN(3)]}
		case q < 93 && q >= 82:
			if renewed {
				continue
			}
			renewed = true
			o = modelOp{kind: opRenew}
		default:
			o = modelOp{kind: opRemember, flag: rng.IntN(2) == 0}
		}
		ops = append(ops, o)
	}
	return ops
}

// modelRunner holds the application servers of a RunModel call.
type modelRunner struct {
	t        *testing.T
	cfg      ModelConfig
	managers []*session.Manager
	servers  []*httptest.Server

	mu   sync.Mutex
	reqs map[string]*modelReq
	n    int
}

// modelReq is one request in flight: what the handler saw at its load.
type modelReq struct {
	step    step
	sentID  string
	reached chan struct{}
	resume  chan struct{}
	done    chan *http.Response
	err     error

	// Set by the handler before reached is closed.
	loadErr error
	isNew   bool
	values  map[string]any
	owner   string
	finalID string

	// Set by the model at load.
	load        *modelRec // the record the request loaded (nil: a fresh session)
	loadPersist *bool
	seen        []map[string]any
}

// handler serves model requests on manager m.
func (mr *modelRunner) handler(server int, m *session.Manager) http.Handler {
	return m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mr.mu.Lock()
		rq := mr.reqs[r.Header.Get("X-Model-Request")]
		mr.mu.Unlock()
		if rq == nil {
			http.Error(w, "unknown model request", http.StatusBadRequest)
			return
		}
		s, err := m.Load(r.Context())
		if err != nil {
			rq.loadErr = err
			close(rq.reached)
			<-rq.resume
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		rq.isNew, rq.values, rq.owner = s.IsNew(), s.Values(), s.Owner()
		if n, ok := rq.values["n"]; ok {
			rq.values["n"] = toInt(n)
		}
		for _, o := range rq.step.ops {
			switch o.kind {
			case opSet:
				s.Set(o.key, o.value)
			case opUpdate:
				s.Update("n", func(old any) any { return toInt(old) + 1 })
			case opPanicUpdate:
				calls := 0
				s.Update("n", func(old any) any {
					if calls++; calls > 1 {
						panic("storetest: injected panic in a replayed Update")
					}
					return toInt(old) + 1
				})
			case opPop:
				s.Pop(o.key)
			case opDelete:
				s.Delete(o.key)
			case opClear:
				s.Clear()
			case opSetOwner:
				s.SetOwner(o.owner)
			case opRenew:
				if err := s.Renew(); err != nil {
					rq.loadErr = err
				}
			case opRemember:
				if err := s.RememberMe(o.flag); err != nil {
					rq.loadErr = err
				}
			case opDestroy:
				s.Destroy()
			case opDestroyOwner:
				if rq.owner != "" {
					if _, err := m.DestroyOwnerSessions(r.Context(), rq.owner, s.Key()); err != nil {
						rq.loadErr = err
					}
				}
			}
		}
		rq.finalID = s.ID()
		close(rq.reached)
		<-rq.resume
		w.WriteHeader(http.StatusOK) // the commit
	}))
}

// toInt reads a counter whatever integer type the codec gave back.
func toInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	}
	return 0
}

// violation is a broken rule, with the history that led to it.
type violation struct {
	msg     string
	history []string
}

// browser is one client with its cookie jar.
type browser struct {
	client *http.Client
	jar    *cookiejar.Jar
	held   []string // the IDs it held, oldest first
}

// run executes sched on fresh browsers and returns the first violation.
func (mr *modelRunner) run(sched []step) *violation {
	md := &model{byID: map[string]*modelRec{}}
	browsers := make([]*browser, mr.cfg.Browsers)
	for i := range browsers {
		jar, _ := cookiejar.New(nil)
		browsers[i] = &browser{jar: jar, client: &http.Client{Jar: jar, Timeout: time.Minute}}
	}
	plain := &http.Client{Timeout: time.Minute}
	u, _ := url.Parse(mr.servers[0].URL)
	name := mr.managers[0].Cookie.Name
	var held []*modelReq
	var history []string
	fail := func(format string, args ...any) *violation {
		for _, rq := range held {
			close(rq.resume)
			<-rq.done
		}
		return &violation{msg: fmt.Sprintf(format, args...), history: history}
	}
	finish := func(rq *modelReq) *violation {
		close(rq.resume)
		resp := <-rq.done
		if rq.err != nil {
			return fail("request failed: %v", rq.err)
		}
		res := md.commit(rq, resp, name)
		history = append(history, "    → "+res.note)
		if res.bad != "" {
			return fail("%s", res.bad)
		}
		b := browsers[rq.step.browser]
		if rq.step.tab == 0 {
			if c := jarCookie(b.jar, u, name); c != "" && (len(b.held) == 0 || b.held[len(b.held)-1] != c) {
				b.held = append(b.held, c)
			}
		}
		return nil
	}
	// start sends st's request and waits until its handler has loaded the
	// session and made its changes; with id (a probe), it sends that ID
	// from a client without a jar.
	start := func(st step, probe string) (*modelReq, error) {
		b := browsers[st.browser]
		rq := &modelReq{step: st, reached: make(chan struct{}), resume: make(chan struct{}), done: make(chan *http.Response, 1)}
		mr.mu.Lock()
		mr.n++
		tag := strconv.Itoa(mr.n)
		mr.reqs[tag] = rq
		mr.mu.Unlock()
		req, _ := http.NewRequest(http.MethodGet, mr.servers[st.server].URL+"/", nil)
		req.Header.Set("X-Model-Request", tag)
		client := b.client
		switch {
		case probe != "":
			rq.sentID, client = probe, plain
			req.AddCookie(&http.Cookie{Name: name, Value: url.PathEscape(probe)})
		case st.tab > 0 && st.tab <= len(b.held):
			rq.sentID = b.held[len(b.held)-st.tab]
			client = plain
			req.AddCookie(&http.Cookie{Name: name, Value: url.PathEscape(rq.sentID)})
		default:
			rq.step.tab = 0
			rq.sentID = jarCookie(b.jar, u, name)
		}
		go func() {
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			rq.err = err
			rq.done <- resp
		}()
		select {
		case <-rq.reached:
		case resp := <-rq.done:
			rq.done <- resp
			return nil, fmt.Errorf("%s: the request ended before its handler ran (%v)", rq.step, rq.err)
		}
		if rq.loadErr != nil {
			return rq, fmt.Errorf("the handler failed: %v", rq.loadErr)
		}
		return rq, nil
	}
	// burst lets held requests commit at once. The model accepts any
	// order; reads of the IDs involved tell which one it was.
	burst := func(rqs []*modelReq) *violation {
		resps := make([]*http.Response, len(rqs))
		for _, rq := range rqs {
			close(rq.resume)
		}
		for i, rq := range rqs {
			resps[i] = <-rq.done
			if rq.err != nil {
				return fail("request failed: %v", rq.err)
			}
		}
		type candidate struct {
			md    *model
			remap map[*modelRec]*modelRec
			notes []string
		}
		var cands []candidate
		var why []string
		for _, order := range permutations(len(rqs)) {
			c, mp := md.clone()
			cand := candidate{md: c, remap: mp}
			ok := true
			for _, k := range order {
				cp := *rqs[k]
				cp.load = mp[rqs[k].load]
				res := c.commit(&cp, resps[k], name)
				cand.notes = append(cand.notes, fmt.Sprintf("    → [%d] %s", k, res.note))
				if res.bad != "" {
					why = append(why, res.bad)
					ok = false
					break
				}
			}
			if ok {
				cands = append(cands, cand)
			}
		}
		if len(cands) == 0 {
			return fail("requests committed at once, and no order explains the responses: %s", strings.Join(why, "; "))
		}
		var ids []string
		for _, rq := range rqs {
			for _, id := range []string{rq.sentID, rq.finalID} {
				if id != "" && !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
		}
		for _, id := range ids {
			if len(cands) < 2 {
				break
			}
			p, err := start(step{browser: rqs[0].step.browser}, id)
			if err != nil {
				return fail("probe: %v", err)
			}
			close(p.resume)
			<-p.done
			cands = slices.DeleteFunc(cands, func(c candidate) bool { return c.md.check(p) != "" })
		}
		if len(cands) == 0 {
			return fail("after requests committed at once, a read matches no order")
		}
		c := cands[0]
		*md = *c.md
		for _, rq := range held {
			rq.load = c.remap[rq.load]
		}
		history = append(history, c.notes...)
		for _, rq := range rqs {
			b := browsers[rq.step.browser]
			if c := jarCookie(b.jar, u, name); rq.step.tab == 0 && c != "" && (len(b.held) == 0 || b.held[len(b.held)-1] != c) {
				b.held = append(b.held, c)
			}
		}
		return nil
	}
	for i, st := range sched {
		if st.burst && len(held) >= 2 && !clash(held[st.which%len(held)], held[(st.which%len(held)+1)%len(held)]) &&
			(!mr.cfg.OneServerAtOnce || held[st.which%len(held)].step.server == held[(st.which%len(held)+1)%len(held)].step.server) {
			k := st.which % len(held)
			x := held[k]
			held = slices.Delete(held, k, k+1)
			k %= len(held)
			y := held[k]
			held = slices.Delete(held, k, k+1)
			history = append(history, fmt.Sprintf("#%d at once: %s | %s", i, x.step, y.step))
			if v := burst([]*modelReq{x, y}); v != nil {
				return v
			}
			continue
		}
		if st.resume {
			if len(held) == 0 {
				continue
			}
			k := st.which % len(held)
			rq := held[k]
			held = slices.Delete(held, k, k+1)
			history = append(history, fmt.Sprintf("#%d resume: %s", i, rq.step))
			if v := finish(rq); v != nil {
				return v
			}
			continue
		}
		var tabs []*modelReq
		for k := range max(st.tabs, 1) {
			tst := st
			if k > 0 {
				tst.ops = st.tabOps[k-1]
			}
			rq, err := start(tst, "")
			if rq == nil {
				held = append(held, tabs...)
				return fail("#%d %v", i, err)
			}
			tabs = append(tabs, rq)
			history = append(history, fmt.Sprintf("#%d %s, sends %s", i, rq.step, shortID(rq.sentID)))
			if err != nil {
				held = append(held, tabs...)
				return fail("#%d: %v", i, err)
			}
			if bad := md.load(rq); bad != "" {
				held = append(held, tabs...)
				return fail("#%d: %s", i, bad)
			}
		}
		if len(tabs) > 1 {
			if v := burst(tabs); v != nil {
				return v
			}
			continue
		}
		rq := tabs[0]
		if st.hold {
			held = append(held, rq)
			continue
		}
		if v := finish(rq); v != nil {
			return v
		}
	}
	for len(held) > 0 {
		rq := held[0]
		held = held[1:]
		history = append(history, "end, resume: "+rq.step.String())
		if v := finish(rq); v != nil {
			return v
		}
	}
	return nil
}

// clash reports whether two requests both do an ambiguous operation, so
// that they are not committed at once.
func clash(x, y *modelReq) bool {
	kx := kindsOf(x.step.ops)
	for _, o := range y.step.ops {
		if kx[o.kind] && ambiguous(o.kind) {
			return true
		}
	}
	return false
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n <= 1 {
		return [][]int{make([]int, n)}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := slices.Insert(slices.Clone(p), i, n-1)
			out = append(out, q)
		}
	}
	return out
}

// shrink looks for a shorter schedule that still breaks a rule, removing
// chunks of steps while the run still fails, within a bounded budget.
func (mr *modelRunner) shrink(sched []step, bad *violation) ([]step, *violation) {
	deadline := time.Now().Add(time.Minute)
	for size := len(sched) / 2; size >= 1 && time.Now().Before(deadline); size /= 2 {
		for start := 0; start+size <= len(sched) && time.Now().Before(deadline); {
			try := slices.Concat(sched[:start], sched[start+size:])
			if v := mr.run(try); v != nil {
				sched, bad = try, v
				continue
			}
			start += size
		}
	}
	return sched, bad
}

func jarCookie(jar *cookiejar.Jar, u *url.URL, name string) string {
	for _, c := range jar.Cookies(u) {
		if c.Name == name {
			id, _ := url.PathUnescape(c.Value)
			return id
		}
	}
	return ""
}

func shortID(id string) string {
	if len(id) > 6 {
		return id[:6]
	}
	if id == "" {
		return "no ID"
	}
	return id
}

// model is the sequential model of the session rules.
type model struct {
	byID map[string]*modelRec
}

// modelRec is one stored ID: a live session, or an ID retired by Renew.
type modelRec struct {
	id      string
	values  map[string]any
	owner   string
	persist *bool
	retired bool
	dead    bool
	succ    *modelRec // retired: the session it was renewed to
	anc     *modelRec // renewed: the ID it was renewed from
}

// live returns the record a change through r goes to: r itself, or the
// end of its Renew chain; nil when that session has ended.
func (r *modelRec) live() *modelRec {
	for i := 0; r != nil && r.retired && i < 64; i++ {
		r = r.succ
	}
	if r == nil || r.dead || r.retired {
		return nil
	}
	return r
}

// destroy ends r and every ID linked to it by Renew, but keep.
func (md *model) destroy(r, keep *modelRec) {
	todo := []*modelRec{r}
	for len(todo) > 0 {
		x := todo[0]
		todo = todo[1:]
		if x == nil || x == keep || x.dead {
			continue
		}
		x.dead = true
		todo = append(todo, x.succ, x.anc)
	}
}

// check compares what the handler saw at its load with the model.
func (md *model) check(rq *modelReq) string {
	r := md.byID[rq.sentID]
	if r != nil && r.dead {
		r = nil
	}
	want, wantOwner := map[string]any{}, ""
	if r != nil {
		want, wantOwner = r.values, r.owner
	}
	if rq.isNew != (r == nil) {
		return fmt.Sprintf("ID %s: the request got IsNew=%v, the model says %v", shortID(rq.sentID), rq.isNew, r == nil)
	}
	if !reflect.DeepEqual(rq.values, want) && !(len(rq.values) == 0 && len(want) == 0) {
		return fmt.Sprintf("ID %s: the request saw %v, the model says %v", shortID(rq.sentID), rq.values, want)
	}
	if rq.owner != wantOwner {
		return fmt.Sprintf("ID %s: the request saw owner %q, the model says %q", shortID(rq.sentID), rq.owner, wantOwner)
	}
	return ""
}

// clone returns a deep copy of the model and the map from its records to
// the copy's.
func (md *model) clone() (*model, map[*modelRec]*modelRec) {
	mp := map[*modelRec]*modelRec{}
	for _, r := range md.byID {
		c := *r
		c.values = maps.Clone(r.values)
		mp[r] = &c
	}
	for old, c := range mp {
		c.succ, c.anc = mp[old.succ], mp[old.anc]
	}
	out := &model{byID: make(map[string]*modelRec, len(md.byID))}
	for id, r := range md.byID {
		out.byID[id] = mp[r]
	}
	return out, mp
}

// load checks what the handler saw at its load and records, for each
// change, the values the request saw when it made it.
func (md *model) load(rq *modelReq) string {
	if bad := md.check(rq); bad != "" {
		return bad
	}
	r := md.byID[rq.sentID]
	if r != nil && r.dead {
		r = nil
	}
	want, wantOwner := map[string]any{}, ""
	if r != nil {
		want, wantOwner = r.values, r.owner
	}
	rq.load = r
	if r != nil {
		rq.loadPersist = r.persist
	}
	// The request's own view as its changes ran, for the replays.
	view := maps.Clone(want)
	owner := wantOwner
	for _, o := range rq.step.ops {
		rq.seen = append(rq.seen, maps.Clone(view))
		view, owner = applyOp(view, owner, nil, o, nil)
		if o.kind == opDestroyOwner && wantOwner != "" {
			for _, x := range md.byID {
				if !x.dead && !x.retired && x.owner == wantOwner && x != r {
					md.destroy(x, r)
				}
			}
		}
	}
	return ""
}

// applyOp applies o to values and owner. With seen (a replay), Pop,
// Delete and Clear remove only values still equal to what the request saw.
func applyOp(values map[string]any, owner string, persist **bool, o modelOp, seen map[string]any) (map[string]any, string) {
	if values == nil {
		values = map[string]any{}
	}
	del := func(k string) {
		if seen == nil {
			delete(values, k)
			return
		}
		if sv, ok := seen[k]; ok && reflect.DeepEqual(values[k], sv) {
			delete(values, k)
		}
	}
	switch o.kind {
	case opSet:
		values[o.key] = o.value
	case opUpdate, opPanicUpdate:
		n, _ := values["n"].(int)
		values["n"] = n + 1
	case opPop, opDelete:
		del(o.key)
	case opClear:
		keys := slices.Collect(maps.Keys(values))
		if seen != nil {
			keys = slices.Collect(maps.Keys(seen))
		}
		for _, k := range keys {
			del(k)
		}
	case opSetOwner:
		owner = o.owner
	case opRemember:
		if persist != nil {
			p := o.flag
			*persist = &p
		}
	}
	return values, owner
}

// replay applies the request's changes to values as the manager does
// after a conflict: each on the current values, deletes only of what the
// request saw.
func (rq *modelReq) replay(values map[string]any, owner string, persist **bool) (map[string]any, string) {
	for i, o := range rq.step.ops {
		if o.kind == opSetOwner && o.owner == viewOwner(rq, i) {
			continue // setting the owner the session has records no change
		}
		values, owner = applyOp(values, owner, persist, o, rq.seen[i])
	}
	return values, owner
}

// records reports whether the request's i-th operation is a change the
// manager records: removing what is not there, or setting the owner the
// session has, is none.
func (rq *modelReq) records(i int) bool {
	o := rq.step.ops[i]
	switch o.kind {
	case opDestroyOwner:
		return false
	case opSetOwner:
		return o.owner != viewOwner(rq, i)
	case opPop, opDelete:
		_, ok := rq.seen[i][o.key]
		return ok
	case opClear:
		return len(rq.seen[i]) > 0
	}
	return true
}

// viewOwner is the owner the request's view had before its i-th change.
func viewOwner(rq *modelReq, i int) string {
	owner := rq.owner
	for _, o := range rq.step.ops[:i] {
		if o.kind == opSetOwner {
			owner = o.owner
		}
	}
	return owner
}

type commitResult struct {
	note string
	bad  string
}

// commit applies a finished request to the model and checks its response.
func (md *model) commit(rq *modelReq, resp *http.Response, name string) commitResult {
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == name {
			cookie = c
		}
	}
	got := "no cookie"
	if cookie != nil {
		id, _ := url.PathUnescape(cookie.Value)
		switch {
		case cookie.MaxAge < 0:
			got = "revoked"
		default:
			got = "sets " + shortID(id)
		}
	}
	res := func(note string, bad string) commitResult {
		return commitResult{note: fmt.Sprintf("%d, %s: %s", resp.StatusCode, got, note), bad: bad}
	}
	changes, destroy, renew, panicky := 0, false, false, false
	for i, o := range rq.step.ops {
		switch o.kind {
		case opDestroy:
			destroy = true
		case opRenew:
			renew = true
		case opPanicUpdate:
			panicky = true
		}
		if rq.records(i) {
			changes++
		}
	}
	if resp.StatusCode >= 500 {
		if panicky {
			return res("failed by its injected panic; nothing saved", "")
		}
		return res("", fmt.Sprintf("status %d", resp.StatusCode))
	}
	if resp.StatusCode != http.StatusOK {
		return res("", fmt.Sprintf("status %d", resp.StatusCode))
	}
	expectNew := func(r *modelRec, note string) commitResult {
		if cookie == nil || cookie.MaxAge < 0 {
			return res(note, "a new session was stored but its ID was not sent")
		}
		id, _ := url.PathUnescape(cookie.Value)
		if id != rq.finalID {
			return res(note, fmt.Sprintf("the cookie holds %s, the session is %s", shortID(id), shortID(rq.finalID)))
		}
		if md.byID[id] != nil {
			return res(note, "a new session reused a stored ID")
		}
		if r.persist != nil && *r.persist != (cookie.MaxAge > 0) {
			return res(note, fmt.Sprintf("RememberMe(%v) but the cookie's Max-Age is %d", *r.persist, cookie.MaxAge))
		}
		r.id = id
		md.byID[id] = r
		return res(note, "")
	}
	expectRevoked := func(note string) commitResult {
		if rq.sentID != "" && (cookie == nil || cookie.MaxAge >= 0) {
			return res(note, "the ended ID was not revoked")
		}
		return res(note, "")
	}
	expectSameID := func(note string) commitResult {
		if cookie != nil {
			id, _ := url.PathUnescape(cookie.Value)
			if cookie.MaxAge < 0 || id != rq.sentID {
				return res(note, "the cookie changed although the session kept its ID")
			}
		}
		return res(note, "")
	}
	x := rq.load
	if changes == 0 {
		return expectSameID("read only")
	}
	if x == nil {
		if destroy {
			return res("destroy of a fresh session: nothing", "")
		}
		r := &modelRec{}
		r.values, r.owner = rq.replay(nil, "", &r.persist)
		return expectNew(r, "new session "+shortID(rq.finalID))
	}
	if destroy {
		md.destroy(x, nil)
		return expectRevoked("destroyed the chain of " + shortID(x.id))
	}
	if x.dead {
		return expectRevoked("destroyed meanwhile: changes dropped")
	}
	if renew {
		if x.retired {
			// Renewed first by another request, or renewing from a
			// retired ID: a normal session from the request's own view.
			r := &modelRec{persist: rq.loadPersist}
			r.values, r.owner = maps.Clone(rq.values), rq.owner
			for _, o := range rq.step.ops {
				r.values, r.owner = applyOp(r.values, r.owner, &r.persist, o, nil)
			}
			return expectNew(r, "renewed into a session of its own")
		}
		r := &modelRec{persist: x.persist, anc: x}
		r.values, r.owner = rq.replay(maps.Clone(x.values), x.owner, &r.persist)
		x.retired, x.succ = true, r
		return expectNew(r, "login: "+shortID(x.id)+" retired")
	}
	target := x.live()
	if target == nil {
		return expectRevoked("its session has ended: changes dropped")
	}
	target.values, target.owner = rq.replay(target.values, target.owner, &target.persist)
	if target != x {
		if cookie != nil {
			return res("", "a write through a retired ID set a cookie")
		}
		return res("redirected to "+shortID(target.id), "")
	}
	return expectSameID("saved")
}
