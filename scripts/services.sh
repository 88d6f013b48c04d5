#!/usr/bin/env bash
# services.sh — install (if missing) and start every test server on loopback,
# then print the connection settings for the tests.
#
# Usage (as root, Debian 12, no systemd/Docker needed):
#
#     eval "$(./scripts/services.sh)"
#     eval "$(SESSION_DURABLE=1 ./scripts/services.sh)"   # + the durable profile
#
# stdout carries only `export SESSION_TEST_...=...` lines; progress goes to
# stderr, and apt/server output to logs under <repo>/.services/ (git-ignored),
# where all state lives (data dirs, pid files, sockets, the built FerretDB).
#
# What it does, each step a no-op when already done (so a second run while the
# servers are up is quick and changes nothing):
#   1. one `apt-get update` + one `apt-get install` of whatever is missing of
#      mariadb-server, galera-4, rsync, postgresql, redis-server, memcached,
#      php-cli, php-mysql, php-sqlite3, php-mongodb (if apt has it) and
#      chromium;
#   2. builds internal/mongotest (FerretDB embedded, SQLite backend) through the
#      Go module proxy, in the background while apt runs;
#   3. starts, unless their port already answers: MariaDB :3306, PostgreSQL
#      :5432, Redis :6379 (+ replica :6380 and Sentinel :26379 for master
#      "mymaster"), a 3-node Redis Cluster :7000-7002, memcached :11211 and
#      FerretDB :27017; waits (at most 60 s each) until each one answers;
#      in the background meanwhile, two clusters: MariaDB Galera (3 nodes,
#      :3311-3313, run as user mysql) and a Redis Cluster with replicas (3
#      masters + 3 replicas, :7100-7105); it prints how long each took;
#   4. with SESSION_DURABLE=1 only, the durable profile for benchmarks: a
#      second MariaDB :3307 (innodb_flush_log_at_trx_commit=1, sync_binlog=1)
#      and a second PostgreSQL :5433 (fsync=on, synchronous_commit=on), both
#      with 32 MB caches; it checks that the settings are in effect;
#   5. prints the settings. Exits non-zero with a message if anything fails.
#
# Stopping/starting one server for fault tests: scripts/servicectl.sh.
# The start logic is shared with it in scripts/lib-services.sh.

set -euo pipefail

# Keep the real stdout on fd 3 for the export lines; everything else -> stderr.
exec 3>&1 1>&2

# shellcheck source-path=SCRIPTDIR source=lib-services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-services.sh"

[[ $(id -u) == 0 ]] || sk_die "must run as root (installs packages, runs servers as root/postgres)"

# SESSION_DURABLE=1: also the durable profile (step 4).
durable=
case ${SESSION_DURABLE:-} in
'' | 0) ;;
1) durable=1 ;;
*) sk_die "SESSION_DURABLE must be 1 (start the durable profile) or unset, not '$SESSION_DURABLE'" ;;
esac

sk_lock
t0=$SECONDS

# FerretDB wrapper: compile in the background while apt works.
build_pid=
if mongo_needs_build; then
	sk_log "mongo: building $MG_BIN from internal/mongotest in the background (log: $MG_DIR/build.log)"
	mongo_build &
	build_pid=$!
fi

sk_install_missing

# The two clusters start in the background, in parallel with each other and
# with the single servers below: their start is mostly waiting (SST, cluster
# creation, replica links).
cluster_start() {
	local name=$1 t=$SECONDS
	shift
	"$@"
	sk_log "$name: ready, took $((SECONDS - t))s"
}
cluster_start galera ensure_galera &
galera_job=$!
cluster_start redis-replicated ensure_redis_replicated &
redis_replicated_job=$!

ensure_mariadb
ensure_postgres
ensure_redis
ensure_redis_sentinel
ensure_redis_cluster
ensure_memcached

if [[ -n $durable ]]; then
	ensure_mariadb_durable
	ensure_postgres_durable
fi

