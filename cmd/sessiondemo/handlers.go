package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/sessionkit/session"
)

// Session value keys used by the demo. Values are plain strings and ints so
// that every codec (binary, gob, JSON, PHP) can hold them and sessionctl can show
// them.
const (
	keyCount = "count"
	keyUser  = "user"
	keyFlash = "flash"
	keyCSRF  = "csrf"
	keyLogin = "login_at"
)

// validName is what a user name may look like.
var validName = regexp.MustCompile(`^[\p{L}\p{N}._-]{1,32}$`)

// home is the front page: the counter, the flash message, the login form or
// the logged-in user.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	s, ok := a.session(w, r)
	if !ok {
		return
	}
	s.Update(keyCount, func(old any) any {
		n, _ := toInt(old)
		return n + 1
	})
	count, _ := session.Get[int](s, keyCount)
	flash, _ := s.Pop(keyFlash).(string)
	a.render(w, "home", pageData{
		Title:   "sessionkit demo",
		User:    userOf(s),
		Flash:   flash,
		CSRF:    csrfToken(s),
		Count:   count,
		IsNew:   s.IsNew(),
		Created: s.Created(),
		Store:   a.target.Where,
		Scheme:  a.target.Scheme,
	})
}

// login starts a logged-in session: a new ID (no fixation), the owner tag
// for "your devices", a new CSRF token and a welcome flash message.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	s, ok := a.checkedSession(w, r)
	if !ok {
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if !validName.MatchString(name) {
		s.Set(keyFlash, "A name is 1 to 32 letters, digits, dots, dashes or underscores.")
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if err := s.Renew(); err != nil {
		a.fail(w, r, "renew session ID", err)
		return
	}
	welcome := "Welcome, " + name
	if limit := a.m.MaxSessionsPerOwner; limit > 0 {
		if infos, err := a.m.OwnerSessions(r.Context(), name); err == nil && len(infos) >= limit {
			welcome += fmt.Sprintf(". You were signed in on %d devices, the most this demo allows: the one you used least recently has been logged out.", len(infos))
		}
	}
	if !a.target.NoOwners {
		s.SetOwner(name)
	}
	s.Set(keyUser, name)
	s.Set(keyLogin, time.Now().Unix())
	s.Set(keyCSRF, newToken())
	s.Set(keyFlash, welcome)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout destroys the session (its record is deleted, its ID dead) and
// leaves a flash message in a fresh session: a Set after Destroy starts a
// new session with a new ID.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	s, ok := a.checkedSession(w, r)
	if !ok {
		return
	}
	s.Destroy()
	s.Set(keyFlash, loggedOut)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// loggedOut is the flash message shown after logout.
const loggedOut = "You have been logged out."

// device is one line of the devices page.
type device struct {
	Handle   string // the key's handle, never the key: see handle
	Created  time.Time
	LastSeen time.Time
	Expiry   time.Time
	Current  bool
}

// devices lists the sessions of the logged-in user.
func (a *app) devices(w http.ResponseWriter, r *http.Request) {
	s, ok := a.session(w, r)
	if !ok {
		return
	}
	user := userOf(s)
	if user == "" {
		s.Set(keyFlash, "Log in to see your devices.")
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	var infos []session.Info
	var unsupported string
	if a.target.NoOwners {
		unsupported = "This store's table has no owner column, so it cannot tell which sessions are yours."
	} else {
		var err error
		infos, err = a.ownerSessions(r, user)
		switch {
		case errors.Is(err, session.ErrUnsupported):
			unsupported = "This store cannot list sessions (" + a.target.Scheme + " keeps no index of them)."
		case err != nil:
			a.fail(w, r, "list your sessions", err)
			return
		}
	}
	var list []device
	for _, in := range infos {
		list = append(list, device{Handle: handle(in.Key), Created: in.Created, LastSeen: in.Modified, Expiry: in.Expiry, Current: in.Key == s.Key()})
	}
	flash, _ := s.Pop(keyFlash).(string)
	a.render(w, "devices", pageData{
		Title:   "your devices",
		User:    user,
		Flash:   flash,
		CSRF:    csrfToken(s),
		Devices: list,
		NoList:  unsupported,
		Store:   a.target.Where,
		Scheme:  a.target.Scheme,
	})
}

// ownerSessions lists owner's sessions through the store's owner index, or
// by a scan when the store has none (the SQL compatibility layout).
func (a *app) ownerSessions(r *http.Request, owner string) ([]session.Info, error) {
	infos, err := a.m.OwnerSessions(r.Context(), owner)
	if !errors.Is(err, session.ErrUnsupported) {
		return infos, err
	}
	infos = infos[:0]
	err = a.m.Iterate(r.Context(), func(in session.Info) bool {
		if in.Owner == owner {
			infos = append(infos, in)
		}
		return true
	})
	return infos, err
}

// logoutOthers destroys every session of the user but this one.
func (a *app) logoutOthers(w http.ResponseWriter, r *http.Request) {
	s, ok := a.checkedSession(w, r)
	if !ok {
		return
	}
	user := userOf(s)
	if user == "" || a.target.NoOwners {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	n, err := a.m.DestroyOwnerSessions(r.Context(), user, s.Key())
	if errors.Is(err, session.ErrUnsupported) {
		n, err = a.destroyByScan(r, user, s.Key())
	}
	if err != nil {
		a.fail(w, r, "log out your other devices", err)
		return
	}
	s.Set(keyFlash, fmt.Sprintf("Logged out %d other session(s).", n))
	http.Redirect(w, r, "/devices", http.StatusSeeOther)
}

// destroyByScan destroys owner's sessions but keep, for stores without an
// owner index.
func (a *app) destroyByScan(r *http.Request, owner, keep string) (int, error) {
	infos, err := a.ownerSessions(r, owner)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, in := range infos {
		if in.Key == keep {
			continue
		}
		if err := a.m.DestroyKey(r.Context(), in.Key); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// userOf returns the logged-in user's name, or "".
func userOf(s *session.Session) string {
	u, _ := session.Get[string](s, keyUser)
	return u
}

// toInt reads a counter that any codec decoded.
func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}
