#!/usr/bin/env bash
# The project's one test command.
#
# Starts (installing when missing) every server the tests need through
# scripts/services.sh, then runs gofmt, go vet and go test -race over every
# module listed in go.work. Nothing skips: services.sh exports every
# SESSION_TEST_* variable the tests read.
#
# Usage: ./scripts/test.sh [extra go test flags]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH 2>/dev/null || echo /root/go)/bin"

echo "== starting test services" >&2
services_env=$("$root/scripts/services.sh")
eval "$services_env"
printf '%s\n' "$services_env" | sed 's/^export /   /' >&2

modules=$(go list -m -f '{{.Dir}}')

echo "== gofmt" >&2
unformatted=$(find . -name '*.go' -not -path './.services/*' -not -path '*/testdata/*' -print0 | xargs -0 gofmt -l)
if [ -n "$unformatted" ]; then
  echo "not gofmt-formatted:" >&2
  echo "$unformatted" >&2
  exit 1
fi

status=0
for dir in $modules; do
  rel=${dir#"$root"}; rel=${rel#/}; rel=${rel:-.}
  echo "== $rel: go vet" >&2
  (cd "$dir" && go vet ./...) || status=1
  echo "== $rel: go test -race" >&2
  (cd "$dir" && go test -race -count=1 -timeout 20m "$@" ./...) || status=1
done

"$root/scripts/consumer.sh" || status=1 # outside go.work, from a module proxy

if [ -x "$root/scripts/fuzz.sh" ]; then
  echo "== fuzz (brief)" >&2
  "$root/scripts/fuzz.sh" || status=1
fi

if [ "$status" -ne 0 ]; then
  echo "FAIL: see the output above" >&2
fi
exit "$status"
