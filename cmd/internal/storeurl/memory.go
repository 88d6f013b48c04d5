package storeurl

import (
	"context"
	"fmt"
	"net/url"

	"github.com/sessionkit/session/memstore"
)

func init() { register(openMemory, nil, "memory", "mem") }

// openMemory opens an in-memory store ("memory:"), lost when the process
// ends.
func openMemory(_ context.Context, u *url.URL, p *params, _ Options) (*Target, error) {
	if u.Host != "" || (u.Path != "" && u.Path != "/") || u.Opaque != "" {
		return nil, fmt.Errorf("%w: memory: takes no address (write memory:)", ErrUsage)
	}
	s := memstore.New()
	t := &Target{Store: s, Where: "in memory (lost when the process exits)"}
	return p.finish(t)
}
