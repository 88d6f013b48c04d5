package phpcodec

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

type role string
type level uint8

func TestMarshal(t *testing.T) {
	shared := &Ref{Value: int64(1)}
	o := obj("stdClass", "a", int64(1))
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"nil", nil, `N;`},
		{"bool", true, `b:1;`},
		{"int", -5, `i:-5;`},
		{"int8", int8(-128), `i:-128;`},
		{"uint64", uint64(math.MaxInt64), `i:9223372036854775807;`},
		{"named uint", level(3), `i:3;`},
		{"float32", float32(0.5), `d:0.5;`},
		{"float", 0.1, `d:0.1;`},
		{"float exp", 1e25, `d:1.0E+25;`},
		{"string", "héllo", `s:6:"héllo";`},
		{"named string", role("admin"), `s:5:"admin";`},
		{"invalid utf8", "\xff\x00", "s:2:\"\xff\x00\";"},
		{"bytes", []byte("a;b"), `s:3:"a;b";`},
		{"nil bytes", []byte(nil), `s:0:"";`},
		{"list", []any{1, "x"}, `a:2:{i:0;i:1;i:1;s:1:"x";}`},
		{"typed slice", []string{"a", "b"}, `a:2:{i:0;s:1:"a";i:1;s:1:"b";}`},
		{"go array", [2]int{3, 4}, `a:2:{i:0;i:3;i:1;i:4;}`},
		{"nil slice", []int(nil), `a:0:{}`},
		{"map sorted", map[string]any{"b": 1, "a": 2, "10": 3, "9": 4, "05": 5}, `a:5:{s:2:"05";i:5;i:10;i:3;i:9;i:4;s:1:"a";i:2;s:1:"b";i:1;}`},
		{"typed map", map[string]int{"x": 1}, `a:1:{s:1:"x";i:1;}`},
		{"int map", map[int]string{10: "b", -1: "a"}, `a:2:{i:-1;s:1:"a";i:10;s:1:"b";}`},
		{"nil map", map[string]any(nil), `a:0:{}`},
		{"array", arr("k", nil, 3, false), `a:2:{s:1:"k";N;i:3;b:0;}`},
		{"nil array", (*Array)(nil), `N;`},
		{"object", obj("Foo", ProtectedProp("p"), 1), "O:3:\"Foo\":1:{s:4:\"\x00*\x00p\";i:1;}"},
		{"object nil props", &Object{Class: "Foo"}, `O:3:"Foo":0:{}`},
		{"new object", NewObject("Foo", map[string]any{"b": 1, "5": 2}), `O:3:"Foo":2:{s:1:"5";i:2;s:1:"b";i:1;}`},
		{"custom", &Custom{Class: "Foo", Data: []byte("x:y")}, `C:3:"Foo":3:{x:y}`},
		{"enum", Enum{Class: "Suit", Case: "Ace"}, `E:8:"Suit:Ace";`},
		{"enum twice", []any{Enum{"U", "A"}, Enum{"U", "A"}}, `a:2:{i:0;E:3:"U:A";i:1;r:2;}`},
		{"ref", []any{shared, shared}, `a:2:{i:0;i:1;i:1;R:2;}`},
		{"ref value", Ref{Value: 1}, `i:1;`},
		{"object twice", []any{o, o}, `a:2:{i:0;O:8:"stdClass":1:{s:1:"a";i:1;}i:1;r:2;}`},
		{"array shared without ref", []any{NewList(1), NewList(1)}, `a:2:{i:0;a:1:{i:0;i:1;}i:1;a:1:{i:0;i:1;}}`},
		{"custom payload slots", []any{&Custom{Class: "S", Data: []byte(`a:1:{i:0;i:1;}`)}, shared, shared}, `a:3:{i:0;C:1:"S":14:{a:1:{i:0;i:1;}}i:1;i:1;i:2;R:5;}`},
	}
	for _, tt := range tests {
		got, err := Marshal(tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: Marshal = %q, %v; want %q", tt.name, got, err, tt.want)
			continue
		}
		// What we write, we read.
		if _, err := Unmarshal(got); err != nil {
			t.Errorf("%s: Unmarshal(%q): %v", tt.name, got, err)
		}
	}
}

func TestMarshalRefCycle(t *testing.T) {
	// $a = []; $a['self'] = &$a; serialize($a)
	a := &Array{}
	r := &Ref{Value: nil}
	inner := &Array{}
	inner.Set("self", r)
	r.Value = inner
	a.Set("self", r)
	roundTrip(t, a, `a:1:{s:4:"self";a:1:{s:4:"self";R:2;}}`)
}

func TestMarshalErrors(t *testing.T) {
	type point struct{ X int }
	x := 1
	cyclic := &Array{}
	cyclic.Set("me", cyclic)
	tests := []struct {
		name string
		in   any
		err  error
		msg  string
	}{
		{"struct", map[string]any{"p": point{1}}, ErrUnsupportedType, `at ["p"]: cannot encode Go type phpcodec.point`},
		{"time", []any{time.Time{}}, ErrUnsupportedType, "at [0]: cannot encode Go type time.Time"},
		{"pointer", &x, ErrUnsupportedType, "*int"},
		{"chan", make(chan int), ErrUnsupportedType, "chan int"},
		{"func", func() {}, ErrUnsupportedType, "func()"},
		{"uint64", uint64(math.MaxInt64 + 1), ErrRange, "exceeds PHP_INT_MAX"},
		{"uint map key", map[uint64]int{math.MaxUint64: 1}, ErrRange, "exceeds PHP_INT_MAX"},
		{"bool map key", map[bool]int{true: 1}, ErrInvalidKey, "map keys"},
		{"class", &Object{Class: "a-b"}, ErrInvalidName, `"a-b"`},
		{"empty class", &Custom{}, ErrInvalidName, "invalid class"},
		{"enum", Enum{Class: "U", Case: "A:B"}, ErrInvalidName, "enum"},
		{"ref ref", &Ref{Value: &Ref{}}, ErrReference, "*Ref holding a *Ref"},
		{"cycle", cyclic, ErrDepth, "cyclic"},
	}
	for _, tt := range tests {
		_, err := Marshal(tt.in)
		if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: Marshal error %v, want %v containing %q", tt.name, err, tt.err, tt.msg)
		}
	}
}
