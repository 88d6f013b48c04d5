// A user's module: scripts/consumer.sh copies it outside go.work and adds
// its requirements with go get from a module proxy, as a user would.
module sessionkit-consumer

go 1.26.0
