package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sessionkit/session"
)

// recordView is the raw stored record of the current session, as the
// record page shows it.
type recordView struct {
	Handle   string // the key's handle, never the key: see handle
	Stored   bool
	Version  uint64
	Owner    string
	Created  time.Time
	Modified time.Time
	Expiry   time.Time
	Size     int
	Text     string
	Hex      string
	Values   []valueView
	Codec    string
	DecodeEr string
}

// valueView is one decoded value.
type valueView struct {
	Key, Type, Value string
}

// record shows the current session's record exactly as the store holds
// it: the key's handle (never the key), metadata, the encoded bytes as text and hex, and the decoded
// values.
func (a *app) record(w http.ResponseWriter, r *http.Request) {
	s, ok := a.session(w, r)
	if !ok {
		return
	}
	v := recordView{Handle: handle(s.Key()), Codec: codecName(a.target.CodecName)}
	if !s.IsNew() {
		rec, err := a.m.Store.Load(r.Context(), s.Key())
		switch {
		case errors.Is(err, session.ErrNotFound):
		case err != nil:
			a.fail(w, r, "load the stored record", hideKey(err, s.Key()))
			return
		default:
			v.Stored = true
			v.Version, v.Owner, v.Created, v.Modified, v.Expiry = rec.Version, rec.Owner, rec.Created, rec.Modified, rec.Expiry
			v.Size = len(rec.Data)
			v.Text = printable(rec.Data)
			v.Hex = hex.Dump(rec.Data)
			_, values, err := a.m.Inspect(r.Context(), s.Key())
			if err != nil {
				v.DecodeEr = withoutKey(err.Error(), s.Key())
			}
			v.Values = valueViews(values)
		}
	}
	flash, _ := s.Pop(keyFlash).(string)
	a.render(w, "record", pageData{
		Title:  "stored record",
		User:   userOf(s),
		Flash:  flash,
		Record: &v,
		Store:  a.target.Where,
		Scheme: a.target.Scheme,
	})
}

// codecName names the codec in use for people.
func codecName(n string) string {
	if n == "" {
		return "binary"
	}
	return n
}

// valueViews sorts and formats decoded values.
func valueViews(values map[string]any) []valueView {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]valueView, 0, len(keys))
	for _, k := range keys {
		out = append(out, valueView{Key: k, Type: fmt.Sprintf("%T", values[k]), Value: fmt.Sprintf("%v", values[k])})
	}
	return out
}

// printable shows data as text: printable UTF-8 as it is, every other byte
// as \xNN.
func printable(data []byte) string {
	var b strings.Builder
	for len(data) > 0 {
		r, n := utf8.DecodeRune(data)
		if r == utf8.RuneError && n <= 1 || !unicode.IsPrint(r) && r != ' ' {
			fmt.Fprintf(&b, `\x%02x`, data[0])
			data = data[1:]
			continue
		}
		b.WriteRune(r)
		data = data[n:]
	}
	return b.String()
}
