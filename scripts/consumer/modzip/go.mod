// A helper of scripts/consumer.sh, outside go.work and outside every
// sessionkit module (its own go.mod keeps it out of the root module's zip).
module github.com/sessionkit/session/scripts/consumer/modzip

go 1.26.0

require golang.org/x/mod v0.43.0
