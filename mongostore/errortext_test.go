package mongostore_test

import (
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/mongostore"
)

// TestErrorsNameNoKey: with raw IDs a store key is a session ID, so no
// error names a document by its _id: a corrupt document is named by a
// short hash of its key.
func TestErrorsNameNoKey(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	s := e.store(t, mongostore.Options{})
	key := "raw" + randomHex(16)
	if _, err := e.coll.InsertOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "data", Value: int32(7)}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	_, loadErr := s.Load(ctx, key)
	_, saveErr := s.Save(ctx, key, session.Record{Data: []byte("x"), Expiry: now.Add(time.Hour)})
	for op, err := range map[string]error{"Load": loadErr, "Save": saveErr} {
		switch {
		case err == nil:
			t.Errorf("%s of a corrupt document: no error", op)
		case strings.Contains(err.Error(), key):
			t.Errorf("%s: error names the key: %v", op, err)
		}
	}
	if !strings.Contains(loadErr.Error(), "sha256:") {
		t.Errorf("Load: error does not name the record by its hash: %v", loadErr)
	}
}
