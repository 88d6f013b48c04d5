// Package storetest is a conformance suite for implementations of
// session.Store, in the spirit of testing/fstest: a store's own tests call
// [Run] against a live instance and every guarantee of the contract is
// checked.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, mystore.New(...), storetest.Config{})
//	}
//
// Optional capabilities (session.Toucher, session.Collector,
// session.Iterator, session.OwnerIndex) are tested when the store implements
// them; otherwise their subtests skip with a reason naming the interface.
//
// The suite creates its own random keys and leaves no live records behind
// except expired ones for a Collector to remove. Give it a store of its own
// (its own table, prefix or database) when exact GC counts matter to you.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// Config describes what a store can hold. The zero value suits a store that
// keeps millisecond times and at least 1 MiB of data per record.
type Config struct {
	// Precision is the store's time resolution (default time.Millisecond).
	// Times are compared within it.
	Precision time.Duration
	// MaxDataSize is the largest record data the store holds, when that is
	// less than 1 MiB. The suite then checks that MaxDataSize bytes round
	// trip and that 1 MiB is refused with session.ErrTooLarge.
	MaxDataSize int
	// Workers and Increments size the concurrent compare-and-set test
	// (defaults 8 and 10).
	Workers, Increments int
	// Corrupt, when set, writes under key a record the store cannot read
	// (metadata of the wrong type, a missing field, bytes written by
	// another program), through the server's own client. The suite then
	// checks that Load reports it with an error wrapping
	// session.ErrCorrupt (never a panic, never ErrNotFound), that Delete
	// removes it, and that GC and Iterate do not fail because of it. The
	// check runs only when Corrupt is set.
	Corrupt func(ctx context.Context, key string) error
	// NewKey returns a fresh random key (default [Key]: 64 hex digits, the
	// shape of the manager's hashed keys). Stores with a shorter key column
	// pass a generator of keys that fit, such as PHP-style raw IDs.
	NewKey func() string
}

func (c Config) withDefaults() Config {
	if c.Precision <= 0 {
		c.Precision = time.Millisecond
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.Increments <= 0 {
		c.Increments = 10
	}
	if c.NewKey == nil {
		c.NewKey = Key
	}
	return c
}

// Run runs the conformance suite against s as subtests of t.
func Run(t *testing.T, s session.Store, cfg Config) {
	t.Helper()
	cfg = cfg.withDefaults()
	h := &harness{s: s, cfg: cfg}
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"LoadMissing", h.testLoadMissing},
		{"SaveLoad", h.testSaveLoad},
		{"CompareAndSet", h.testCompareAndSet},
		{"Delete", h.testDelete},
		{"ExpiredIsAbsent", h.testExpiredIsAbsent},
		{"ExpiresInTime", h.testExpiresInTime},
		{"BinaryData", h.testBinaryData},
		{"EmptyData", h.testEmptyData},
		{"LargeData", h.testLargeData},
		{"ConcurrentCAS", h.testConcurrentCAS},
		{"Cancelled", h.testCancelled},
		{"Touch", h.testTouch},
		{"GC", h.testGC},
		{"GCBatch", h.testGCBatch},
		{"CountExpired", h.testCountExpired},
		{"OwnerIndex", h.testOwnerIndex},
		{"Iterate", h.testIterate},
	}
	if cfg.Corrupt != nil {
		tests = append(tests, struct {
			name string
			fn   func(*testing.T)
		}{"Corrupt", h.testCorrupt})
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

type harness struct {
	s   session.Store
	cfg Config
}

// Key returns a fresh random store key shaped like the manager's hashed
// keys (64 hex digits).
func Key() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (h *harness) record(data string, ttl time.Duration) session.Record {
	now := time.Now()
	return session.Record{
		Data:    []byte(data),
		Expiry:  now.Add(ttl),
		Created: now,
	}
}

func (h *harness) save(t *testing.T, key string, rec session.Record) uint64 {
	t.Helper()
	v, err := h.s.Save(ctxFor(t), key, rec)
	if err != nil {
		t.Fatalf("Save(%s, version %d): %v", key, rec.Version, err)
	}
	if v == 0 {
		t.Fatalf("Save(%s) returned version 0", key)
	}
	return v
}

func (h *harness) load(t *testing.T, key string) session.Record {
	t.Helper()
	rec, err := h.s.Load(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Load(%s): %v", key, err)
	}
	return rec
}

func (h *harness) mustBeAbsent(t *testing.T, key, why string) {
	t.Helper()
	rec, err := h.s.Load(ctxFor(t), key)
	if !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load(%s) %s: got record %+v, err %v; want ErrNotFound", key, why, short(rec), err)
	}
}

