package binarycodec

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestDecodeOwnsItsCopy checks that decoded values never alias the data
// given to Decode, and that byte slices are disjoint, clipped parts of the
// decoder's copy: changing or appending to one changes nothing else.
func TestDecodeOwnsItsCopy(t *testing.T) {
	in := map[string]any{
		"a": []byte("first"),
		"b": "second",
		"c": []byte("third"),
		"d": []string{"x", "yz"},
		"e": map[string]any{"f": []byte("inner"), "g": "str"},
		"z": []byte{},
	}
	data, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	orig := bytes.Clone(data)
	out, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 0xff // the caller reuses its buffer
	}
	if got := out["b"].(string); got != "second" {
		t.Fatalf("b = %q after the input changed", got)
	}
	a := out["a"].([]byte)
	if cap(a) != len(a) {
		t.Fatalf("cap(a) = %d, len %d: an append would write into the next value", cap(a), len(a))
	}
	a = append(a, "XXXXXXXXXXXX"...)
	a[0] = 'F'
	for i := range out["c"].([]byte) {
		out["c"].([]byte)[i] = 'T'
	}
	if got := out["b"].(string); got != "second" {
		t.Fatalf("b = %q after byte slices changed", got)
	}
	if got := string(out["a"].([]byte)); got != "first" {
		t.Fatalf("a = %q after an append to it", got)
	}
	if got := out["e"].(map[string]any)["g"].(string); got != "str" {
		t.Fatalf("e.g = %q", got)
	}
	if z := out["z"].([]byte); z == nil || len(z) != 0 {
		t.Fatalf("z = %#v, want an empty non-nil slice", z)
	}
	again, err := Decode(orig)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(again["d"].([]string), ","); got != "x,yz" {
		t.Fatalf("d = %q", got)
	}
}

// TestBigSessionAllocations checks that Decode copies a big record once
// and that Encode allocates its buffer once.
func TestBigSessionAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	const size = 900 << 10
	for _, v := range []any{strings.Repeat("s", size), bytes.Repeat([]byte("b"), size)} {
		in := map[string]any{"blob": v, "n": 1, "user": "alice", "at": time.Unix(1, 2).UTC(), "f": 1.5}
		data, err := Encode(in)
		if err != nil {
			t.Fatal(err)
		}
		dec := allocBytes(t, func() {
			if _, err := Decode(data); err != nil {
				t.Fatal(err)
			}
		})
		enc := allocBytes(t, func() {
			if _, err := Encode(in); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%T: record %d bytes, Decode allocates %.0f (%.3fx), Encode %.0f (%.3fx)", v, len(data), dec, dec/float64(len(data)), enc, enc/float64(len(data)))
		if dec > 1.1*float64(len(data)) {
			t.Errorf("%T: Decode allocates %.0f bytes for a record of %d", v, dec, len(data))
		}
		if enc > 1.1*float64(len(data)) {
			t.Errorf("%T: Encode allocates %.0f bytes for a record of %d", v, enc, len(data))
		}
	}
}

// allocBytes returns the bytes fn allocates per run, on average over a
// few runs.
func allocBytes(t *testing.T, fn func()) float64 {
	t.Helper()
	const runs = 8
	fn() // warm up
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		fn()
	}
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc-before.TotalAlloc) / runs
}

// BenchmarkDecode decodes a small session (the benchmark's shape).
func BenchmarkDecode(b *testing.B) {
	data, err := Encode(map[string]any{"user": "alice", "n": 3, "_sk": map[string]any{"c": int64(1)}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for range b.N {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