if [[ -n $build_pid ]]; then
	if ! wait "$build_pid"; then
		tail -n 30 "$MG_DIR/build.log" >&2 || true
		sk_die "mongo: go build of internal/mongotest failed; see $MG_DIR/build.log"
	fi
	sk_log "mongo: built $MG_BIN"
	# a server of ours running the previous binary: restart it on the new one
	if sk_pid_alive "$MG_PID"; then
		stop_mongo
	fi
fi
ensure_mongo

wait "$galera_job" || sk_die "galera: the cluster did not start (see above)"
wait "$redis_replicated_job" || sk_die "redis-replicated: the cluster did not start (see above)"

# PHP (the PHP codec's oracle) and Chromium (browser tests): installed above.
PHP=/usr/bin/php
[[ -x $PHP ]] || sk_die "php: $PHP missing after install"
php_mods=$("$PHP" -m)
for m in pdo_mysql pdo_sqlite; do
	grep -qx "$m" <<<"$php_mods" || sk_die "php: extension $m not loaded (package php-mysql / php-sqlite3)"
done
php_mongodb=
grep -qx mongodb <<<"$php_mods" && php_mongodb=1
sk_log "php: $("$PHP" -r 'echo PHP_VERSION;') with pdo_mysql, pdo_sqlite${php_mongodb:+, mongodb}"
CHROMIUM=/usr/bin/chromium
[[ -x $CHROMIUM ]] || sk_die "chromium: $CHROMIUM missing after install"

sk_log "all services up in $((SECONDS - t0))s"

# --------------------------------------------------------------------------
# settings, on the real stdout

emit() {
	local v=${2//\'/\'\\\'\'}
	printf "export %s='%s'\n" "$1" "$v" >&3
}
cluster_addrs=$(printf '127.0.0.1:%s,' "${REDIS_CLUSTER_PORTS[@]}")
replicated_addrs=$(printf '127.0.0.1:%s,' "${REDIS_REPLICATED_PORTS[@]}")
galera_dsns=
for n in "${GALERA_NODES[@]}"; do
	galera_dsns+="${galera_dsns:+,}root@tcp(127.0.0.1:$(galera_port "$n"))/sessionkit?parseTime=true"
done

emit SESSION_TEST_SERVICES_DIR "$SK_DIR"
emit SESSION_TEST_SERVICECTL "$SK_REPO/scripts/servicectl.sh"
emit SESSION_TEST_MYSQL_DSN "root@tcp(127.0.0.1:$MYSQL_PORT)/sessionkit?parseTime=true"
emit SESSION_TEST_POSTGRES_DSN "postgres://postgres@127.0.0.1:$PG_PORT/sessionkit?sslmode=disable"
if [[ -n $durable ]]; then
	emit SESSION_TEST_MYSQL_DURABLE_DSN "root@tcp(127.0.0.1:$MYSQL_DURABLE_PORT)/sessionkit?parseTime=true"
	emit SESSION_TEST_POSTGRES_DURABLE_DSN "postgres://postgres@127.0.0.1:$PG_DURABLE_PORT/sessionkit?sslmode=disable"
fi
emit SESSION_TEST_REDIS_ADDR "127.0.0.1:$REDIS_PORT"
emit SESSION_TEST_REDIS_CLUSTER_ADDRS "${cluster_addrs%,}"
emit SESSION_TEST_REDIS_REPLICATED_ADDRS "${replicated_addrs%,}"
emit SESSION_TEST_GALERA_DSNS "$galera_dsns"
emit SESSION_TEST_REDIS_SENTINEL_ADDRS "127.0.0.1:$REDIS_SENTINEL_PORT"
emit SESSION_TEST_REDIS_SENTINEL_MASTER "$REDIS_SENTINEL_MASTER"
emit SESSION_TEST_MEMCACHED_ADDR "127.0.0.1:$MEMCACHED_PORT"
emit SESSION_TEST_MONGO_URI "mongodb://127.0.0.1:$MONGO_PORT"
emit SESSION_TEST_PHP "$PHP"
[[ -n $php_mongodb ]] && emit SESSION_TEST_PHP_MONGODB 1
emit SESSION_TEST_CHROMIUM "$CHROMIUM"
