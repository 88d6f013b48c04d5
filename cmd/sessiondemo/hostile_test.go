package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sessionkit/session/cmd/internal/testenv"
)

// TestNoCredentialInOutput: whatever store URL it is started with, with
// hostile passwords of every scheme, the demo never prints the password
// (or a piece of it) on stdout or stderr.
func TestNoCredentialInOutput(t *testing.T) {
	for _, h := range testenv.HostileURLs() {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			run(ctx, []string{"-addr", "127.0.0.1:0", "-gc-interval", "0", "-store", h.URL}, &out, &errb)
			if h.Leaks(out.String()) || h.Leaks(errb.String()) {
				t.Errorf("sessiondemo -store %s shows the password:\nstdout: %s\nstderr: %s", h.URL, out.String(), errb.String())
			}
		})
	}
}
