package session_test

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"math"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// gobPoint is a type of the test's own, registered with gob, that
// BinaryCodec encodes through its gob fallback.
type gobPoint struct {
	X, Y int
	Tag  string
}

// neverRegistered is never passed to gob.Register.
type neverRegistered struct{ A int }

func init() {
	// GobCodec needs these registered to hold them in a map[string]any;
	// BinaryCodec does not (TestBinaryCodecNativeTypesSkipGob).
	gob.Register(time.Time{})
	gob.Register(time.Duration(0))
	gob.Register(map[string]any{})
	gob.Register([]any{})
	gob.Register(gobPoint{})
	gob.Register([]gobPoint{})
}

// allTypes holds a value of every type BinaryCodec encodes itself, the
// edge values of each, nil slices and maps, and a registered gob type.
func allTypes() map[string]any {
	zone := time.FixedZone("", -(3*3600 + 30*60))
	return map[string]any{
		"nil":        nil,
		"false":      false,
		"true":       true,
		"string":     "héllo\x00world",
		"empty":      "",
		"int":        int(-1234567),
		"intmax":     int(math.MaxInt),
		"intmin":     int(math.MinInt),
		"int8":       int8(math.MinInt8),
		"int16":      int16(math.MaxInt16),
		"int32":      int32(math.MinInt32),
		"int64":      int64(math.MaxInt64),
		"uint":       uint(math.MaxUint),
		"uint8":      uint8(255),
		"uint16":     uint16(math.MaxUint16),
		"uint32":     uint32(math.MaxUint32),
		"uint64":     uint64(math.MaxUint64),
		"float32":    float32(-1.5e-30),
		"float64":    math.Pi,
		"negzero":    math.Copysign(0, -1),
		"inf":        math.Inf(-1),
		"time":       time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.UTC),
		"timezone":   time.Date(1999, 12, 31, 20, 0, 0, 1, zone),
		"timezero":   time.Time{},
		"timelmt":    time.Date(1850, 6, 17, 3, 25, 52, 0, time.FixedZone("LMT", -(4*3600+56*60+2))),
		"timeminus1": time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("", -90)),
		"duration":   -90 * time.Minute,
		"bytes":      []byte{0, 1, 2, 255},
		"bytesempty": []byte{},
		"bytesnil":   []byte(nil),
		"strings":    []string{"a", "", "ccc"},
		"stringsnil": []string(nil),
		"list":       []any{1, "two", 3.0, nil, []any{}, map[string]any{"k": int8(1)}},
		"listnil":    []any(nil),
		"map":        map[string]any{"theme": "dark", "n": uint16(7), "deep": map[string]any{"x": []string{"y"}}},
		"mapempty":   map[string]any{},
		"mapnil":     map[string]any(nil),
		"point":      gobPoint{X: 1, Y: -2, Tag: "p"},
		"points":     []gobPoint{{X: 3}},
		"ints":       []int{1, 2, 3}, // gob knows []int without registration
		"nested":     map[string]any{"p": gobPoint{Tag: "inner"}},
	}
}

func TestBinaryCodecRoundTripKeepsTypes(t *testing.T) {
	in := allTypes()
	data, err := session.BinaryCodec{}.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := session.BinaryCodec{}.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("decoded %d keys, want %d", len(out), len(in))
	}
	for k, want := range in {
		got, ok := out[k]
		if !ok {
			t.Errorf("%s: missing", k)
			continue
		}
		if reflect.TypeOf(got) != reflect.TypeOf(want) {
			t.Errorf("%s: type %T, want %T", k, got, want)
			continue
		}
		if !codecEqual(got, want) {
			t.Errorf("%s: %#v, want %#v", k, got, want)
		}
	}
	if out["bytesnil"].([]byte) != nil || out["bytesempty"].([]byte) == nil {
		t.Error("nil and empty []byte not kept apart")
	}
	if out["mapnil"].(map[string]any) != nil || out["listnil"].([]any) != nil || out["stringsnil"].([]string) != nil {
		t.Error("nil map or slice came back non-nil")
	}
	if got := out["timezone"].(time.Time); got.Location().String() == "UTC" {
		t.Errorf("time lost its offset: %v", got)
	}
}

