package phpcodec

import (
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
)

func TestUnmarshal(t *testing.T) {
	tests := []struct {
		in    string
		want  any
		canon string // re-encoding; "" means the input itself
	}{
		{in: `N;`, want: nil},
		{in: `b:0;`, want: false},
		{in: `b:1;`, want: true},
		{in: `i:0;`, want: int64(0)},
		{in: `i:-17;`, want: int64(-17)},
		{in: `i:9223372036854775807;`, want: int64(math.MaxInt64)},
		{in: `i:-9223372036854775808;`, want: int64(math.MinInt64)},
		{in: `i:+5;`, want: int64(5), canon: `i:5;`},
		{in: `i:007;`, want: int64(7), canon: `i:7;`},
		{in: `d:0.1;`, want: 0.1},
		{in: `d:-0;`, want: math.Copysign(0, -1)},
		{in: `d:1.0E+25;`, want: 1e25},
		{in: `d:NAN;`, want: math.NaN()},
		{in: `d:-INF;`, want: math.Inf(-1)},
		{in: `d:1e3;`, want: 1000.0, canon: `d:1000;`},
		{in: `d:.5;`, want: 0.5, canon: `d:0.5;`},
		{in: `s:0:"";`, want: ""},
		{in: `s:5:"a"b;}";`, want: `a"b;}`},
		{in: "s:3:\"\x00\xff\x01\";", want: "\x00\xff\x01"},
		{in: "s:5:\"é€\";", want: "é€"},
		{in: `S:3:"a\62c";`, want: "abc", canon: `s:3:"abc";`},
		{in: `a:0:{}`, want: &Array{}},
		{in: `a:2:{i:0;s:1:"a";i:1;s:1:"b";}`, want: NewList("a", "b")},
		{in: `a:2:{s:1:"x";i:1;i:7;N;}`, want: arr("x", int64(1), 7, nil)},
		{in: `a:1:{s:1:"5";i:1;}`, want: arr(5, int64(1)), canon: `a:1:{i:5;i:1;}`},
		{in: `a:1:{s:2:"05";i:1;}`, want: arr("05", int64(1))},
		{in: `a:1:{s:2:"-0";i:1;}`, want: arr("-0", int64(1))},
		{in: `a:1:{s:3:"5.0";i:1;}`, want: arr("5.0", int64(1))},
		{in: `a:1:{s:19:"9223372036854775808";i:1;}`, want: arr("9223372036854775808", int64(1))},
		{in: `a:1:{s:20:"-9223372036854775808";i:1;}`, want: arr(int64(math.MinInt64), int64(1)), canon: `a:1:{i:-9223372036854775808;i:1;}`},
		{in: `a:2:{i:0;i:1;i:0;i:2;}`, want: arr(0, int64(2)), canon: `a:1:{i:0;i:2;}`},
		{in: `O:8:"stdClass":0:{}`, want: obj("stdClass")},
		{in: `O:8:"stdClass":1:{s:1:"5";i:1;}`, want: obj("stdClass", "5", int64(1))},
		{in: `O:2:"NS":2:{s:1:"x";i:1;i:5;s:4:"five";}`, want: obj("NS", "x", int64(1), int64(5), "five")},
		{in: "O:1:\"P\":2:{s:4:\"\x00*\x00a\";i:1;s:4:\"\x00P\x00b\";i:2;}", want: obj("P", ProtectedProp("a"), int64(1), PrivateProp("P", "b"), int64(2))},
		{in: `O:11:"App\Model\X":0:{}`, want: obj(`App\Model\X`)},
		{in: `C:3:"Foo":5:{hello}`, want: &Custom{Class: "Foo", Data: []byte("hello")}},
		{in: `C:3:"Foo":0:{}`, want: &Custom{Class: "Foo", Data: []byte{}}},
		{in: `E:8:"Suit:Ace";`, want: Enum{Class: "Suit", Case: "Ace"}},
	}
	for _, tt := range tests {
		got, err := Unmarshal([]byte(tt.in))
		if err != nil {
			t.Errorf("Unmarshal(%q): %v", tt.in, err)
			continue
		}
		if !equal(got, tt.want) {
			t.Errorf("Unmarshal(%q) = %s, want %s", tt.in, dump(got), dump(tt.want))
		}
		canon := tt.canon
		if canon == "" {
			canon = tt.in
		}
		b, err := Marshal(got)
		if err != nil || string(b) != canon {
			t.Errorf("Marshal(Unmarshal(%q)) = %q, %v; want %q", tt.in, b, err, canon)
		}
	}
}

