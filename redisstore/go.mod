module github.com/sessionkit/session/redisstore

go 1.26.0

require (
	github.com/redis/go-redis/v9 v9.23.0
	github.com/sessionkit/session v0.1.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

// Local development: build the sessionkit modules from this checkout.
// Users of a tagged release ignore these lines (scripts/consumer.sh).
replace github.com/sessionkit/session => ../
