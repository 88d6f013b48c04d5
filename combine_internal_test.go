package session

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gateStore is an in-memory store (enough for the combining tests, which
// live inside the package) whose next Save of one key waits for a gate, and
// which counts calls.
type gateStore struct {
	mu      sync.Mutex
	recs    map[string]Record
	ver     uint64
	gateKey string
	entered chan struct{}
	gate    chan struct{}
	saves   atomic.Int64
	loads   atomic.Int64
}

func (g *gateStore) Load(ctx context.Context, key string) (Record, error) {
	g.loads.Add(1)
	g.mu.Lock()
	defer g.mu.Unlock()
	r, ok := g.recs[key]
	if !ok {
		return Record{}, ErrNotFound
	}
	r.Data = append([]byte(nil), r.Data...)
	return r, nil
}

func (g *gateStore) Save(ctx context.Context, key string, rec Record) (uint64, error) {
	g.saves.Add(1)
	g.mu.Lock()
	if key == g.gateKey && g.gate != nil {
		gate := g.gate
		g.gate = nil
		g.mu.Unlock()
		close(g.entered)
		<-gate
		g.mu.Lock()
	}
	defer g.mu.Unlock()
	if g.recs[key].Version != rec.Version {
		return 0, ErrConflict
	}
	g.ver++
	rec.Version = g.ver
	rec.Data = append([]byte(nil), rec.Data...)
	g.recs[key] = rec
	return g.ver, nil
}

func (g *gateStore) Delete(ctx context.Context, key string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.recs, key)
	return nil
}

func (m *Manager) waitingFor(key string) int {
	m.turns.mu.Lock()
	defer m.turns.mu.Unlock()
	if q := m.turns.keys[key]; q != nil {
		return len(q.waiting)
	}
	return 0
}

// combineFixture creates a session, then holds one save of it in the store
// while n requests queue behind it, each running change.
func combineFixture(t *testing.T, n int, change func(i int, s *Session)) (m *Manager, gs *gateStore, id string, codes []int) {
	gs = &gateStore{recs: map[string]Record{}}
	m = New(gs)
	m.MaxSize = 4096
	run := func(cookie string, fn func(s *Session)) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "session", Value: cookie})
		}
		rec := httptest.NewRecorder()
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := m.Load(r.Context())
			if err != nil {
				t.Error(err)
				return
			}
			fn(s)
		})).ServeHTTP(rec, req)
		return rec
	}
	id = run("", func(s *Session) { s.Set("n", 0) }).Result().Cookies()[0].Value
	gs.gateKey, gs.entered, gs.gate = m.KeyOf(id), make(chan struct{}), make(chan struct{})
	release := gs.gate
	first := make(chan int, 1)
	go func() { first <- run(id, func(s *Session) { s.Set("first", true) }).Code }()
	<-gs.entered
	codes = make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); codes[i] = run(id, func(s *Session) { change(i, s) }).Code }()
	}
	deadline := time.Now().Add(10 * time.Second)
	for m.waitingFor(gs.gateKey) < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // polling the queue, with a deadline
	}
	if got := m.waitingFor(gs.gateKey); got != n {
		t.Fatalf("%d requests queued, want %d", got, n)
	}
	gs.saves.Store(0)
	gs.loads.Store(0)
	close(release)
	wg.Wait()
	if c := <-first; c != http.StatusOK {
		t.Fatalf("first request: status %d", c)
	}
	return m, gs, id, codes
}

// Ten saves queued behind one are written together: one compare-and-set
// for all, and every change kept.
func TestQueuedSavesAreCombined(t *testing.T) {
	const n = 10
	m, gs, id, codes := combineFixture(t, n, func(i int, s *Session) {
		s.Update("n", func(old any) any { v, _ := old.(int); return v + 1 })
		s.Set(fmt.Sprintf("k%d", i), i)
	})
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("request %d: status %d", i, c)
		}
	}
	// The held save was counted before the gate; then one combined
	// write, and no reload: the queue starts from what the held save
	// stored.
	if s, l := gs.saves.Load(), gs.loads.Load(); s != 1 || l != 0 {
		t.Fatalf("%d saves and %d loads after the gate opened, want 1 combined save and no load", s, l)
	}
	rec, _ := gs.Load(context.Background(), m.KeyOf(id))
	values, _ := m.Codec.Decode(rec.Data)
	if values["n"] != n || values["first"] != true {
		t.Fatalf("stored %v", values)
	}
	for i := range n {
		if values[fmt.Sprintf("k%d", i)] != i {
			t.Fatalf("k%d lost: %v", i, values)
		}
	}
}

// A change that cannot be stored (over MaxSize), or whose replay panics,
// fails its own request (500), never the ones combined with it; the key's
// turn goes on.
func TestCombinedFailureIsolated(t *testing.T) {
	const n = 6
	for name, bad := range map[string]func(s *Session){
		"too large": func(s *Session) { s.Set("bad", strings.Repeat("x", 10000)) },
		"panic on replay": func(s *Session) {
			calls := 0
			s.Update("bad", func(any) any {
				if calls++; calls > 1 {
					panic("boom on replay")
				}
				return 1
			})
		},
	} {
		t.Run(name, func(t *testing.T) {
			m, gs, id, codes := combineFixture(t, n, func(i int, s *Session) {
				if i == 2 {
					bad(s)
					return
				}
				s.Set(fmt.Sprintf("k%d", i), i)
			})
			for i, c := range codes {
				want := http.StatusOK
				if i == 2 {
					want = http.StatusInternalServerError
				}
				if c != want {
					t.Fatalf("request %d: status %d, want %d", i, c, want)
				}
			}
			rec, _ := gs.Load(context.Background(), m.KeyOf(id))
			values, _ := m.Codec.Decode(rec.Data)
			if _, ok := values["bad"]; ok {
				t.Fatal("the failed request's change was stored")
			}
			for i := range n {
				if i != 2 && values[fmt.Sprintf("k%d", i)] != i {
					t.Fatalf("k%d lost beside the failed request: %v", i, values)
				}
			}
			if got := m.waitingFor(m.KeyOf(id)); got != 0 {
				t.Fatalf("%d saves still queued", got)
			}
		})
	}
}
