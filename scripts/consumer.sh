#!/usr/bin/env bash
# Proves that sessionkit installs the way a user installs it: outside go.work,
# with every replace directive of this repository ignored, from a module proxy.
#
#  1. Reads the version that the nested go.mod files require of the root
#     module (they must all agree; scripts/release.sh sets it).
#  2. Writes every module of go.work, as the current working tree has it
#     (tracked and untracked files, not ignored ones), at that version into a
#     file-based module proxy, with golang.org/x/mod/zip (scripts/consumer/modzip).
#     No tag is needed: this works on a clean checkout.
#  3. In a temporary module outside the repository (GOWORK=off, its own module
#     cache), go gets the root module, sqlstore and redisstore at that version
#     through GOPROXY=file://PROXY,<the usual proxies>, then builds and runs
#     scripts/consumer/app: README.md's first example, served with memstore and
#     with sqlstore on SQLite, and checks what it prints.
#
# Usage: ./scripts/consumer.sh        (KEEP=1 keeps the temporary directory)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$PATH:/usr/local/go/bin"

root_path=github.com/sessionkit/session
nested=$(go work edit -json | sed -n 's/^.*"DiskPath": "\.\/\(.*\)".*$/\1/p')

# The version the nested modules require of the root and of each other.
version=
for dir in $nested; do
  vs=$(awk -v p="$root_path" '
    /=>/ { next }
    { for (i = 1; i < NF; i++) if ($i == p || index($i, p "/") == 1) print $(i+1) }
  ' "$dir/go.mod" | sort -u)
  for v in $vs; do
    if [ -z "$version" ]; then
      version=$v
    elif [ "$v" != "$version" ]; then
      echo "consumer.sh: $dir/go.mod requires sessionkit $v, others $version; run scripts/release.sh" >&2
      exit 1
    fi
  done
done
if [ -z "$version" ]; then
  echo "consumer.sh: no nested go.mod requires $root_path" >&2
  exit 1
fi
case $version in
v0.0.0-*) echo "consumer.sh: nested modules require pseudo-version $version, which no user can get" >&2; exit 1 ;;
esac
echo "consumer: nested modules require $root_path $version"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sessionkit-consumer.XXXXXX")
cleanup() {
  if [ "${KEEP:-}" = 1 ]; then
    echo "consumer: kept $tmp" >&2
  else
    chmod -R u+w "$tmp" 2>/dev/null || true
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT

# The usual proxy list, read rather than written down here, and the local
# module cache's download directory (itself in proxy layout) before it, so
# that third-party modules already downloaded need no network.
usual_proxy=$(GOWORK=off go env GOPROXY)
usual_cache=$(GOWORK=off go env GOMODCACHE)

git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "consumer.sh: needs a git checkout (the file list is git's)" >&2; exit 1; }
echo "consumer: building the module proxy in $tmp/proxy"
(cd scripts/consumer/modzip && GOWORK=off GOFLAGS=-mod=readonly go build -o "$tmp/modzip" .)
stamp=$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
# shellcheck disable=SC2086
git ls-files -z -co --exclude-standard |
  "$tmp/modzip" -repo "$root" -proxy "$tmp/proxy" -version "$version" -time "$stamp" . $nested |
  sed 's/^/   /'

mkdir -p "$tmp/consumer" "$tmp/modcache"
cp scripts/consumer/app/go.mod scripts/consumer/app/main.go "$tmp/consumer/"
cd "$tmp/consumer"

export GOWORK=off
export GOFLAGS="-mod=mod -modcacherw -trimpath"
export GOMODCACHE="$tmp/modcache"
export GOPROXY="file://$tmp/proxy,file://$usual_cache/cache/download,$usual_proxy"
export GOPRIVATE= GONOPROXY=
export GONOSUMDB=github.com/sessionkit
export GOTOOLCHAIN=local

# run CMD...: runs a go command, shows its output without the download
# lines, and shows all of it if it fails.
run() {
  if ! "$@" >"$tmp/log" 2>&1; then
    cat "$tmp/log" >&2
    echo "consumer.sh: failed: $*" >&2
    exit 1
  fi
  grep -v '^go: downloading' "$tmp/log" | sed 's/^/   /' || true
}

echo "consumer: go get $root_path, sqlstore, redisstore @$version (GOWORK=off, outside the repository)"
run go get "$root_path@$version" "$root_path/sqlstore@$version" "$root_path/redisstore@$version"
run go mod tidy

echo "consumer: sessionkit modules in the build list"
go list -m -f '{{.Path}} {{.Version}}{{with .Replace}} => {{.Path}} {{.Version}}{{end}}' all |
  grep "^$root_path" | sed 's/^/   /'
if go list -m -f '{{with .Replace}}{{.Path}}{{end}}' all | grep -q .; then
  echo "consumer.sh: the consumer's build list has a replacement" >&2
  exit 1
fi
for m in "$root_path" "$root_path/sqlstore" "$root_path/redisstore"; do
  got=$(go list -m -f '{{.Version}}' "$m")
  if [ "$got" != "$version" ]; then
    echo "consumer.sh: $m resolved to $got, want $version" >&2
    exit 1
  fi
done

echo "consumer: go vet, go build, run"
run go vet .
run go build -o consumer .
out=$(./consumer)
printf '%s\n' "$out" | sed 's/^/   /'
want='memstore: visit 1; visit 2; visit 3;
sqlstore: visit 1; visit 2; visit 3;
redisstore: ok'
if [ "$out" != "$want" ]; then
  echo "consumer.sh: unexpected output; want:" >&2
  printf '%s\n' "$want" >&2
  exit 1
fi
echo "consumer: ok ($root_path $version installs and runs outside go.work)"
