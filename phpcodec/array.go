package phpcodec

import (
	"fmt"
	"iter"
	"math"
	"reflect"
	"slices"
	"strconv"
)

// Entry is one key and value of an [Array]. Key is an int64 or a string.
type Entry struct {
	Key   any // int64 or string
	Value any
}

// Array is a PHP array: an ordered map whose keys are int64 or string.
//
// Keys follow PHP's rules: [Array.Set], [Array.Get] and [Array.Delete]
// accept any Go integer or a string, and a string that is a canonical
// decimal integer ("5", "-3", but not "05", "+5", "-0" or "5.0") is the
// same key as that integer and is stored as an int64, as PHP does.
//
// The zero value is an empty array ready to use. An Array is not safe for
// concurrent use when one goroutine modifies it.
type Array struct {
	entries []Entry
	index   map[normKey]int // built once the array grows past indexMin
	next    int64           // next index for Append, as PHP's nNextFreeElement
	hasNext bool            // whether next is meaningful (an int key exists)
	full    bool            // PHP_INT_MAX was used: Append is impossible
}

// indexMin is the size from which lookups use a map instead of a scan.
const indexMin = 8

// normKey is a key in the form used for lookups.
type normKey struct {
	s     string
	i     int64
	isStr bool
}

// NewList returns a list array: values under keys 0, 1, 2...
func NewList(values ...any) *Array {
	a := &Array{entries: make([]Entry, len(values))}
	for i, v := range values {
		a.entries[i] = Entry{Key: int64(i), Value: v}
	}
	if len(values) > 0 {
		a.next, a.hasNext = int64(len(values)), true
	}
	a.reindex()
	return a
}

// NewMap returns an array holding the entries of m, sorted by key (byte
// order of the Go strings) so that the result is deterministic. Keys that
// are canonical decimal integers become int64 keys, as in PHP.
func NewMap(m map[string]any) *Array {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	a := &Array{entries: make([]Entry, 0, len(keys))}
	for _, k := range keys {
		a.Set(k, m[k])
	}
	return a
}

// Len returns the number of entries. A nil *Array has none.
func (a *Array) Len() int {
	if a == nil {
		return 0
	}
	return len(a.entries)
}

// Get returns the value stored under key and whether it is present. A key
// that is not an integer or a string is never present.
func (a *Array) Get(key any) (any, bool) {
	if a == nil {
		return nil, false
	}
	k, ok := normalizeKey(key)
	if !ok {
		return nil, false
	}
	if i := a.find(k); i >= 0 {
		return a.entries[i].Value, true
	}
	return nil, false
}

// Set stores value under key, keeping the position of an existing entry
// or appending a new one, like PHP's $a[$key] = $value. Set panics if key
// is not a Go integer (within the int64 range) or a string.
func (a *Array) Set(key any, value any) {
	k, ok := normalizeKey(key)
	if !ok {
		panic(fmt.Sprintf("phpcodec: Array key of type %T, want an integer or a string", key))
	}
	if i := a.find(k); i >= 0 {
		a.entries[i].Value = value
		return
	}
	a.add(k.entryKey(), k, value)
}

// Append stores value under the next integer key (one more than the
// largest integer key the array has held, or 0 for an array that never had
// one), like PHP's $a[] = $value. It returns an error wrapping [ErrRange]
// when the array has held the key PHP_INT_MAX.
func (a *Array) Append(value any) error {
	if a.full {
		return fmt.Errorf("%w: cannot append, the array has held the key PHP_INT_MAX", ErrRange)
	}
	k := int64(0)
	if a.hasNext {
		k = a.next
	}
	a.Set(k, value)
	return nil
}

// Delete removes key and reports whether it was present. As in PHP, the
// next index used by Append does not go down.
func (a *Array) Delete(key any) bool {
	if a == nil {
		return false
	}
	k, ok := normalizeKey(key)
	if !ok {
		return false
	}
	i := a.find(k)
	if i < 0 {
		return false
	}
	a.entries = slices.Delete(a.entries, i, i+1)
	a.reindex()
	return true
}

// Entries returns a copy of the entries in order.
func (a *Array) Entries() []Entry {
	if a == nil {
		return nil
	}
	return slices.Clone(a.entries)
}

// All iterates over the keys (int64 or string) and values in order.
func (a *Array) All() iter.Seq2[any, any] {
	return func(yield func(any, any) bool) {
		if a == nil {
			return
		}
		for _, e := range a.entries {
			if !yield(e.Key, e.Value) {
				return
			}
		}
	}
}

// Keys returns the keys (int64 or string) in order.
func (a *Array) Keys() []any {
	if a == nil {
		return nil
	}
	keys := make([]any, len(a.entries))
	for i, e := range a.entries {
		keys[i] = e.Key
	}
	return keys
}

