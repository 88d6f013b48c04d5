package storeurl

import (
	"context"
	"testing"
	"time"

	"github.com/sessionkit/session/cmd/internal/testenv"
)

// TestNoCredentialInErrors: for store URLs of every scheme with hostile
// passwords (unencoded '#', '/', '?', '@', percent signs, passwords in
// query parameters), neither Open's error, nor Redact, nor the Target's
// Where shows the password or any piece of it.
func TestNoCredentialInErrors(t *testing.T) {
	for _, h := range testenv.HostileURLs() {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			tgt, err := Open(ctx, h.URL, Options{ReadOnly: true})
			if err != nil && h.Leaks(err.Error()) {
				t.Errorf("Open(%s): the error shows the password: %v", h.URL, err)
			}
			if err == nil {
				if h.Leaks(tgt.Where) {
					t.Errorf("Open(%s): Where shows the password: %s", h.URL, tgt.Where)
				}
				tgt.Close()
			}
			if r := Redact(h.URL); h.Leaks(r) {
				t.Errorf("Redact(%s) = %s", h.URL, r)
			}
		})
	}
}
