#!/usr/bin/env bash
# Runs every fuzz target of the repository briefly (FUZZTIME, default 10000
# executions each), on top of its committed corpus in testdata/fuzz/. Run by
# scripts/test.sh; run it alone with a larger FUZZTIME to fuzz for real:
#   FUZZTIME=5000000x ./scripts/fuzz.sh
# The default is a count, not a duration: with a duration, Go 1.26's fuzz
# coordinator can report a spurious "context deadline exceeded" when the time
# runs out under load (golang/go#75804, fixed in Go 1.27).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
fuzztime=${FUZZTIME:-10000x}
status=0
count=0
while IFS= read -r line; do
  file=${line%%:*}
  name=$(sed -E 's/^.*func (Fuzz[A-Za-z0-9_]*).*/\1/' <<<"${line#*:}")
  dir=$(dirname "$file")
  echo "-- fuzz $dir $name ($fuzztime)" >&2
  if ! (cd "$dir" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" . >/tmp/fuzz-$$.log 2>&1); then
    cat /tmp/fuzz-$$.log >&2
    status=1
  fi
  count=$((count + 1))
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . | grep -v '^./.services/' | sort)
rm -f /tmp/fuzz-$$.log
echo "fuzz: $count targets run for $fuzztime each" >&2
exit "$status"
