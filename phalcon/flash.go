package phalcon

import (
	"fmt"

	"github.com/sessionkit/session/phpcodec"
)

// Flash is Phalcon\Flash\Session: messages kept in the session under
// "_flashMessages" as [type => [message, ...]] until they are read.
type Flash struct{ p *Session }

// Flash returns the session's flash messages.
func (p *Session) Flash() *Flash { return &Flash{p: p} }

// Add appends a message of type typ ("error", "notice", "success",
// "warning" in Phalcon).
func (f *Flash) Add(typ, message string) {
	f.p.s.Update(f.p.key(FlashKey), func(old any) any {
		all := cloneArray(old)
		list := cloneArray(mustGet(all, typ))
		_ = list.Append(message)
		all.Set(typ, list)
		return all
	})
}

// Error, Notice, Success and Warning add a message of that type.
func (f *Flash) Error(message string) { f.Add("error", message) }

// Notice adds a notice message.
func (f *Flash) Notice(message string) { f.Add("notice", message) }

// Success adds a success message.
func (f *Flash) Success(message string) { f.Add("success", message) }

// Warning adds a warning message.
func (f *Flash) Warning(message string) { f.Add("warning", message) }

func mustGet(a *phpcodec.Array, key any) any {
	v, _ := a.Get(key)
	return v
}

// Has reports whether there are messages of type typ ("" for any type).
func (f *Flash) Has(typ string) bool {
	all, ok := phpcodec.Deref(f.p.s.Get(f.p.key(FlashKey))).(*phpcodec.Array)
	if !ok {
		return false
	}
	if typ == "" {
		return all.Len() > 0
	}
	list, ok := phpcodec.Deref(mustGet(all, typ)).(*phpcodec.Array)
	return ok && list.Len() > 0
}

// Messages returns the messages of type typ and removes them, like
// Phalcon's getMessages($type) with remove true. With typ "" it returns
// every message, grouped by type, and removes them all.
func (f *Flash) Messages(typ string) map[string][]string {
	all, ok := phpcodec.Deref(f.p.s.Get(f.p.key(FlashKey))).(*phpcodec.Array)
	out := map[string][]string{}
	if !ok {
		return out
	}
	for _, e := range all.Entries() {
		t := fmt.Sprint(e.Key)
		if typ != "" && t != typ {
			continue
		}
		if list, ok := phpcodec.Deref(e.Value).(*phpcodec.Array); ok {
			for _, m := range list.List() {
				out[t] = append(out[t], fmt.Sprint(phpcodec.Deref(m)))
			}
		}
	}
	if typ == "" {
		f.p.s.Delete(f.p.key(FlashKey))
		return out
	}
	f.p.s.Update(f.p.key(FlashKey), func(old any) any {
		a := cloneArray(old)
		a.Delete(typ)
		return a
	})
	return out
}
