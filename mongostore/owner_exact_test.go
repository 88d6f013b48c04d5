package mongostore_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/mongostore"
)

// nearOwners are owners that a lossy lookup (a collation that ignores
// case, accents or spaces, a regular expression) would confuse.
var nearOwners = []string{"a", "a ", " a", "A", "á", "a%", "a_", "a*", "a?", "{a}", "a\x00", "a.*", "^a$"}

// TestOwnerKeysExact: OwnerKeys returns the records of the owner that is
// byte for byte the one asked for, also on a collection whose default
// collation ignores case and accents (when the server supports
// collations); owners the store cannot hold are refused with
// session.ErrUnsupported, never matched to another owner.
func TestOwnerKeysExact(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	colls := map[string]*mongostore.Store{"plain": e.store(t, mongostore.Options{})}
	ci := e.coll.Database().Collection("sessions_ci")
	strength1 := options.CreateCollection().SetCollation(&options.Collation{Locale: "en", Strength: 1})
	if err := e.coll.Database().CreateCollection(ctx, ci.Name(), strength1); err != nil {
		t.Logf("no collection with a collation on this server (%v): testing the plain one only", err)
	} else {
		s := newStore(t, ci, mongostore.Options{})
		if err := s.EnsureIndexes(ctx); err != nil {
			t.Fatal(err)
		}
		colls["case- and accent-insensitive collation"] = s
	}
	for name, s := range colls {
		t.Run(name, func(t *testing.T) {
			keyOf := map[string]string{}
			now := time.Now()
			for i, owner := range nearOwners {
				key := "k" + randomHex(16) + string(rune('a'+i))
				keyOf[owner] = key
				if _, err := s.Save(ctx, key, session.Record{Data: []byte("x"), Owner: owner, Expiry: now.Add(time.Hour), Created: now}); err != nil {
					t.Fatalf("Save for owner %q: %v", owner, err)
				}
			}
			for _, owner := range nearOwners {
				keys, err := s.OwnerKeys(ctx, owner)
				if err != nil || !slices.Equal(keys, []string{keyOf[owner]}) {
					t.Errorf("OwnerKeys(%q) = %v, %v; want only [%s]", owner, keys, err, keyOf[owner])
				}
			}
			for _, owner := range []string{strings.Repeat("a", 10<<10), "a\xff"} {
				if _, err := s.Save(ctx, "k"+randomHex(16), session.Record{Owner: owner, Expiry: now.Add(time.Hour)}); !errors.Is(err, session.ErrUnsupported) {
					t.Errorf("Save with owner %.10q: %v, want ErrUnsupported", owner, err)
				}
				if keys, err := s.OwnerKeys(ctx, owner); !errors.Is(err, session.ErrUnsupported) {
					t.Errorf("OwnerKeys(%.10q) = %v, %v; want ErrUnsupported", owner, keys, err)
				}
			}
		})
	}
}