// References decode to shared values and encode back to the same bytes.
func TestUnmarshalReferences(t *testing.T) {
	t.Run("R", func(t *testing.T) {
		in := `a:2:{s:1:"x";i:1;s:1:"y";R:2;}`
		v := mustUnmarshal(t, in)
		a := v.(*Array)
		x, _ := a.Get("x")
		y, _ := a.Get("y")
		rx, ok := x.(*Ref)
		if !ok || x != y || rx.Value != int64(1) {
			t.Fatalf("x=%s y=%s, want the same *Ref to 1", dump(x), dump(y))
		}
		roundTrip(t, v, in)
	})
	t.Run("r", func(t *testing.T) {
		in := `a:3:{i:0;O:8:"stdClass":0:{}i:1;r:2;i:2;i:5;}`
		a := mustUnmarshal(t, in).(*Array)
		if a.entries[0].Value != a.entries[1].Value {
			t.Fatalf("r:2 did not give the same *Object")
		}
		roundTrip(t, a, in)
	})
	t.Run("self", func(t *testing.T) {
		in := `O:8:"stdClass":1:{s:4:"self";r:1;}`
		o := mustUnmarshal(t, in).(*Object)
		if self, _ := o.Get("self"); self != o {
			t.Fatalf("self = %v, want the object", self)
		}
		roundTrip(t, o, in)
	})
	t.Run("cycle", func(t *testing.T) {
		in := `a:1:{s:4:"self";a:1:{s:4:"self";R:2;}}`
		a := mustUnmarshal(t, in).(*Array)
		r := a.entries[0].Value.(*Ref)
		inner := r.Value.(*Array)
		if inner.entries[0].Value != r {
			t.Fatalf("inner self is not the shared reference")
		}
		roundTrip(t, a, in)
	})
	t.Run("root", func(t *testing.T) {
		in := `a:1:{i:0;R:1;}`
		v := mustUnmarshal(t, in)
		r, ok := v.(*Ref)
		if !ok || r.Value.(*Array).entries[0].Value != r {
			t.Fatalf("got %s, want a *Ref to an array holding it", dump(v))
		}
		roundTrip(t, v, in)
	})
	t.Run("ref to object", func(t *testing.T) {
		// PHP writes [$o, &$o, $o, 9, &$o] like this: R: to an object
		// shares its number, r: takes a new one.
		in := `a:5:{i:0;O:8:"stdClass":1:{s:1:"a";i:1;}i:1;R:2;i:2;r:2;i:3;i:9;i:4;R:2;}`
		a := mustUnmarshal(t, in).(*Array)
		r := a.entries[0].Value.(*Ref)
		if a.entries[1].Value != r || a.entries[4].Value != r || a.entries[2].Value != r.Value {
			t.Fatalf("got %s", dump(a))
		}
		roundTrip(t, a, in)
	})
	t.Run("enum", func(t *testing.T) {
		in := `a:4:{i:0;E:3:"U:A";i:1;r:2;i:2;E:11:"Suit:Hearts";i:3;R:2;}`
		roundTrip(t, mustUnmarshal(t, in), in)
	})
	t.Run("custom payload slots", func(t *testing.T) {
		// The payload's own serialize() call took slots 3 to 6 in PHP.
		in := `a:3:{i:0;C:1:"S":30:{a:3:{i:0;i:1;i:1;i:2;i:2;i:3;}}i:1;i:1;i:2;R:7;}`
		a := mustUnmarshal(t, in).(*Array)
		if a.entries[1].Value != a.entries[2].Value {
			t.Fatalf("R:7 should refer to element 1: %s", dump(a))
		}
		roundTrip(t, a, in)
	})
	t.Run("dry R inside payload", func(t *testing.T) {
		in := `a:2:{i:0;i:1;i:1;C:1:"S":4:{R:2;}}`
		roundTrip(t, mustUnmarshal(t, in), in)
	})
}

func mustUnmarshal(t *testing.T, in string) any {
	t.Helper()
	v, err := Unmarshal([]byte(in))
	if err != nil {
		t.Fatalf("Unmarshal(%q): %v", in, err)
	}
	return v
}

