package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sessionkit/session/cmd/internal/testenv"
)

// TestNoCredentialInOutput: whatever store URL it is given, with hostile
// passwords of every scheme, sessionctl never prints the password (or a
// piece of it) on stdout or stderr.
func TestNoCredentialInOutput(t *testing.T) {
	for _, h := range testenv.HostileURLs() {
		for _, cmd := range [][]string{{"stats"}, {"migrate"}, {"rm", "abc"}} {
			t.Run(cmd[0], func(t *testing.T) {
				t.Parallel()
				var out, errb bytes.Buffer
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				args := append([]string{"--store", h.URL, "--timeout", "1500ms"}, cmd...)
				runContext(ctx, args, &out, &errb)
				if h.Leaks(out.String()) || h.Leaks(errb.String()) {
					t.Errorf("sessionctl %s with store %s shows the password:\nstdout: %s\nstderr: %s", cmd[0], h.URL, out.String(), errb.String())
				}
			})
		}
	}
}
