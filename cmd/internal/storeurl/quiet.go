package storeurl

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// silent discards go-redis' own log lines (Sentinel chatter on every
// connection), which would clutter the programs' output; errors still
// reach the caller.
type silent struct{}

func (silent) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(silent{}) }