func (h *harness) cleanup(t *testing.T, keys ...string) {
	t.Cleanup(func() {
		for _, k := range keys {
			_ = h.s.Delete(context.Background(), k)
		}
	})
}

func (h *harness) timeClose(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	d := got.Sub(want)
	if d < 0 {
		d = -d
	}
	if d > h.cfg.Precision {
		t.Errorf("%s = %v, want %v (within %v)", what, got, want, h.cfg.Precision)
	}
}

type shortRec struct {
	Len     int
	Version uint64
	Expiry  time.Time
}

func short(r session.Record) shortRec { return shortRec{len(r.Data), r.Version, r.Expiry} }

func (h *harness) key() string { return h.cfg.NewKey() }

func (h *harness) testLoadMissing(t *testing.T) {
	h.mustBeAbsent(t, h.key(), "of a key never saved")
}

func (h *harness) testSaveLoad(t *testing.T) {
	key := h.key()
	h.cleanup(t, key)
	rec := h.record("hello", time.Hour)
	if _, ok := h.s.(session.OwnerIndex); ok {
		// Only stores with an owner index must keep owners: a table
		// without an owner column refuses them with ErrUnsupported.
		rec.Owner = "owner-" + h.key()[:8]
	}
	before := time.Now()
	v := h.save(t, key, rec)
	after := time.Now()
	got := h.load(t, key)
	if !bytes.Equal(got.Data, rec.Data) {
		t.Errorf("Data = %q, want %q", got.Data, rec.Data)
	}
	if got.Version != v {
		t.Errorf("Version = %d, want %d as returned by Save", got.Version, v)
	}
	if got.Owner != rec.Owner {
		t.Errorf("Owner = %q, want %q", got.Owner, rec.Owner)
	}
	h.timeClose(t, "Expiry", got.Expiry, rec.Expiry)
	h.timeClose(t, "Created", got.Created, rec.Created)
	slack := h.cfg.Precision + time.Second
	if got.Modified.Before(before.Add(-slack)) || got.Modified.After(after.Add(slack)) {
		t.Errorf("Modified = %v, want between %v and %v", got.Modified, before, after)
	}
}

func (h *harness) testCompareAndSet(t *testing.T) {
	ctx := ctxFor(t)
	key := h.key()
	h.cleanup(t, key)
	v1 := h.save(t, key, h.record("one", time.Hour))

	again := h.record("intruder", time.Hour)
	if _, err := h.s.Save(ctx, key, again); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Save with version 0 over a live record: err = %v, want ErrConflict", err)
	}
	rec := h.record("two", time.Hour)
	rec.Version = v1
	v2 := h.save(t, key, rec)
	if v2 == v1 {
		t.Fatalf("Save returned the same version %d twice", v1)
	}
	stale := h.record("stale", time.Hour)
	stale.Version = v1
	if _, err := h.s.Save(ctx, key, stale); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Save with a stale version: err = %v, want ErrConflict", err)
	}
	wrong := h.record("wrong", time.Hour)
	wrong.Version = v2 + 12345
	if _, err := h.s.Save(ctx, key, wrong); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Save with a version never issued: err = %v, want ErrConflict", err)
	}
	got := h.load(t, key)
	if string(got.Data) != "two" || got.Version != v2 {
		t.Fatalf("after conflicts: Data %q version %d, want %q version %d", got.Data, got.Version, "two", v2)
	}
	missing := h.record("ghost", time.Hour)
	missing.Version = v2
	if _, err := h.s.Save(ctx, h.key(), missing); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Save with a version on a missing key: err = %v, want ErrConflict", err)
	}
}

