package phpcodec

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
)

// arr builds an *Array from alternating keys and values, storing keys as
// given (so tests can express exactly what the decoder produces).
func arr(kvs ...any) *Array {
	if len(kvs)%2 != 0 {
		panic("arr: odd number of arguments")
	}
	a := &Array{}
	for i := 0; i < len(kvs); i += 2 {
		k := kvs[i]
		if n, ok := k.(int); ok {
			k = int64(n)
		}
		nk, ok := normalizeKey(k)
		if !ok {
			panic(fmt.Sprintf("arr: bad key %T", k))
		}
		if a.find(nk) >= 0 {
			panic("arr: duplicate key")
		}
		a.add(k, nk, kvs[i+1])
	}
	return a
}

// obj builds an *Object with raw property keys.
func obj(class string, kvs ...any) *Object {
	return &Object{Class: class, Props: arr(kvs...)}
}

// equal compares decoded values: NaN equals NaN, -0 differs from 0, and
// shared or cyclic structures are compared structurally.
func equal(a, b any) bool {
	return (&comparer{seen: map[[2]any]bool{}}).eq(a, b)
}

type comparer struct{ seen map[[2]any]bool }

func (c *comparer) eq(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok {
			return false
		}
		if math.IsNaN(x) || math.IsNaN(y) {
			return math.IsNaN(x) && math.IsNaN(y)
		}
		return x == y && math.Signbit(x) == math.Signbit(y)
	case *Array:
		y, ok := b.(*Array)
		if !ok || (x == nil) != (y == nil) {
			return false
		}
		if x == nil {
			return true
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
			if x.entries[i].Key != y.entries[i].Key || !c.eq(x.entries[i].Value, y.entries[i].Value) {
				return false
			}
		}
		return true
	case *Object:
		y, ok := b.(*Object)
		if !ok || (x == nil) != (y == nil) {
			return false
		}
		if x == nil {
			return true
		}
		k := [2]any{x, y}
		if c.seen[k] {
			return true
		}
		c.seen[k] = true
		return x.Class == y.Class && c.eq(x.Props, y.Props)
	case *Ref:
		y, ok := b.(*Ref)
		if !ok || (x == nil) != (y == nil) {
			return false
		}
		if x == nil {
			return true
		}
		k := [2]any{x, y}
		if c.seen[k] {
			return true
		}
		c.seen[k] = true
		return c.eq(x.Value, y.Value)
	case *Custom:
		y, ok := b.(*Custom)
		return ok && (x == nil) == (y == nil) && (x == nil || x.Class == y.Class && bytes.Equal(x.Data, y.Data))
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !c.eq(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// dump renders a decoded value for failure messages (cycles cut).
func dump(v any) string {
	var b strings.Builder
	dumpTo(&b, v, map[any]bool{})
	return b.String()
}

func dumpTo(b *strings.Builder, v any, seen map[any]bool) {
	switch x := v.(type) {
	case *Array:
		if x == nil {
			b.WriteString("(*Array)nil")
			return
		}
		if seen[x] {
			b.WriteString("<cycle>")
			return
		}
		seen[x] = true
		defer delete(seen, x)
		b.WriteString("[")
		for i, e := range x.entries {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(b, "%#v:", e.Key)
			dumpTo(b, e.Value, seen)
		}
		b.WriteString("]")
	case *Object:
		if x == nil {
			b.WriteString("(*Object)nil")
			return
		}
		if seen[x] {
			b.WriteString("<obj cycle>")
			return
		}
		seen[x] = true
		defer delete(seen, x)
		fmt.Fprintf(b, "%s{", x.Class)
		dumpTo(b, x.Props, seen)
		b.WriteString("}")
	case *Ref:
		if x == nil {
			b.WriteString("(*Ref)nil")
			return
		}
		if seen[x] {
			fmt.Fprintf(b, "&<cycle %p>", x)
			return
		}
		seen[x] = true
		defer delete(seen, x)
		fmt.Fprintf(b, "&%p(", x)
		dumpTo(b, x.Value, seen)
		b.WriteString(")")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("map{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(b, "%q:", k)
			dumpTo(b, x[k], seen)
		}
		b.WriteString("}")
	default:
		fmt.Fprintf(b, "%#v", v)
	}
}
