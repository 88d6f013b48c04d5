package phpcodec

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// encoder writes PHP's serialize format. Like PHP's serializer it numbers
// every value it writes (a back-reference R:<n>; excepted) so that later
// occurrences of the same object or reference point back to it.
type encoder struct {
	buf      []byte
	n        int         // slots written so far
	seen     map[any]int // identity (*Ref, *Object, *Custom, Enum) → slot
	maxDepth int
	depth    int
	path     pathBuf
}

func newEncoder(maxDepth int) *encoder {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	return &encoder{maxDepth: maxDepth}
}

// pathBuf records where the encoder is, for error messages.
type pathBuf struct{ elems []any }

func (p *pathBuf) push(k any) { p.elems = append(p.elems, k) }
func (p *pathBuf) pop()       { p.elems = p.elems[:len(p.elems)-1] }

// String formats the path as ["key"][3].
func (p *pathBuf) String() string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	for _, e := range p.elems {
		switch e := e.(type) {
		case string:
			b.WriteString("[" + strconv.Quote(e) + "]")
		default:
			fmt.Fprintf(&b, "[%v]", e)
		}
	}
	return b.String()
}

func (e *encoder) errorf(sentinel error, format string, args ...any) error {
	return encodeErrorf(&e.path, sentinel, format, args...)
}

// identity returns the key under which PHP tracks v for back-references:
// objects (including enum cases, which are singletons) by themselves.
func identity(v any) any {
	switch x := v.(type) {
	case *Object:
		if x != nil {
			return x
		}
	case *Custom:
		if x != nil {
			return x
		}
	case Enum:
		return x
	}
	return nil
}

func (e *encoder) remember(key any) {
	if e.seen == nil {
		e.seen = make(map[any]int)
	}
	e.seen[key] = e.n
}

// value writes one value, taking one slot, like php_var_serialize_intern.
func (e *encoder) value(v any) error {
	e.n++
	switch x := v.(type) {
	case *Ref:
		if x == nil {
			e.buf = append(e.buf, "N;"...)
			return nil
		}
		return e.ref(x)
	case Ref:
		return e.ref(&x)
	case *Object, *Custom, Enum:
		if id := identity(x); id != nil {
			if slot, ok := e.seen[id]; ok {
				e.buf = append(e.buf, "r:"...)
				e.buf = strconv.AppendInt(e.buf, int64(slot), 10)
				e.buf = append(e.buf, ';')
				return nil
			}
			e.remember(id)
		}
	}
	return e.plain(v)
}

// ref writes a PHP reference: the value the first time, R:<n>; after.
// References to objects share the object's identity, as in PHP.
func (e *encoder) ref(r *Ref) error {
	if _, ok := r.Value.(*Ref); ok {
		return e.errorf(ErrReference, "a *Ref holding a *Ref (PHP has no reference to a reference)")
	}
	if _, ok := r.Value.(Ref); ok {
		return e.errorf(ErrReference, "a *Ref holding a Ref (PHP has no reference to a reference)")
	}
	var key any = r
	if id := identity(r.Value); id != nil {
		key = id
	}
	if slot, ok := e.seen[key]; ok {
		e.n-- // a reference takes no slot of its own
		e.buf = append(e.buf, "R:"...)
		e.buf = strconv.AppendInt(e.buf, int64(slot), 10)
		e.buf = append(e.buf, ';')
		return nil
	}
	e.remember(key)
	return e.plain(r.Value)
}

func (e *encoder) appendString(s string) {
	e.buf = append(e.buf, "s:"...)
	e.buf = strconv.AppendInt(e.buf, int64(len(s)), 10)
	e.buf = append(e.buf, ':', '"')
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, '"', ';')
}

func (e *encoder) appendInt(i int64) {
	e.buf = append(e.buf, "i:"...)
	e.buf = strconv.AppendInt(e.buf, i, 10)
	e.buf = append(e.buf, ';')
}

func (e *encoder) appendFloat(f float64) {
	e.buf = append(e.buf, "d:"...)
	e.buf = appendFloat(e.buf, f)
	e.buf = append(e.buf, ';')
}

