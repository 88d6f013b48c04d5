package session

import (
	"encoding/json"
	"math"
	"reflect"
)

// Get returns the value under key as a T. It reports false when there is no
// value or it cannot be had as a T. Numbers convert between numeric types
// when no information is lost, so that Get[int] works on values that a JSON
// or PHP codec decoded as json.Number, float64 or int64.
func Get[T any](s *Session, key string) (T, bool) {
	var zero T
	v := s.Get(key)
	if v == nil {
		return zero, false
	}
	if t, ok := v.(T); ok {
		return t, true
	}
	out, ok := convertNumber(v, reflect.TypeFor[T]())
	if !ok {
		return zero, false
	}
	return out.Interface().(T), true
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