func (h *harness) testDelete(t *testing.T) {
	ctx := ctxFor(t)
	key := h.key()
	h.cleanup(t, key)
	h.save(t, key, h.record("doomed", time.Hour))
	if err := h.s.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	h.mustBeAbsent(t, key, "after Delete")
	if err := h.s.Delete(ctx, key); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	h.save(t, key, h.record("reborn", time.Hour))
	if got := h.load(t, key); string(got.Data) != "reborn" {
		t.Fatalf("after re-creating: Data %q", got.Data)
	}
}

func (h *harness) testExpiredIsAbsent(t *testing.T) {
	ctx := ctxFor(t)
	key := h.key()
	h.cleanup(t, key)
	h.save(t, key, h.record("old", -time.Minute))
	h.mustBeAbsent(t, key, "of a record saved with a past expiry")

	live := h.key()
	h.cleanup(t, live)
	v := h.save(t, live, h.record("live", time.Hour))
	dead := h.record("dead", -time.Minute)
	dead.Version = v
	h.save(t, live, dead)
	h.mustBeAbsent(t, live, "after saving a past expiry over a live record")

	// An expired record is absent in every respect: version 0 creates it.
	if _, err := h.s.Save(ctx, key, h.record("new", time.Hour)); err != nil {
		t.Fatalf("Save with version 0 over an expired record: %v", err)
	}
	if got := h.load(t, key); string(got.Data) != "new" {
		t.Fatalf("Data = %q, want %q", got.Data, "new")
	}
}