// appendKey writes an array key: int64 as i:, string as s:.
func (e *encoder) appendKey(k any) {
	switch k := k.(type) {
	case int64:
		e.appendInt(k)
	case string:
		e.appendString(k)
	}
}

// enter checks and increments the nesting depth (non-empty arrays and all
// objects count, as in the decoder and in PHP).
func (e *encoder) enter() error {
	if e.depth >= e.maxDepth {
		return e.errorf(ErrDepth, "more than %d nested arrays and objects (is the value cyclic?)", e.maxDepth)
	}
	e.depth++
	return nil
}

// plain writes v without back-reference tracking (done by value).
func (e *encoder) plain(v any) error {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "N;"...)
	case bool:
		if x {
			e.buf = append(e.buf, "b:1;"...)
		} else {
			e.buf = append(e.buf, "b:0;"...)
		}
	case int:
		e.appendInt(int64(x))
	case int64:
		e.appendInt(x)
	case int32:
		e.appendInt(int64(x))
	case float64:
		e.appendFloat(x)
	case string:
		e.appendString(x)
	case []byte:
		e.appendString(string(x))
	case *Array:
		if x == nil {
			e.buf = append(e.buf, "N;"...)
			return nil
		}
		return e.array(x.entries)
	case map[string]any:
		return e.stringMap(x)
	case []any:
		return e.list(len(x), func(i int) any { return x[i] })
	case *Object:
		if x == nil {
			e.buf = append(e.buf, "N;"...)
			return nil
		}
		return e.object(x)
	case *Custom:
		if x == nil {
			e.buf = append(e.buf, "N;"...)
			return nil
		}
		return e.custom(x)
	case Enum:
		if !validClassName(x.Class) || !validCaseName(x.Case) {
			return e.errorf(ErrInvalidName, "invalid enum case %q::%q", x.Class, x.Case)
		}
		e.buf = append(e.buf, "E:"...)
		e.buf = strconv.AppendInt(e.buf, int64(len(x.Class)+1+len(x.Case)), 10)
		e.buf = append(e.buf, ':', '"')
		e.buf = append(e.buf, x.Class...)
		e.buf = append(e.buf, ':')
		e.buf = append(e.buf, x.Case...)
		e.buf = append(e.buf, '"', ';')
	default:
		return e.reflectValue(reflect.ValueOf(v))
	}
	return nil
}

func (e *encoder) array(entries []Entry) error {
	e.buf = append(e.buf, "a:"...)
	e.buf = strconv.AppendInt(e.buf, int64(len(entries)), 10)
	e.buf = append(e.buf, ':', '{')
	if len(entries) == 0 {
		e.buf = append(e.buf, '}')
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	for _, en := range entries {
		e.appendKey(en.Key)
		e.path.push(en.Key)
		if err := e.value(en.Value); err != nil {
			return err
		}
		e.path.pop()
	}
	e.depth--
	e.buf = append(e.buf, '}')
	return nil
}

// stringMap writes a Go map as an array sorted by key; canonical integer
// strings become integer keys, as PHP would store them.
func (e *encoder) stringMap(m map[string]any) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	entries := make([]Entry, len(keys))
	for i, k := range keys {
		nk, _ := normalizeKey(k)
		entries[i] = Entry{Key: nk.entryKey(), Value: m[k]}
	}
	return e.array(entries)
}

func (e *encoder) list(n int, at func(int) any) error {
	entries := make([]Entry, n)
	for i := range n {
		entries[i] = Entry{Key: int64(i), Value: at(i)}
	}
	return e.array(entries)
}

func (e *encoder) object(o *Object) error {
	if !validClassName(o.Class) {
		return e.errorf(ErrInvalidName, "invalid class name %q", o.Class)
	}
	e.buf = append(e.buf, "O:"...)
	e.buf = strconv.AppendInt(e.buf, int64(len(o.Class)), 10)
	e.buf = append(e.buf, ':', '"')
	e.buf = append(e.buf, o.Class...)
	e.buf = append(e.buf, '"', ':')
	entries := o.Props.entriesOrNil()
	e.buf = strconv.AppendInt(e.buf, int64(len(entries)), 10)
	e.buf = append(e.buf, ':', '{')
	if err := e.enter(); err != nil {
		return err
	}
	for _, en := range entries {
		e.appendKey(en.Key)
		e.path.push(en.Key)
		if err := e.value(en.Value); err != nil {
			return err
		}
		e.path.pop()
	}
	e.depth--
	e.buf = append(e.buf, '}')
	return nil
}

