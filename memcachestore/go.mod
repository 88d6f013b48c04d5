module github.com/sessionkit/session/memcachestore

go 1.26.0

require (
	github.com/bradfitz/gomemcache v0.0.0-20260422231931-4d751bb6e37c
	github.com/sessionkit/session v0.1.0
)

// Local development: build the sessionkit modules from this checkout.
// Users of a tagged release ignore these lines (scripts/consumer.sh).
replace github.com/sessionkit/session => ../
