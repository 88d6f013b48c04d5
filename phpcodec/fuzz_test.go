package phpcodec

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// Seeds shared by the fuzz targets; more are in testdata/fuzz/<FuzzName>/.
var fuzzValueSeeds = []string{
	`N;`, `b:1;`, `i:-9223372036854775808;`, `d:1.0E+25;`, `d:-0;`, `d:NAN;`,
	`s:5:"a"b;}";`, `S:3:"a\62c";`,
	`a:2:{i:0;s:1:"a";s:1:"k";a:1:{s:1:"5";N;}}`,
	"O:1:\"P\":2:{s:4:\"\x00*\x00a\";i:1;s:4:\"\x00P\x00b\";i:2;}",
	`C:1:"S":14:{a:1:{i:0;i:1;}}`,
	`E:8:"Suit:Ace";`,
	`a:5:{i:0;O:8:"stdClass":1:{s:1:"a";i:1;}i:1;R:2;i:2;r:2;i:3;i:9;i:4;R:2;}`,
	`a:1:{s:4:"self";a:1:{s:4:"self";R:2;}}`,
	`a:1:{i:0;R:1;}`,
	`a:3:{i:0;C:1:"S":30:{a:3:{i:0;i:1;i:1;i:2;i:2;i:3;}}i:1;i:1;i:2;R:7;}`,
	`a:3:{i:0;i:1;i:1;R:2;i:0;i:5;}`,
}

// equalDeref is equal, except that a *Ref and its value compare equal (a
// reference that ends up used once is a plain value in PHP).
func equalDeref(a, b any) bool {
	return (&comparer{seen: map[[2]any]bool{}}).eqDeref(Deref(a), Deref(b))
}

func (c *comparer) eqDeref(a, b any) bool {
	a, b = Deref(a), Deref(b)
	switch x := a.(type) {
	case *Array:
		y, ok := b.(*Array)
		if !ok || x == nil || y == nil {
			return ok && x == y
		}
		k := [2]any{x, y}
		if c.seen[k] {
			return true
		}
		c.seen[k] = true
		if len(x.entries) != len(y.entries) {
			return false
		}
		for i := range x.entries {
			if x.entries[i].Key != y.entries[i].Key || !c.eqDeref(x.entries[i].Value, y.entries[i].Value) {
				return false
			}
		}
		return true
	case *Object:
		y, ok := b.(*Object)
		if !ok || x == nil || y == nil {
			return ok && x == y
		}
		k := [2]any{x, y}
		if c.seen[k] {
			return true
		}
		c.seen[k] = true
		return x.Class == y.Class && c.eqDeref(x.Props, y.Props)
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !c.eqDeref(v, w) {
				return false
			}
		}
		return true
	}
	return c.eq(a, b)
}

func checkSyntaxError(t *testing.T, in []byte, err error) {
	t.Helper()
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("%q: error %v is not a *SyntaxError", in, err)
	}
	if se.Offset < 0 || se.Offset > len(in) {
		t.Fatalf("%q: offset %d outside the input", in, se.Offset)
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, s := range fuzzValueSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Unmarshal(data)
		if err != nil {
			checkSyntaxError(t, data, err)
			return
		}
		b1, err := Marshal(v)
		if err != nil {
			t.Fatalf("decoded %q but cannot encode %s: %v", data, dump(v), err)
		}
		v2, err := Unmarshal(b1)
		if err != nil {
			t.Fatalf("cannot decode our own %q (from %q): %v", b1, data, err)
		}
		if !equalDeref(v, v2) {
			t.Fatalf("%q -> %s\n%q -> %s", data, dump(v), b1, dump(v2))
		}
		b2, err := Marshal(v2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable: %q then %q (%v), input %q", b1, b2, err, data)
		}
	})
}

func fuzzSession(f *testing.F, c Codec, seeds []string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := c.DecodeArray(data)
		m, merr := c.Decode(data)
		if (err == nil) != (merr == nil) {
			t.Fatalf("%q: DecodeArray error %v but Decode error %v", data, err, merr)
		}
		if err != nil {
			checkSyntaxError(t, data, err)
			return
		}
		b1, err := c.EncodeArray(a)
		if err != nil {
			t.Fatalf("decoded %q but cannot encode %s: %v", data, dump(a), err)
		}
		a2, err := c.DecodeArray(b1)
		if err != nil {
			t.Fatalf("cannot decode our own %q (from %q): %v", b1, data, err)
		}
		if !equalDeref(a, a2) {
			t.Fatalf("%q -> %s\n%q -> %s", data, dump(a), b1, dump(a2))
		}
		if b2, err := c.EncodeArray(a2); err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable: %q then %q (%v), input %q", b1, b2, err, data)
		}
		// The map form: encodable, and decodes back to the same map.
		mb, err := c.Encode(m)
		if err != nil {
			t.Fatalf("decoded %q but cannot encode the map: %v", data, err)
		}
		m2, err := c.Decode(mb)
		if err != nil || !equalDeref(m, m2) {
			t.Fatalf("map round trip of %q: %q -> %s, %v", data, mb, dump(m2), err)
		}
	})
}

func FuzzDecodePHP(f *testing.F) {
	fuzzSession(f, PHP, []string{
		``, `a|i:1;`, `!d|a:2:{i:0;i:1;i:1;i:2;}a|i:1;b!c|s:1:"x";e|N;`,
		`a|i:1;r1|a:1:{i:0;i:1;}r2|R:2;o1|O:8:"stdClass":0:{}o2|r:4;`,
		`a|i:1;a|R:1;`, `|i:1;`, `a|i:1;;b|i:2;`,
	})
}

func FuzzDecodePHPBinary(f *testing.F) {
	fuzzSession(f, PHPBinary, []string{
		``, "\x01ai:1;", "\x81ai:1;", "\x00i:1;", "\x01ai:1;\x01bR:1;",
		"\x02!da:2:{i:0;i:1;i:1;i:2;}\x01ai:1;\x03b!cs:1:\"x\";\x01eN;",
	})
}

func FuzzDecodeSerialize(f *testing.F) {
	fuzzSession(f, PHPSerialize, []string{
		``, `N;`, `a:0:{}`, `a:1:{s:1:"a";i:1;}`, `a:1:{i:5;i:1;}`,
		`a:2:{s:1:"a";i:1;s:1:"b";R:2;}`,
		`a:4:{s:2:"!d";a:2:{i:0;i:1;i:1;i:2;}s:1:"a";i:1;s:3:"b!c";s:1:"x";s:1:"e";N;}`,
	})
}

func FuzzFormatFloat(f *testing.F) {
	for _, v := range []float64{0, 0.1, 1e15, 1e16, 1e17, 1.5e-5, 1e-5, 5e-324, math.MaxFloat64, -0.0001} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		s := FormatFloat(v)
		got, ok := parseFloatText([]byte(s))
		if !ok {
			t.Fatalf("FormatFloat(%v) = %q, which does not parse", v, s)
		}
		if math.IsNaN(v) {
			if !math.IsNaN(got) {
				t.Fatalf("NaN -> %q -> %v", s, got)
			}
			return
		}
		if math.Float64bits(got) != math.Float64bits(v) {
			t.Fatalf("%v -> %q -> %v", v, s, got)
		}
	})
}