func roundTrip(t *testing.T, v any, want string) {
	t.Helper()
	b, err := Marshal(v)
	if err != nil || string(b) != want {
		t.Fatalf("Marshal = %q, %v; want %q", b, err, want)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		err    error // sentinel, or nil
		msg    string
	}{
		{``, 0, nil, "unexpected end"},
		{`x`, 0, nil, "unexpected"},
		{`N`, 1, nil, `expected ';'`},
		{`b:2;`, 2, nil, "expected 0 or 1"},
		{`i:;`, 2, nil, "expected a digit"},
		{`i:12`, 4, nil, `expected ';'`},
		{`i:9223372036854775808;`, 2, ErrRange, "does not fit"},
		{`i:-9223372036854775809;`, 2, ErrRange, "does not fit"},
		{`d:abc;`, 2, nil, "invalid float"},
		{`d:1.5`, 5, nil, `expected ';'`},
		{`s:5:"abc";`, 10, nil, `expected '"'`},
		{`s:6:"abc";`, 2, nil, "exceeds"},
		{`s:3:"abcd";`, 8, nil, `expected '"'`},
		{`s:3:"abc"`, 9, nil, `expected ';'`},
		{`s:99999999999999999999:"a";`, 2, nil, "too large"},
		{`S:3:"a\6xc";`, 6, nil, "invalid escape"},
		{`a:1:{i:0;i:1;`, 13, nil, `expected '}'`},
		{`a:2:{i:0;i:1;}`, 13, nil, "unexpected '}'"},
		{`a:1:{N;i:1;}`, 5, nil, "invalid key"},
		{`a:1:{d:1.5;i:1;}`, 5, nil, "invalid key"},
		{`a:999999999:{`, 2, nil, "count 999999999 exceeds"},
		{`a:5:{i:0;i:1;}`, 2, nil, "exceeds"},
		{`a:1:{i:0;i:1;}junk`, 14, nil, "after the value"},
		{`O:0:"":0:{}`, 2, ErrInvalidName, "invalid class name"},
		{`O:3:"a-b":0:{}`, 2, ErrInvalidName, "invalid class name"},
		{`O:4:"\Foo":0:{}`, 2, ErrInvalidName, "invalid class name"},
		{`O:8:"stdClass":1:{N;i:1;}`, 18, nil, "invalid key"},
		{`C:3:"Foo":5:{hell}`, 10, nil, "exceeds"},
		{`C:3:"Foo":3:{hello}`, 16, nil, `expected '}'`},
		{`E:3:"U:A"`, 9, nil, `expected ';'`},
		{`E:3:"UAB";`, 2, ErrInvalidName, "invalid enum"},
		{`E:5:"U:A:B";`, 2, ErrInvalidName, "invalid enum"},
		{`E:2:"U:";`, 2, ErrInvalidName, "invalid enum"},
		{`R:1;`, 0, ErrReference, "slot 1"},
		{`r:1;`, 0, ErrReference, "itself"},
		{`a:1:{i:0;R:0;}`, 9, ErrReference, "slot 0"},
		{`a:1:{i:0;R:3;}`, 9, ErrReference, "slot 3"},
		{`a:1:{i:0;r:1;}`, 9, ErrReference, "not an object"},
		{`a:2:{i:0;i:1;i:1;r:2;}`, 17, ErrReference, "not an object"},
		{`a:2:{i:0;i:1;i:0;R:2;}`, 17, ErrReference, "itself"},
		{`a:2:{i:0;C:1:"S":4:{i:1;}i:1;R:3;}`, 29, ErrReference, "inside custom"},
		{`}`, 0, nil, "unexpected '}'"},
	}
	for _, tt := range tests {
		v, err := Unmarshal([]byte(tt.in))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Unmarshal(%q) = %s, %v; want a *SyntaxError", tt.in, dump(v), err)
			continue
		}
		if se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("Unmarshal(%q): offset %d, %q; want offset %d, message containing %q", tt.in, se.Offset, se.Msg, tt.offset, tt.msg)
		}
		if tt.err != nil && !errors.Is(err, tt.err) {
			t.Errorf("Unmarshal(%q): %v, want errors.Is %v", tt.in, err, tt.err)
		}
		if !strings.Contains(err.Error(), "offset") {
			t.Errorf("error text %q lacks the offset", err)
		}
	}
}

func TestMaxDepth(t *testing.T) {
	nest := func(n int, leaf string) string {
		return strings.Repeat("a:1:{i:0;", n) + leaf + strings.Repeat("}", n)
	}
	c := Codec{MaxDepth: 2}
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{nest(2, "i:1;"), true},
		{nest(2, "a:0:{}"), true}, // empty arrays do not count, as in PHP
		{nest(3, "i:1;"), false},
		{nest(2, `O:8:"stdClass":0:{}`), false}, // objects always count
	} {
		_, err := c.Unmarshal([]byte(tt.in))
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrDepth) {
			t.Errorf("Unmarshal(%q) with MaxDepth 2: %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
	deep := nest(DefaultMaxDepth+1, "N;")
	if _, err := Unmarshal([]byte(deep)); !errors.Is(err, ErrDepth) {
		t.Errorf("default depth: %v, want ErrDepth", err)
	}
	if _, err := Unmarshal([]byte(nest(DefaultMaxDepth, "N;"))); err != nil {
		t.Errorf("depth %d: %v", DefaultMaxDepth, err)
	}
	// The encoder refuses what the decoder would refuse.
	v, _ := Unmarshal([]byte(nest(3, "i:1;")))
	if _, err := c.Marshal(v); !errors.Is(err, ErrDepth) {
		t.Errorf("Marshal with MaxDepth 2: %v, want ErrDepth", err)
	}
}

// Announced counts and lengths never cause allocations beyond the input.
func TestHostileSizes(t *testing.T) {
	inputs := []string{
		`a:999999999:{` + strings.Repeat("i:0;i:0;", 1000),
		`a:4000:{` + strings.Repeat("i:0;i:0;", 1000),
		`O:8:"stdClass":999999999:{` + strings.Repeat("i:0;", 1000),
		`s:999999999:"` + strings.Repeat("x", 1000),
		`C:1:"S":999999999:{` + strings.Repeat("x", 1000),
		strings.Repeat(`a:1:{i:0;`, 100000),
	}
	for _, in := range inputs {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := Unmarshal([]byte(in))
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("Unmarshal(%.30q...) succeeded", in)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 200*uint64(len(in))+1<<16 {
			t.Errorf("Unmarshal(%.30q...) allocated %d bytes for %d input bytes", in, alloc, len(in))
		}
	}
}