// IsList reports whether the keys are 0, 1, 2... in this order, like PHP's
// array_is_list. An empty array is a list.
func (a *Array) IsList() bool {
	if a == nil {
		return true
	}
	for i, e := range a.entries {
		if k, ok := e.Key.(int64); !ok || k != int64(i) {
			return false
		}
	}
	return true
}

// List returns the values in order, whatever their keys; use
// [Array.IsList] to check that the array is a list.
func (a *Array) List() []any {
	if a == nil {
		return nil
	}
	values := make([]any, len(a.entries))
	for i, e := range a.entries {
		values[i] = e.Value
	}
	return values
}

// Map returns the entries as a Go map; integer keys are written in
// decimal. Nested values are not converted.
func (a *Array) Map() map[string]any {
	if a == nil {
		return nil
	}
	m := make(map[string]any, len(a.entries))
	for _, e := range a.entries {
		m[keyString(e.Key)] = e.Value
	}
	return m
}

// String returns a short description, not PHP syntax; it does not descend
// into nested values, so it is safe on cyclic data.
func (a *Array) String() string {
	return fmt.Sprintf("phpcodec.Array(len=%d)", a.Len())
}

// find returns the position of k, or -1.
func (a *Array) find(k normKey) int {
	if a == nil {
		return -1
	}
	if a.index != nil {
		if i, ok := a.index[k]; ok {
			return i
		}
		return -1
	}
	for i, e := range a.entries {
		if keyEqual(e.Key, k) {
			return i
		}
	}
	return -1
}

// add appends an entry whose normalized key k is known to be absent;
// stored is the key as it will be written (int64 or string).
func (a *Array) add(stored any, k normKey, value any) int {
	a.entries = append(a.entries, Entry{Key: stored, Value: value})
	i := len(a.entries) - 1
	if a.index != nil {
		a.index[k] = i
	} else if len(a.entries) > indexMin {
		a.reindex()
	}
	switch {
	case k.isStr:
	case k.i == math.MaxInt64:
		a.full = true
	case !a.hasNext || k.i >= a.next:
		a.next, a.hasNext = k.i+1, true
	}
	return i
}

// lookupOrAdd returns the position of k, appending an entry with a nil
// value and the stored key when absent. It is what the decoder uses: an
// existing entry keeps its position and its key as first written.
func (a *Array) lookupOrAdd(stored any, k normKey) int {
	if i := a.find(k); i >= 0 {
		a.entries[i].Value = nil
		return i
	}
	return a.add(stored, k, nil)
}

// reindex rebuilds the lookup map after the entries changed.
func (a *Array) reindex() {
	if len(a.entries) <= indexMin {
		a.index = nil
		return
	}
	a.index = make(map[normKey]int, len(a.entries))
	for i, e := range a.entries {
		k, _ := normalizeKey(e.Key)
		a.index[k] = i
	}
}

// keyEqual compares a stored key with a normalized one.
func keyEqual(stored any, k normKey) bool {
	switch s := stored.(type) {
	case int64:
		return !k.isStr && s == k.i
	case string:
		if k.isStr {
			return s == k.s
		}
		i, ok := canonicalInt(s)
		return ok && i == k.i
	}
	return false
}

// entryKey is the key as stored by Set: int64 for integers, else string.
func (k normKey) entryKey() any {
	if k.isStr {
		return k.s
	}
	return k.i
}

// normalizeKey converts a Go key to its PHP array key.
func normalizeKey(key any) (normKey, bool) {
	switch k := key.(type) {
	case string:
		if i, ok := canonicalInt(k); ok {
			return normKey{i: i}, true
		}
		return normKey{s: k, isStr: true}, true
	case int64:
		return normKey{i: k}, true
	case int:
		return normKey{i: int64(k)}, true
	}
	v := reflect.ValueOf(key)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return normKey{i: v.Int()}, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := v.Uint(); u <= math.MaxInt64 {
			return normKey{i: int64(u)}, true
		}
	case reflect.String:
		return normalizeKey(v.String())
	}
	return normKey{}, false
}

// canonicalInt reports whether s is a decimal integer written the way PHP
// writes it ("0", "17", "-4": no sign "+", no leading zero, not "-0") and
// within the int64 range; such strings are integer keys in PHP arrays.
func canonicalInt(s string) (int64, bool) {
	n := len(s)
	if n == 0 || n > 20 {
		return 0, false
	}
	i := 0
	if s[0] == '-' {
		i = 1
		if n == 1 {
			return 0, false
		}
	}
	if s[i] == '0' && n > i+1 || s[i] == '0' && i == 1 {
		return 0, false // leading zero, or "-0"
	}
	for j := i; j < n; j++ {
		if s[j] < '0' || s[j] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// keyString writes an int64 or string key as a string.
func keyString(k any) string {
	switch k := k.(type) {
	case int64:
		return strconv.FormatInt(k, 10)
	case string:
		return k
	}
	return fmt.Sprint(k)
}