func (a *Array) entriesOrNil() []Entry {
	if a == nil {
		return nil
	}
	return a.entries
}

func (e *encoder) custom(c *Custom) error {
	if !validClassName(c.Class) {
		return e.errorf(ErrInvalidName, "invalid class name %q", c.Class)
	}
	e.buf = append(e.buf, "C:"...)
	e.buf = strconv.AppendInt(e.buf, int64(len(c.Class)), 10)
	e.buf = append(e.buf, ':', '"')
	e.buf = append(e.buf, c.Class...)
	e.buf = append(e.buf, '"', ':')
	e.buf = strconv.AppendInt(e.buf, int64(len(c.Data)), 10)
	e.buf = append(e.buf, ':', '{')
	e.buf = append(e.buf, c.Data...)
	e.buf = append(e.buf, '}')
	// Values serialized inside the payload took slots in PHP too.
	e.n += countSlots(c.Data, e.n, e.depth, e.maxDepth)
	return nil
}

// reflectValue handles named types, typed slices and maps.
func (e *encoder) reflectValue(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Bool:
		return e.plain(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.appendInt(v.Int())
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := v.Uint()
		if u > math.MaxInt64 {
			return e.errorf(ErrRange, "%s value %d exceeds PHP_INT_MAX", v.Type(), u)
		}
		e.appendInt(int64(u))
		return nil
	case reflect.Float32, reflect.Float64:
		e.appendFloat(v.Float())
		return nil
	case reflect.String:
		e.appendString(v.String())
		return nil
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			e.appendString(string(v.Bytes()))
			return nil
		}
		return e.list(v.Len(), func(i int) any { return v.Index(i).Interface() })
	case reflect.Array:
		return e.list(v.Len(), func(i int) any { return v.Index(i).Interface() })
	case reflect.Map:
		return e.reflectMap(v)
	case reflect.Invalid:
		e.buf = append(e.buf, "N;"...)
		return nil
	}
	return e.errorf(ErrUnsupportedType, "cannot encode Go type %s", v.Type())
}

func (e *encoder) reflectMap(v reflect.Value) error {
	type kv struct {
		key normKey
		str string
		val reflect.Value
	}
	kt := v.Type().Key()
	items := make([]kv, 0, v.Len())
	iter := v.MapRange()
	for iter.Next() {
		k := iter.Key()
		switch kt.Kind() {
		case reflect.String:
			items = append(items, kv{str: k.String(), val: iter.Value()})
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			items = append(items, kv{key: normKey{i: k.Int()}, val: iter.Value()})
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			if k.Uint() > math.MaxInt64 {
				return e.errorf(ErrRange, "map key %d exceeds PHP_INT_MAX", k.Uint())
			}
			items = append(items, kv{key: normKey{i: int64(k.Uint())}, val: iter.Value()})
		default:
			return e.errorf(ErrInvalidKey, "cannot encode Go type %s: map keys must be strings or integers", v.Type())
		}
	}
	if kt.Kind() == reflect.String {
		slices.SortFunc(items, func(a, b kv) int { return strings.Compare(a.str, b.str) })
		for i := range items {
			items[i].key, _ = normalizeKey(items[i].str)
		}
	} else {
		slices.SortFunc(items, func(a, b kv) int { return cmp.Compare(a.key.i, b.key.i) })
	}
	entries := make([]Entry, len(items))
	for i, it := range items {
		entries[i] = Entry{Key: it.key.entryKey(), Value: it.val.Interface()}
	}
	return e.array(entries)
}

func marshal(v any, maxDepth int) ([]byte, error) {
	e := newEncoder(maxDepth)
	if err := e.value(v); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// Marshal encodes v in PHP's serialize format, as PHP's serialize() would
// write the corresponding PHP value, with [DefaultMaxDepth]. See the
// package documentation for the Go types it accepts; other types give an
// error wrapping [ErrUnsupportedType].
func Marshal(v any) ([]byte, error) {
	return marshal(v, DefaultMaxDepth)
}
