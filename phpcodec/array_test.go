package phpcodec

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestArrayKeys(t *testing.T) {
	a := &Array{}
	a.Set("5", "five")        // canonical: int key 5
	a.Set(uint8(5), "FIVE")   // same key
	a.Set("05", "zero-five")  // string key
	a.Set("-0", "minus zero") // string key
	a.Set(-3, "neg")
	a.Set("name", "x")
	if got := a.Keys(); !reflect.DeepEqual(got, []any{int64(5), "05", "-0", int64(-3), "name"}) {
		t.Fatalf("keys = %#v", got)
	}
	if v, ok := a.Get(5); !ok || v != "FIVE" {
		t.Errorf("Get(5) = %v, %v", v, ok)
	}
	if v, ok := a.Get("-3"); !ok || v != "neg" {
		t.Errorf(`Get("-3") = %v, %v`, v, ok)
	}
	if _, ok := a.Get(1.5); ok {
		t.Errorf("Get(1.5) found something")
	}
	if !a.Delete("5") || a.Delete("5") || a.Len() != 4 {
		t.Errorf("Delete: len %d", a.Len())
	}
	if m := a.Map(); !reflect.DeepEqual(m, map[string]any{"05": "zero-five", "-0": "minus zero", "-3": "neg", "name": "x"}) {
		t.Errorf("Map = %v", m)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Set(1.5) did not panic")
		}
	}()
	a.Set(1.5, nil)
}

func TestCanonicalInt(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "5": true, "-5": true, "9223372036854775807": true, "-9223372036854775808": true,
		"": false, "-": false, "-0": false, "05": false, "+5": false, "5.0": false, " 5": false,
		"9223372036854775808": false, "-9223372036854775809": false, "1e3": false, "00": false,
	} {
		if _, got := canonicalInt(s); got != want {
			t.Errorf("canonicalInt(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestArrayListHelpers(t *testing.T) {
	l := NewList("a", "b")
	if !l.IsList() || !reflect.DeepEqual(l.List(), []any{"a", "b"}) {
		t.Fatalf("NewList: %s", dump(l))
	}
	if err := l.Append("c"); err != nil {
		t.Fatal(err)
	}
	if v, _ := l.Get(2); v != "c" || !l.IsList() {
		t.Errorf("Append: %s", dump(l))
	}
	l.Delete(2)
	_ = l.Append("d") // PHP does not reuse index 2
	if v, ok := l.Get(3); !ok || v != "d" || l.IsList() {
		t.Errorf("Append after Delete: %s", dump(l))
	}
	var sum int
	for k, v := range NewList(10, 20).All() {
		sum += int(k.(int64)) + v.(int)
	}
	if sum != 31 {
		t.Errorf("All: sum %d", sum)
	}
	big := &Array{}
	big.Set(int64(math.MaxInt64), 1)
	if err := big.Append(2); !errors.Is(err, ErrRange) {
		t.Errorf("Append after PHP_INT_MAX: %v", err)
	}
	m := NewMap(map[string]any{"b": 1, "a": 2, "3": 3})
	if got := m.Keys(); !reflect.DeepEqual(got, []any{int64(3), "a", "b"}) {
		t.Errorf("NewMap keys = %#v", got)
	}
	var nilArr *Array
	if nilArr.Len() != 0 || nilArr.Map() != nil || !nilArr.IsList() {
		t.Errorf("nil *Array helpers")
	}
	if _, ok := nilArr.Get("x"); ok {
		t.Errorf("nil Get")
	}
}

// Arrays past indexMin use the map index; behaviour must not change.
func TestArrayLarge(t *testing.T) {
	a := &Array{}
	for i := range 100 {
		a.Set(i*2, i)
	}
	a.Set("x", "y")
	for i := range 100 {
		if v, ok := a.Get(i * 2); !ok || v != i {
			t.Fatalf("Get(%d) = %v, %v", i*2, v, ok)
		}
		if _, ok := a.Get(i*2 + 1); ok {
			t.Fatalf("Get(%d) found", i*2+1)
		}
	}
	a.Delete(0)
	if v, ok := a.Get("x"); !ok || v != "y" || a.Len() != 100 {
		t.Fatalf("after Delete: %v %v %d", v, ok, a.Len())
	}
	if v, ok := a.Get(198); !ok || v != 99 {
		t.Fatalf("Get(198) after Delete = %v, %v", v, ok)
	}
}

func TestObjectGet(t *testing.T) {
	o := obj("User", "name", "bob", ProtectedProp("role"), "admin", PrivateProp("User", "pw"), "secret", int64(7), "seven")
	for name, want := range map[string]any{"name": "bob", "role": "admin", "pw": "secret", "7": "seven"} {
		if v, ok := o.Get(name); !ok || v != want {
			t.Errorf("Get(%q) = %v, %v", name, v, ok)
		}
	}
	if _, ok := o.Get("missing"); ok {
		t.Errorf("Get(missing) found")
	}
	if got := Deref(&Ref{Value: 1}); got != 1 {
		t.Errorf("Deref = %v", got)
	}
}
