#!/usr/bin/env bash
# Cuts a release of every module of this repository at one version.
#
# Usage: ./scripts/release.sh [--dry-run] [--no-consumer] VERSION     (e.g. v0.1.0)
#
#  1. Refuses a dirty tree (modified or untracked files), an existing tag, a
#     version that is not vMAJOR.MINOR.PATCH[-PRE] (v0 or v1: v2 and later
#     need a /v2 module path), and a CHANGELOG.md without a "## VERSION" section.
#  2. Checks: gofmt, go vet ./... and go build ./... in every module of go.work.
#  3. Sets every nested module's requirement on the root module and on sibling
#     sessionkit modules to VERSION (go mod edit; their replace directives,
#     which only this checkout uses, stay), builds every module again, and
#     runs scripts/consumer.sh: outside go.work, a user's module gets the
#     modules at VERSION from a file-based proxy and runs the README example.
#  4. Commits the go.mod changes ("release VERSION") and tags that commit:
#     VERSION for the root module first, then <dir>/VERSION for each nested
#     module, dependencies before their dependents. It pushes nothing; it
#     prints the push command.
#
# --dry-run runs the checks and prints every change, commit and tag it would
# make, changing nothing (a dirty tree or an existing tag is reported, not
# fatal). --no-consumer skips step 3's consumer check.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$PATH:/usr/local/go/bin"

dry=0 consumer=1 version=
for arg in "$@"; do
  case $arg in
  --dry-run) dry=1 ;;
  --no-consumer) consumer=0 ;;
  -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  -*) echo "release.sh: unknown flag $arg" >&2; exit 2 ;;
  *) [ -z "$version" ] || { echo "release.sh: one VERSION only" >&2; exit 2; }; version=$arg ;;
  esac
done
[ -n "$version" ] || { echo "usage: scripts/release.sh [--dry-run] [--no-consumer] VERSION" >&2; exit 2; }

problems=0
problem() {
  if [ "$dry" = 1 ]; then
    echo "release: would refuse: $*" >&2
    problems=$((problems + 1))
  else
    echo "release.sh: $*" >&2
    exit 1
  fi
}
# do CMD...: runs CMD, or prints it under --dry-run.
do_() {
  if [ "$dry" = 1 ]; then
    echo "   (dry run)$(printf ' %q' "$@")"
  else
    echo "  $(printf ' %q' "$@")"
    "$@"
  fi
}

if ! [[ $version =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$ ]]; then
  echo "release.sh: $version is not a semantic version vMAJOR.MINOR.PATCH[-PRE]" >&2
  exit 2
fi
if [ "${BASH_REMATCH[1]}" -ge 2 ]; then
  echo "release.sh: $version needs module paths ending in /v${BASH_REMATCH[1]}; not supported" >&2
  exit 2
fi

root_path=github.com/sessionkit/session
nested=$(go work edit -json | sed -n 's/^.*"DiskPath": "\.\/\(.*\)".*$/\1/p')

# siblings DIR: the sessionkit modules DIR/go.mod requires (not replace lines).
siblings() {
  awk -v p="$root_path" '
    /=>/ { next }
    { for (i = 1; i < NF; i++) if ($i == p || index($i, p "/") == 1) print $i }
  ' "$1/go.mod" | sort -u
}

# Tag order: root, then nested modules after the sibling modules they require.
order=() done_list=" $root_path "
left=$nested
while [ -n "$left" ]; do
  next= progressed=0
  for dir in $left; do
    ready=1
    for dep in $(siblings "$dir"); do
      case $done_list in *" $dep "*) ;; *) ready=0 ;; esac
    done
    if [ "$ready" = 1 ]; then
      order+=("$dir") done_list="$done_list$root_path/$dir " progressed=1
    else
      next="$next $dir"
    fi
  done
  [ "$progressed" = 1 ] || { echo "release.sh: requirement cycle among:$next" >&2; exit 1; }
  left=${next# }
done
tags=("$version")
for dir in "${order[@]}"; do tags+=("$dir/$version"); done

echo "== release $version$([ "$dry" = 1 ] && echo ' (dry run)')"
echo "   modules: . ${order[*]}"

echo "== preconditions"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "release.sh: not a git work tree" >&2; exit 1; }
if [ -n "$(git status --porcelain)" ]; then
  problem "the tree is dirty (commit or remove these first):
$(git status --porcelain)"
fi
for tag in "${tags[@]}"; do
  if git rev-parse -q --verify "refs/tags/$tag" >/dev/null; then
    problem "tag $tag exists"
  fi
done
if ! grep -q "^## \[\{0,1\}$version\]\{0,1\}\( \|$\)" CHANGELOG.md 2>/dev/null; then
  problem "CHANGELOG.md has no \"## $version\" section"
fi

echo "== gofmt"
unformatted=$(git ls-files -z -- '*.go' ':!:**/testdata/**' | xargs -0 -r gofmt -l)
[ -z "$unformatted" ] || { echo "release.sh: not gofmt-formatted:" >&2; echo "$unformatted" >&2; exit 1; }

check_modules() {
  local dir
  for dir in . "${order[@]}"; do
    echo "== $dir: go vet, go build"
    (cd "$dir" && go vet ./... && go build ./...)
  done
}
check_modules

echo "== requirements on sessionkit modules -> $version"
changed=()
for dir in "${order[@]}"; do
  args=()
  for dep in $(siblings "$dir"); do
    args+=("-require=$dep@$version")
  done
  [ "${#args[@]}" -gt 0 ] || continue
  after=$(cd "$dir" && go mod edit "${args[@]}" -print)
  if [ "$after" = "$(cat "$dir/go.mod")" ]; then
    echo "   $dir/go.mod: already at $version"
    continue
  fi
  changed+=("$dir/go.mod")
  if [ "$dry" = 1 ]; then
    echo "   (dry run) $dir/go.mod:"
    printf '%s\n' "$after" | diff -u --label "a/$dir/go.mod" --label "b/$dir/go.mod" "$dir/go.mod" - | sed 's/^/      /' || true
  else
    (cd "$dir" && go mod edit "${args[@]}")
    echo "   $dir/go.mod"
  fi
done

if [ "$dry" = 0 ] && [ "${#changed[@]}" -gt 0 ]; then
  check_modules
fi
if [ "$consumer" = 1 ]; then
  if [ "$dry" = 1 ]; then
    echo "== (dry run) would run scripts/consumer.sh with the requirements at $version"
  else
    echo "== consumer check"
    "$root/scripts/consumer.sh"
  fi
fi

echo "== commit and tags"
if [ "${#changed[@]}" -gt 0 ]; then
  do_ git commit -q -m "release $version" -- "${changed[@]}"
fi
for dir in . "${order[@]}"; do
  if [ "$dir" = . ]; then tag=$version mod=$root_path; else tag=$dir/$version mod=$root_path/$dir; fi
  do_ git tag -a "$tag" -m "$mod $version"
done

if [ "$dry" = 1 ]; then
  if [ "$problems" -gt 0 ]; then
    echo "release: dry run done; $problems precondition(s) would refuse the release (above)"
    exit 1
  fi
  echo "release: dry run done; nothing changed"
else
  echo "release: tagged $(git rev-parse --short HEAD) as ${tags[*]}"
  echo "publish with (root tag first):"
  echo "   git push --atomic origin HEAD ${tags[*]}"
fi