func (h *harness) testExpiresInTime(t *testing.T) {
	key := h.key()
	h.cleanup(t, key)
	ttl := 3 * h.cfg.Precision
	if ttl < 300*time.Millisecond {
		ttl = 300 * time.Millisecond
	}
	rec := h.record("short-lived", ttl)
	h.save(t, key, rec)
	// The record is alive well before its expiry ...
	if time.Now().Before(rec.Expiry.Add(-h.cfg.Precision - 100*time.Millisecond)) {
		h.load(t, key)
	}
	// ... and gone once the expiry (plus the store's precision) has passed.
	// This waits for the clock, not for another goroutine.
	deadline := rec.Expiry.Add(h.cfg.Precision + 2*time.Second)
	for {
		_, err := h.s.Load(ctxFor(t), key)
		if errors.Is(err, session.ErrNotFound) {
			if now := time.Now(); now.Before(rec.Expiry.Add(-h.cfg.Precision)) {
				t.Fatalf("record vanished at %v, before its expiry %v", now, rec.Expiry)
			}
			return
		}
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("record still loads at %v, expiry was %v", time.Now(), rec.Expiry)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *harness) roundTrip(t *testing.T, data []byte) {
	t.Helper()
	key := h.key()
	h.cleanup(t, key)
	rec := h.record("", time.Hour)
	rec.Data = data
	h.save(t, key, rec)
	got := h.load(t, key)
	if !bytes.Equal(got.Data, data) {
		t.Fatalf("Data of %d bytes came back as %d bytes (first difference at %d)", len(data), len(got.Data), firstDiff(got.Data, data))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func (h *harness) testBinaryData(t *testing.T) {
	data := make([]byte, 0, 1024)
	for i := range 256 {
		data = append(data, byte(i))
	}
	data = append(data, "\x00'\"\\;--\xff\xfe invalid UTF-8 \xc3\x28 end\x00"...)
	h.roundTrip(t, data)
}

func (h *harness) testEmptyData(t *testing.T) {
	h.roundTrip(t, []byte{})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func (h *harness) testLargeData(t *testing.T) {
	const mib = 1 << 20
	if h.cfg.MaxDataSize == 0 || h.cfg.MaxDataSize >= mib {
		h.roundTrip(t, randomBytes(mib))
		return
	}
	h.roundTrip(t, randomBytes(h.cfg.MaxDataSize))
	key := h.key()
	h.cleanup(t, key)
	v := h.save(t, key, h.record("kept", time.Hour))
	big := h.record("", time.Hour)
	big.Data = randomBytes(mib)
	big.Version = v
	if _, err := h.s.Save(ctxFor(t), key, big); !errors.Is(err, session.ErrTooLarge) {
		t.Fatalf("Save of 1 MiB over MaxDataSize %d: err = %v, want ErrTooLarge", h.cfg.MaxDataSize, err)
	}
	if got := h.load(t, key); string(got.Data) != "kept" || got.Version != v {
		t.Fatalf("a refused save changed the record: Data %q version %d", got.Data, got.Version)
	}
}

func (h *harness) testConcurrentCAS(t *testing.T) {
	if session.IsUnconditional(h.s) {
		t.Skip("store declares session.Unconditional: no compare-and-set")
	}
	key := h.key()
	h.cleanup(t, key)
	h.save(t, key, h.record(counter(0), time.Hour))
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		conflicts int
		errs      []error
	)
	for range h.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for range h.cfg.Increments {
				for {
					rec, err := h.s.Load(ctx, key)
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
					n := binary.BigEndian.Uint64(rec.Data)
					rec.Data = []byte(counter(n + 1))
					rec.Expiry = time.Now().Add(time.Hour)
					_, err = h.s.Save(ctx, key, rec)
					if errors.Is(err, session.ErrConflict) {
						mu.Lock()
						conflicts++
						mu.Unlock()
						continue
					}
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent saves failed: %v", errors.Join(errs...))
	}
	got := binary.BigEndian.Uint64(h.load(t, key).Data)
	want := uint64(h.cfg.Workers * h.cfg.Increments)
	if got != want {
		t.Fatalf("counter = %d after %d compare-and-set increments (%d conflicts retried): updates were lost", got, want, conflicts)
	}
	t.Logf("%d increments, %d conflicts retried", want, conflicts)
}

func counter(n uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return string(b[:])
}

func (h *harness) testCancelled(t *testing.T) {
	key := h.key()
	h.cleanup(t, key)
	h.save(t, key, h.record("x", time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err = %v, want context.Canceled", op, err)
		}
	}
	_, err := h.s.Load(ctx, key)
	check("Load", err)
	_, err = h.s.Save(ctx, h.key(), h.record("y", time.Hour))
	check("Save", err)
	check("Delete", h.s.Delete(ctx, key))
	if tc, ok := h.s.(session.Toucher); ok {
		check("Touch", tc.Touch(ctx, key, time.Now().Add(time.Hour)))
	}
	if c, ok := h.s.(session.Collector); ok {
		_, err := c.GC(ctx)
		check("GC", err)
	}
	if it, ok := h.s.(session.Iterator); ok {
		check("Iterate", it.Iterate(ctx, func(string, session.Record) bool { return true }))
	}
	if oi, ok := h.s.(session.OwnerIndex); ok {
		_, err := oi.OwnerKeys(ctx, "someone")
		check("OwnerKeys", err)
	}
	// The cancelled calls changed nothing.
	if got := h.load(t, key); string(got.Data) != "x" {
		t.Fatalf("after cancelled calls: Data %q, want %q", got.Data, "x")
	}
}

func (h *harness) testTouch(t *testing.T) {
	tc, ok := h.s.(session.Toucher)
	if !ok {
		t.Skip("store does not implement session.Toucher")
	}
	ctx := ctxFor(t)
	key := h.key()
	h.cleanup(t, key)
	v := h.save(t, key, h.record("touched", time.Hour))
	later := time.Now().Add(2 * time.Hour)
	if err := tc.Touch(ctx, key, later); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	got := h.load(t, key)
	h.timeClose(t, "Expiry after Touch", got.Expiry, later)
	if got.Version != v || string(got.Data) != "touched" {
		t.Fatalf("Touch changed the record: version %d data %q, want %d %q", got.Version, got.Data, v, "touched")
	}
	if err := tc.Touch(ctx, key, time.Now().Add(-time.Minute)); err != nil {
		t.Fatalf("Touch to a past expiry: %v", err)
	}
	h.mustBeAbsent(t, key, "after Touch to a past expiry")
	if err := tc.Touch(ctx, h.key(), later); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Touch of a missing key: err = %v, want ErrNotFound", err)
	}
}

func (h *harness) testGC(t *testing.T) {
	c, ok := h.s.(session.Collector)
	if !ok {
		t.Skip("store does not implement session.Collector (its server expires records)")
	}
	var expired, live []string
	for range 3 {
		k := h.key()
		expired = append(expired, k)
		h.save(t, k, h.record("expired", -time.Minute))
	}
	for range 2 {
		k := h.key()
		live = append(live, k)
		h.save(t, k, h.record("live", time.Hour))
	}
	h.cleanup(t, append(expired, live...)...)
	n, err := c.GC(ctxFor(t))
	if err != nil {
		t.Fatalf("GC: %v", err)
	}
	if n < len(expired) {
		t.Fatalf("GC deleted %d records, want at least the %d expired ones", n, len(expired))
	}
	for _, k := range live {
		if got := h.load(t, k); string(got.Data) != "live" {
			t.Fatalf("GC damaged a live record: %q", got.Data)
		}
	}
	if it, ok := h.s.(session.Iterator); ok {
		seen := map[string]bool{}
		if err := it.Iterate(ctxFor(t), func(k string, _ session.Record) bool { seen[k] = true; return true }); err != nil {
			t.Fatalf("Iterate: %v", err)
		}
		for _, k := range expired {
			if seen[k] {
				t.Fatalf("Iterate lists expired record %s after GC", k)
			}
		}
	}
}

func (h *harness) testOwnerIndex(t *testing.T) {
	oi, ok := h.s.(session.OwnerIndex)
	if !ok {
		t.Skip("store does not implement session.OwnerIndex")
	}
	ctx := ctxFor(t)
	owner, other := "user-"+h.key()[:12], "user-"+h.key()[:12]
	a, b, c, d := h.key(), h.key(), h.key(), h.key()
	h.cleanup(t, a, b, c, d)
	rec := h.record("a", time.Hour)
	rec.Owner = owner
	h.save(t, a, rec)
	rec.Data = []byte("b")
	vb := h.save(t, b, rec)
	rec.Owner = other
	h.save(t, c, rec)
	dead := h.record("d", -time.Minute)
	dead.Owner = owner
	h.save(t, d, dead)

	keys := func() []string {
		t.Helper()
		ks, err := oi.OwnerKeys(ctx, owner)
		if err != nil {
			t.Fatalf("OwnerKeys: %v", err)
		}
		slices.Sort(ks)
		return ks
	}
	sorted := func(ks ...string) []string { slices.Sort(ks); return ks }
	if got, want := keys(), sorted(a, b); !slices.Equal(got, want) {
		t.Fatalf("OwnerKeys = %v, want %v (live records of the owner only)", got, want)
	}
	moved := h.record("b", time.Hour)
	moved.Owner = other
	moved.Version = vb
	h.save(t, b, moved)
	if got, want := keys(), sorted(a); !slices.Equal(got, want) {
		t.Fatalf("after changing b's owner: OwnerKeys = %v, want %v", got, want)
	}
	if err := h.s.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := keys(); len(got) != 0 {
		t.Fatalf("after deleting a: OwnerKeys = %v, want none", got)
	}
	if ks, err := oi.OwnerKeys(ctx, "nobody-"+h.key()); err != nil || len(ks) != 0 {
		t.Fatalf("OwnerKeys of an unknown owner = %v, %v; want none", ks, err)
	}
}

func (h *harness) testIterate(t *testing.T) {
	it, ok := h.s.(session.Iterator)
	if !ok {
		t.Skip("store does not implement session.Iterator")
	}
	ctx := ctxFor(t)
	want := map[string]string{}
	for i := range 3 {
		k := h.key()
		want[k] = "rec" + string(rune('0'+i))
		h.save(t, k, h.record(want[k], time.Hour))
	}
	dead := h.key()
	h.save(t, dead, h.record("dead", -time.Minute))
	keys := append(slices.Collect(maps.Keys(want)), dead)
	h.cleanup(t, keys...)

	got := map[string]string{}
	if err := it.Iterate(ctx, func(k string, rec session.Record) bool {
		if _, mine := want[k]; mine {
			got[k] = string(rec.Data)
		}
		if k == dead {
			t.Errorf("Iterate listed an expired record")
		}
		return true
	}); err != nil {
		t.Fatalf("Iterate: %v", err)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Iterate: record %s = %q, want %q", k, got[k], v)
		}
	}
	calls := 0
	if err := it.Iterate(ctx, func(string, session.Record) bool { calls++; return false }); err != nil {
		t.Fatalf("Iterate with early stop: %v", err)
	}
	if calls != 1 {
		t.Fatalf("Iterate called fn %d times after it returned false, want 1", calls)
	}
}

func (h *harness) testGCBatch(t *testing.T) {
	bc, ok := h.s.(session.BatchCollector)
	if !ok {
		t.Skip("store does not implement session.BatchCollector")
	}
	var expired []string
	for range 5 {
		k := h.key()
		expired = append(expired, k)
		h.save(t, k, h.record("expired", -time.Minute))
	}
	live := h.key()
	h.save(t, live, h.record("live", time.Hour))
	h.cleanup(t, append(expired, live)...)
	if _, err := bc.GCBatch(ctxFor(t), 0); err == nil {
		t.Fatal("GCBatch(0) succeeded: a limit below 1 must be an error, never an unbounded delete")
	}
	n, err := bc.GCBatch(ctxFor(t), 2)
	if err != nil {
		t.Fatalf("GCBatch: %v", err)
	}
	if n != 2 {
		t.Fatalf("GCBatch(2) deleted %d records with at least 5 expired, want 2", n)
	}
	for rounds := 0; n == 2; rounds++ {
		if rounds > 1000 {
			t.Fatal("GCBatch never reports the end")
		}
		if n, err = bc.GCBatch(ctxFor(t), 2); err != nil {
			t.Fatalf("GCBatch: %v", err)
		}
	}
	for _, k := range expired {
		h.mustBeAbsent(t, k, "expired, after GC in batches")
	}
	if got := h.load(t, live); string(got.Data) != "live" {
		t.Fatalf("GCBatch damaged a live record: %q", got.Data)
	}
}

func (h *harness) testCountExpired(t *testing.T) {
	ec, ok := h.s.(session.ExpiredCounter)
	if !ok {
		t.Skip("store does not implement session.ExpiredCounter")
	}
	before, err := ec.CountExpired(ctxFor(t))
	if err != nil {
		t.Fatalf("CountExpired: %v", err)
	}
	var keys []string
	for range 3 {
		k := h.key()
		keys = append(keys, k)
		h.save(t, k, h.record("expired", -time.Minute))
	}
	live := h.key()
	h.save(t, live, h.record("live", time.Hour))
	h.cleanup(t, append(keys, live)...)
	after, err := ec.CountExpired(ctxFor(t))
	if err != nil {
		t.Fatalf("CountExpired: %v", err)
	}
	if after < before+3 {
		t.Fatalf("CountExpired went from %d to %d after 3 expired saves", before, after)
	}
	if c, ok := h.s.(session.Collector); ok {
		if _, err := c.GC(ctxFor(t)); err != nil {
			t.Fatalf("GC: %v", err)
		}
		if n, err := ec.CountExpired(ctxFor(t)); err != nil || n != 0 {
			t.Fatalf("CountExpired after GC = %d, %v; want 0", n, err)
		}
	}
}

func (h *harness) testCorrupt(t *testing.T) {
	k := h.key()
	if err := h.cfg.Corrupt(ctxFor(t), k); err != nil {
		t.Fatalf("writing the corrupt record: %v", err)
	}
	h.cleanup(t, k)
	_, err := h.s.Load(ctxFor(t), k)
	if !errors.Is(err, session.ErrCorrupt) {
		t.Fatalf("Load of a corrupt record: %v, want an error wrapping session.ErrCorrupt", err)
	}
	if c, ok := h.s.(session.Collector); ok {
		if _, err := c.GC(ctxFor(t)); err != nil {
			t.Fatalf("GC with a corrupt record present: %v", err)
		}
	}
	if it, ok := h.s.(session.Iterator); ok {
		good := h.key()
		h.save(t, good, h.record("good", time.Hour))
		h.cleanup(t, good)
		seen := false
		err := it.Iterate(ctxFor(t), func(key string, _ session.Record) bool {
			if key == k {
				t.Errorf("Iterate handed over the corrupt record %s", k)
			}
			seen = seen || key == good
			return true
		})
		if err != nil && !errors.Is(err, session.ErrCorrupt) {
			t.Fatalf("Iterate with a corrupt record present: %v (want nil, or an error wrapping session.ErrCorrupt once done)", err)
		}
		if !seen {
			t.Fatalf("Iterate with a corrupt record present did not list the good record (err %v)", err)
		}
	}
	if err := h.s.Delete(ctxFor(t), k); err != nil {
		t.Fatalf("Delete of a corrupt record: %v", err)
	}
	h.mustBeAbsent(t, k, "deleted corrupt record")
}