// TestBinaryCodecNativeTypesSkipGob checks that every type BinaryCodec
// encodes itself is written with its own tag, not handed to encoding/gob.
func TestBinaryCodecNativeTypesSkipGob(t *testing.T) {
	const tagGob = 22
	for k, v := range allTypes() {
		data, err := session.BinaryCodec{}.Encode(map[string]any{"k": v})
		if err != nil {
			t.Fatal(err)
		}
		// prefix (3), count (1), key length and key (2), then the tag.
		isGob := data[6] == tagGob
		wantGob := k == "point" || k == "points" || k == "ints"
		if isGob != wantGob {
			t.Errorf("%s (%T): encoded with gob = %v, want %v", k, v, isGob, wantGob)
		}
	}
}

func TestBinaryCodecTimeStripsMonotonic(t *testing.T) {
	now := time.Now()
	data, err := session.BinaryCodec{}.Encode(map[string]any{"t": now})
	if err != nil {
		t.Fatal(err)
	}
	out, err := session.BinaryCodec{}.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	got := out["t"].(time.Time)
	if !got.Equal(now) {
		t.Fatalf("time %v, want %v", got, now)
	}
	if strings.Contains(got.String(), "m=") {
		t.Fatalf("monotonic reading kept: %v", got)
	}
	_, wantOff := now.Zone()
	if _, off := got.Zone(); off != wantOff {
		t.Fatalf("offset %d, want %d", off, wantOff)
	}
}

func TestBinaryCodecDeterministic(t *testing.T) {
	v := map[string]any{"b": 1, "a": "x", "c": map[string]any{"z": 1, "y": 2, "x": 3}, "d": true}
	first, err := session.BinaryCodec{}.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, err := session.BinaryCodec{}.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, first) {
			t.Fatal("two encodings of the same values differ")
		}
	}
}

func TestBinaryCodecUnregisteredTypeNamesKeyAndType(t *testing.T) {
	cases := map[string]map[string]any{
		`key "user"`:             {"ok": 1, "user": neverRegistered{A: 1}},
		`key "prefs"["list"][1]`: {"prefs": map[string]any{"list": []any{1, neverRegistered{}}}},
	}
	for want, values := range cases {
		_, err := session.BinaryCodec{}.Encode(values)
		if err == nil {
			t.Fatalf("%s: encoded an unregistered type", want)
		}
		msg := err.Error()
		for _, part := range []string{want, "session_test.neverRegistered", "gob.Register"} {
			if !strings.Contains(msg, part) {
				t.Errorf("error %q does not mention %q", msg, part)
			}
		}
	}
}

func TestBinaryCodecEncodeRefusesTooDeep(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	if _, err := (session.BinaryCodec{}).Encode(map[string]any{"c": cyclic}); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("cyclic map: err = %v, want a depth error", err)
	}
	ok := nest(100)
	if _, err := (session.BinaryCodec{}).Encode(map[string]any{"n": ok}); err != nil {
		t.Fatalf("100 levels: %v", err)
	}
	if _, err := (session.BinaryCodec{}).Encode(map[string]any{"n": nest(101)}); err == nil {
		t.Fatal("101 levels encoded")
	}
}

// nest returns lists nested n levels deep.
func nest(n int) any {
	var v any = "leaf"
	for range n {
		v = []any{v}
	}
	return v
}

func TestBinaryCodecDecodeDepthLimit(t *testing.T) {
	// 101 nested lists, forged by hand: the encoder refuses to write them.
	data := []byte{0x00, 'S', 1, 1, 1, 'k'}
	for range 101 {
		data = append(data, 21, 2) // tagList, one element
	}
	data = append(data, 0) // nil
	_, err := session.BinaryCodec{}.Decode(data)
	if !errors.Is(err, session.ErrDecode) || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("err = %v, want ErrDecode for depth", err)
	}
	// 100 levels decode.
	data = []byte{0x00, 'S', 1, 1, 1, 'k'}
	for range 100 {
		data = append(data, 21, 2)
	}
	data = append(data, 0)
	if _, err := (session.BinaryCodec{}).Decode(data); err != nil {
		t.Fatalf("100 levels: %v", err)
	}
}

