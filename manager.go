package session

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Manager loads and saves sessions for HTTP handlers. Create one with [New]
// or as a struct literal (zero fields take the same secure defaults), adjust
// its fields before the first request, and wrap handlers with
// [Manager.Handler]. A Manager is safe for concurrent use once serving.
type Manager struct {
	// Store keeps the session records.
	Store Store
	// Codec encodes session values (default BinaryCodec, which also reads
	// records written by GobCodec, the default of earlier versions).
	Codec Codec
	// IdleTimeout ends a session that has not been used for this long
	// (default 30 minutes; a negative value disables the idle timeout, so
	// that only Lifetime ends a session).
	IdleTimeout time.Duration
	// Lifetime is the absolute lifetime of a session from its creation,
	// however active it is (default 24 hours).
	Lifetime time.Duration
	// TouchInterval is how old the last push of the idle expiry may get
	// before a read-only request pushes it again (default one minute, at
	// most half the IdleTimeout). Shorter means more store writes.
	TouchInterval time.Duration
	// RenewGrace is how long the old ID stays valid after Renew, so that
	// requests already in flight are not logged out (default 30 seconds; a
	// negative value deletes the old record at once).
	RenewGrace time.Duration
	// Cookie configures the session cookie.
	Cookie CookieOptions
	// TokenHeader, when set, carries the session ID in this request header
	// instead of a cookie, for JSON APIs. "Authorization" means
	// "Authorization: Bearer <id>". A response that creates or renews a
	// session carries the new ID in TokenResponseHeader; one that destroys
	// it carries that header empty.
	TokenHeader string
	// TokenResponseHeader names the response header for TokenHeader
	// (default: TokenHeader itself, or "Session-Token" when TokenHeader is
	// "Authorization").
	TokenResponseHeader string
	// IDAlphabet and IDLength shape generated IDs (default AlphabetURL and
	// 43 characters: 258 bits). At least 128 bits are required.
	IDAlphabet string
	IDLength   int
	// MinIDLength is the shortest ID accepted from a client (default
	// IDLength). Lower it to accept IDs issued by another system, such as
	// PHP with a different session.sid_length.
	MinIDLength int
	// AcceptIDAlphabet is the characters accepted in an ID from a client
	// (default IDAlphabet). Widen it to accept IDs another system issues
	// in other shapes, such as PHP, whose IDs take any of AlphabetPHP
	// whatever its php.ini generates.
	AcceptIDAlphabet string
	// RawIDs stores records under the session ID itself instead of its
	// SHA-256 hash, as sharing sessions with PHP requires. Hashed IDs keep
	// a dump of the store from holding usable cookie values.
	RawIDs bool
	// MaxRetries bounds how often a save retries after a version conflict
	// (default 20).
	MaxRetries int
	// MaxSize is the largest encoded session, in bytes (default 1 MiB). A
	// save over it fails with ErrTooLarge and leaves the stored session as
	// it was.
	MaxSize int
	// ErrorHandler answers a request whose session could not be saved
	// before the response started (default: 500 Internal Server Error).
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives errors that cannot reach a handler: undecodable
	// records, saves that failed after the response started (default
	// slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now); tests may replace it.
	Now func() time.Time
	// MaxSessionsPerOwner, when positive, bounds the live sessions of one
	// owner (Session.SetOwner), across every app server sharing the
	// store: a session that takes its owner over the limit ends the
	// owner's least recently used other sessions. The store must have an
	// owner index.
	MaxSessionsPerOwner int
	// RefuseOverLimit makes a session that would take its owner over
	// MaxSessionsPerOwner fail to save with ErrTooManySessions (a refused
	// login) instead of ending another session.
	RefuseOverLimit bool
	// Observer, when set, receives every store call and session event, for
	// metrics (see the otelsession module).
	Observer Observer

	setup    sync.Once
	turns    turns
	ids      *idPolicy
	setupErr error
}

// New returns a Manager for store with the default settings.
func New(store Store) *Manager {
	return &Manager{
		Store:       store,
		Codec:       BinaryCodec{},
		IdleTimeout: 30 * time.Minute,
		Lifetime:    24 * time.Hour,
		RenewGrace:  30 * time.Second,
		Cookie: CookieOptions{
			Name:     "session",
			Path:     "/",
			SameSite: http.SameSiteLaxMode,
		},
		IDAlphabet: AlphabetURL,
		IDLength:   43,
		MaxRetries: 20,
		MaxSize:    1 << 20,
	}
}

// init fills defaults for fields left zero and checks the configuration.
// It runs once, on the first request or first use.
func (m *Manager) init() error {
	m.setup.Do(func() {
		if m.Store == nil {
			m.setupErr = fmt.Errorf("session: Manager has no Store")
			return
		}
		if m.Codec == nil {
			m.Codec = BinaryCodec{}
		}
		if m.Lifetime <= 0 {
			m.Lifetime = 24 * time.Hour
		}
		switch {
		case m.IdleTimeout == 0:
			m.IdleTimeout = 30 * time.Minute
		case m.IdleTimeout < 0:
			m.IdleTimeout = 0 // disabled
		}
		if m.TouchInterval <= 0 {
			m.TouchInterval = time.Minute
			if m.IdleTimeout > 0 && m.IdleTimeout/2 < m.TouchInterval {
				m.TouchInterval = m.IdleTimeout / 2
			}
		}
		if m.RenewGrace == 0 {
			m.RenewGrace = 30 * time.Second
		}
		if m.Cookie.Name == "" {
			m.Cookie.Name = "session"
		}
		if m.Cookie.Path == "" {
			m.Cookie.Path = "/"
		}
		if m.IDAlphabet == "" {
			m.IDAlphabet = AlphabetURL
		}
		if m.IDLength == 0 {
			m.IDLength = 43
		}
		if m.MaxRetries <= 0 {
			m.MaxRetries = 20
		}
		if m.MaxSize <= 0 {
			m.MaxSize = 1 << 20
		}
		if m.ErrorHandler == nil {
			m.ErrorHandler = defaultErrorHandler
		}
		if m.Logger == nil {
			m.Logger = slog.Default()
		}
		if m.Now == nil {
			m.Now = time.Now
		}
		if _, ok := m.Store.(OwnerIndex); m.MaxSessionsPerOwner > 0 && !ok {
			m.setupErr = fmt.Errorf("session: MaxSessionsPerOwner needs a store with an owner index; %T has none: %w", m.Store, ErrUnsupported)
			return
		}
		m.ids, m.setupErr = newIDPolicy(m.IDAlphabet, m.AcceptIDAlphabet, m.IDLength, m.MinIDLength)
	})
	return m.setupErr
}

func defaultErrorHandler(w http.ResponseWriter, _ *http.Request, _ error) {
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// key returns the store key of a session ID.
func (m *Manager) key(id string) string {
	if m.RawIDs {
		return id
	}
	return hashKey(id)
}

// expiry is when a session created at created and used at now dies.
func (m *Manager) expiry(created, now time.Time) time.Time {
	exp := created.Add(m.Lifetime)
	if m.IdleTimeout > 0 {
		if idle := now.Add(m.IdleTimeout); idle.Before(exp) {
			exp = idle
		}
	}
	return exp
}

// GC removes expired records when the store needs it (it implements
// [Collector]) and returns how many it removed, reporting an EventExpired
// for each to the Observer. Stores whose server expires
// records by itself report 0.
func (m *Manager) GC(ctx context.Context) (int, error) {
	c, ok := m.Store.(Collector)
	if !ok {
		return 0, nil
	}
	return m.gcCall(ctx, func() (int, error) { return c.GC(ctx) })
}
