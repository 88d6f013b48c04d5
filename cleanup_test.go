package session_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// GCBatches reports progress batch by batch.
func TestGCBatchesProgress(t *testing.T) {
	clk := newClock()
	st := memstore.NewWithClock(clk.Now)
	for i := range 2500 {
		if _, err := st.Save(context.Background(), fmt.Sprintf("k%d", i), session.Record{Data: []byte("x"), Expiry: clk.Now().Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Minute)
	m := session.New(st)
	if n, err := st.CountExpired(context.Background()); err != nil || n != 2500 {
		t.Fatalf("CountExpired = %d, %v", n, err)
	}
	var steps []int
	total, err := m.GCBatches(context.Background(), 1000, func(n int) { steps = append(steps, n) })
	if err != nil || total != 2500 || fmt.Sprint(steps) != "[1000 2000 2500]" {
		t.Fatalf("total %d, err %v, progress %v", total, err, steps)
	}
}

// Cleanup collects on its own and stops with its context.
func TestCleanupRunsAndStops(t *testing.T) {
	clk := newClock()
	st := memstore.NewWithClock(clk.Now)
	m := session.New(st)
	logs := &syncBuffer{}
	m.Logger = newTextLogger(logs)
	for i := range 10 {
		if _, err := st.Save(context.Background(), fmt.Sprintf("k%d", i), session.Record{Data: []byte("x"), Expiry: clk.Now().Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var err error
	wg.Add(1)
	go func() { defer wg.Done(); err = m.Cleanup(ctx, 5*time.Millisecond) }()
	deadline := time.Now().Add(10 * time.Second)
	for st.Len() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling the store, with a deadline
	}
	cancel()
	wg.Wait()
	if st.Len() != 0 || err != nil {
		t.Fatalf("%d records left, Cleanup returned %v", st.Len(), err)
	}
	if !strings.Contains(logs.String(), "removed=10") {
		t.Fatalf("not logged: %s", logs)
	}
	if err := (&session.Manager{Store: st}).Cleanup(context.Background(), 0); err == nil {
		t.Fatal("interval 0 accepted")
	}
}

// recorder is an Observer that counts what it sees.
type recorder struct {
	mu     sync.Mutex
	ops    map[session.StoreOp]int
	events map[session.Event]int
}

func (r *recorder) StoreCall(_ context.Context, op session.StoreOp, _ time.Duration, _ error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops[op]++
}

func (r *recorder) Event(_ context.Context, e session.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events[e]++
}

// The Observer sees every store call and lifecycle event.
func TestObserverSeesCallsAndEvents(t *testing.T) {
	f := newFixture(t)
	obs := &recorder{ops: map[session.StoreOp]int{}, events: map[session.Event]int{}}
	f.m.Observer = obs
	id := f.newSession("n", 0)
	at, resume, done := f.paused(id, func(s *session.Session) { s.Set("a", 1) })
	<-at
	f.set(id, "b", 2)
	resume()
	<-done
	newID := f.renew(id, "alice")
	f.destroy(newID)
	want := map[session.Event]int{session.EventCreated: 1, session.EventConflict: 1, session.EventRetry: 1, session.EventRenewed: 1, session.EventDestroyed: 1}
	for e, n := range want {
		if obs.events[e] != n {
			t.Errorf("%v: %d events, want %d (all: %v)", e, obs.events[e], n, obs.events)
		}
	}
	if obs.ops[session.OpLoad] == 0 || obs.ops[session.OpSave] == 0 || obs.ops[session.OpDelete] == 0 {
		t.Fatalf("store calls: %v", obs.ops)
	}
}