func TestBinaryCodecDecodesGobCodecRecords(t *testing.T) {
	in := map[string]any{
		"user":  "alice",
		"n":     42,
		"when":  time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC),
		"flash": []string{"saved"},
		"point": gobPoint{X: 9},
	}
	old, err := session.GobCodec{}.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := session.BinaryCodec{}.Decode(old)
	if err != nil {
		t.Fatalf("decoding a GobCodec record: %v", err)
	}
	if !codecEqual(out, in) {
		t.Fatalf("got %#v, want %#v", out, in)
	}
	empty, err := session.GobCodec{}.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := (session.BinaryCodec{}).Decode(empty); err != nil || len(out) != 0 {
		t.Fatalf("empty gob record: %v, %v", out, err)
	}
	// What GobCodec cannot read stays an ErrDecode.
	if _, err := (session.BinaryCodec{}).Decode([]byte("\x0e\xff\x81garbage")); !errors.Is(err, session.ErrDecode) {
		t.Fatalf("bad gob: err = %v, want ErrDecode", err)
	}
}

func TestBinaryCodecDecodeRejects(t *testing.T) {
	valid, err := session.BinaryCodec{}.Encode(map[string]any{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"truncated header":  {0x00, 'S'},
		"unknown version":   {0x00, 'S', 9, 0},
		"no count":          {0x00, 'S', 1},
		"trailing data":     append(append([]byte{}, valid...), 0),
		"truncated":         valid[:len(valid)-1],
		"unknown tag":       {0x00, 'S', 1, 1, 1, 'k', 200},
		"duplicate key":     {0x00, 'S', 1, 2, 1, 'k', 0, 1, 'k', 0},
		"int8 out of range": binary.AppendVarint([]byte{0x00, 'S', 1, 1, 1, 'k', 5}, 128),
		"uint8 overflow":    binary.AppendUvarint([]byte{0x00, 'S', 1, 1, 1, 'k', 10}, 256),
		"bad time":          {0x00, 'S', 1, 1, 1, 'k', 16, 3, 1, 2, 3},
		"bad gob value":     {0x00, 'S', 1, 1, 1, 'k', 22, 3, 1, 2, 3},
		"varint overflow":   {0x00, 'S', 1, 1, 1, 'k', 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"short float":       {0x00, 'S', 1, 1, 1, 'k', 15, 1, 2, 3},
	}
	for name, data := range cases {
		out, err := session.BinaryCodec{}.Decode(data)
		if !errors.Is(err, session.ErrDecode) {
			t.Errorf("%s: err = %v (values %v), want ErrDecode", name, err, out)
		}
	}
}

func TestBinaryCodecForgedLengthsAllocateNothingLarge(t *testing.T) {
	forged := map[string][]byte{
		"entries": binary.AppendUvarint([]byte{0x00, 'S', 1}, 1<<40),
		"key":     binary.AppendUvarint([]byte{0x00, 'S', 1, 1}, 1<<40),
		"string":  binary.AppendUvarint([]byte{0x00, 'S', 1, 1, 1, 'k', 3}, 1<<40),
		"bytes":   binary.AppendUvarint([]byte{0x00, 'S', 1, 1, 1, 'k', 18}, 200_000_000),
		"strings": binary.AppendUvarint([]byte{0x00, 'S', 1, 1, 1, 'k', 19}, 200_000_000),
		"map":     binary.AppendUvarint([]byte{0x00, 'S', 1, 1, 1, 'k', 20}, 200_000_000),
		"list":    binary.AppendUvarint([]byte{0x00, 'S', 1, 1, 1, 'k', 21}, 200_000_000),
		"gob":     binary.AppendUvarint([]byte{0x00, 'S', 1, 1, 1, 'k', 22}, 1<<62),
	}
	for name, data := range forged {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := session.BinaryCodec{}.Decode(data)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, session.ErrDecode) || !strings.Contains(err.Error(), "exceeds") {
			t.Errorf("%s: err = %v, want ErrDecode for the length", name, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Errorf("%s: decoding allocated %d bytes", name, grew)
		}
	}
}

// TestBinaryCodecDecodeAllocs holds BinaryCodec to at least 10 times fewer
// allocations than GobCodec when decoding a typical session.
func TestBinaryCodecDecodeAllocs(t *testing.T) {
	values := typicalSession()
	bin, err := session.BinaryCodec{}.Encode(values)
	if err != nil {
		t.Fatal(err)
	}
	gobData, err := session.GobCodec{}.Encode(values)
	if err != nil {
		t.Fatal(err)
	}
	binAllocs := testing.AllocsPerRun(50, func() {
		if _, err := (session.BinaryCodec{}).Decode(bin); err != nil {
			t.Fatal(err)
		}
	})
	gobAllocs := testing.AllocsPerRun(50, func() {
		if _, err := (session.GobCodec{}).Decode(gobData); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("decode allocs: binary %.0f, gob %.0f; sizes: binary %d, gob %d bytes", binAllocs, gobAllocs, len(bin), len(gobData))
	if binAllocs*10 > gobAllocs {
		t.Fatalf("binary decode %.0f allocs, gob %.0f: want at least 10x fewer", binAllocs, gobAllocs)
	}
	if len(bin) >= len(gobData) {
		t.Fatalf("binary record %d bytes, gob %d", len(bin), len(gobData))
	}
}

// typicalSession is what a logged-in user's session holds.
func typicalSession() map[string]any {
	return map[string]any{
		"user_id": "u-7f3a9c2e",
		"visits":  1234,
		"login":   time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC),
		"flash":   []string{"Profile saved.", "Welcome back!"},
		"prefs":   map[string]any{"theme": "dark", "lang": "en-GB", "beta": true},
	}
}

func benchEncode(b *testing.B, c session.Codec) {
	values := typicalSession()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encode(values); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDecode(b *testing.B, c session.Codec) {
	data, err := c.Encode(typicalSession())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data)), "bytes/record")
}

func BenchmarkCodecBinaryEncode(b *testing.B) { benchEncode(b, session.BinaryCodec{}) }
func BenchmarkCodecGobEncode(b *testing.B)    { benchEncode(b, session.GobCodec{}) }
func BenchmarkCodecJSONEncode(b *testing.B)   { benchEncode(b, session.JSONCodec{}) }
func BenchmarkCodecBinaryDecode(b *testing.B) { benchDecode(b, session.BinaryCodec{}) }
func BenchmarkCodecGobDecode(b *testing.B)    { benchDecode(b, session.GobCodec{}) }
func BenchmarkCodecJSONDecode(b *testing.B)   { benchDecode(b, session.JSONCodec{}) }

// codecEqual reports whether a and b are the same values of the same types:
// floats by their bits, times by instant and zone offset, the rest as
// reflect.DeepEqual does.
func codecEqual(a, b any) bool {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	switch x := a.(type) {
	case float32:
		return math.Float32bits(x) == math.Float32bits(b.(float32))
	case float64:
		return math.Float64bits(x) == math.Float64bits(b.(float64))
	case time.Time:
		y := b.(time.Time)
		_, xo := x.Zone()
		_, yo := y.Zone()
		return x.Equal(y) && xo == yo
	case []any:
		y := b.([]any)
		if (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !codecEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y := b.(map[string]any)
		if (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !codecEqual(v, w) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(a, b)
	}
}

// TestBinaryCodecReadsSessionsSavedWithGobCodec is the upgrade: a session
// saved by a Manager with GobCodec is read, and saved again, by a Manager
// with BinaryCodec on the same store.
func TestBinaryCodecReadsSessionsSavedWithGobCodec(t *testing.T) {
	st := memstore.New()
	before := session.New(st)
	before.Codec = session.GobCodec{}
	after := session.New(st)
	after.Codec = session.BinaryCodec{}
	var id string
	saveThenRead(t, before, after, map[string]any{"user": "alice", "n": 7, "p": gobPoint{X: 1}}, func(s *session.Session) {
		id = s.ID()
		expectGet(t, s, "user", "alice", true)
		expectGet(t, s, "n", 7, true)
		expectGet(t, s, "p", gobPoint{X: 1}, true)
		s.Set("n", 8)
	})
	rec := serveOnce(after, id, func(w http.ResponseWriter, r *http.Request) {
		s := load(t, after, r)
		expectGet(t, s, "n", 8, true)
		expectGet(t, s, "user", "alice", true)
	})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	stored, err := st.Load(t.Context(), after.KeyOf(id))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(stored.Data, []byte{0x00, 'S', 1}) {
		t.Fatalf("the save after the upgrade did not write BinaryCodec's format: % x", stored.Data[:8])
	}
}
