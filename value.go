package session

import (
	"bytes"
	"encoding"
	"encoding/json"
	"math"
	"reflect"
)

// Get returns the value under key as a T. It reports false when there is no
// value or it cannot be had as a T.
//
// When the stored value is not a T, Get converts what a codec gave back,
// where no information is lost:
//
//   - numbers between numeric types, so that Get[int] works on values that
//     a JSON or PHP codec decoded as json.Number, float64 or int64;
//   - a []any holding only strings into a []string;
//   - a map[string]any or []any (what JSON and PHP codecs decode objects and
//     arrays to) into a struct, map, slice, array or pointer T, through
//     encoding/json: the value is marshaled and unmarshaled into T, and a
//     field that T does not have makes Get report false;
//   - a string into a T that implements json.Unmarshaler or
//     encoding.TextUnmarshaler (a time.Time saved by JSONCodec), the same way.
//
// A converted value is a copy: changing it does not change the session.
func Get[T any](s *Session, key string) (T, bool) {
	var zero T
	v := s.Get(key)
	if v == nil {
		return zero, false
	}
	if t, ok := v.(T); ok {
		return t, true
	}
	return convert[T](v)
}

// convert converts v, which is not a T, into a T as [Get] documents.
func convert[T any](v any) (T, bool) {
	var out T
	t := reflect.TypeFor[T]()
	if n, ok := convertNumber(v, t); ok {
		return n.Interface().(T), true
	}
	if p, ok := any(&out).(*[]string); ok {
		list, ok := v.([]any)
		if !ok {
			return out, false
		}
		ss := make([]string, len(list))
		for i, e := range list {
			if ss[i], ok = e.(string); !ok {
				return out, false
			}
		}
		*p = ss
		return out, true
	}
	return convertJSON[T](v, t)
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// convertJSON converts a JSON-shaped v into a T by a round trip through
// encoding/json.
func convertJSON[T any](v any, t reflect.Type) (T, bool) {
	var out T
	switch v.(type) {
	case map[string]any, []any:
		switch t.Kind() {
		case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array, reflect.Pointer:
		default:
			return out, false
		}
	case string:
		pt := reflect.PointerTo(t)
		if !pt.Implements(jsonUnmarshalerType) && !pt.Implements(textUnmarshalerType) {
			return out, false
		}
	default:
		return out, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return out, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		var zero T
		return zero, false
	}
	return out, true
}

// convertNumber converts numeric v to type t without loss.
func convertNumber(v any, t reflect.Type) (reflect.Value, bool) {
	if !isNumeric(t.Kind()) {
		return reflect.Value{}, false
	}
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			v = i
		} else if f, err := n.Float64(); err == nil {
			v = f
		} else {
			return reflect.Value{}, false
		}
	}
	rv := reflect.ValueOf(v)
	if !isNumeric(rv.Kind()) {
		return reflect.Value{}, false
	}
	if isSigned(rv.Kind()) && rv.Int() < 0 && isUnsigned(t.Kind()) {
		return reflect.Value{}, false
	}
	out := rv.Convert(t)
	back := out.Convert(rv.Type())
	if !back.Equal(rv) {
		return reflect.Value{}, false
	}
	if isFloat(rv.Kind()) && !isFloat(t.Kind()) {
		f := rv.Float()
		if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
			return reflect.Value{}, false
		}
	}
	return out, true
}

func isNumeric(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Float64
}

func isSigned(k reflect.Kind) bool { return k >= reflect.Int && k <= reflect.Int64 }

func isUnsigned(k reflect.Kind) bool { return k >= reflect.Uint && k <= reflect.Uintptr }

func isFloat(k reflect.Kind) bool { return k == reflect.Float32 || k == reflect.Float64 }
