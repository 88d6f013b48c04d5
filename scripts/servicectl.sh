#!/usr/bin/env bash
# servicectl.sh — stop, start or check ONE test server, for fault tests.
#
# Usage: scripts/servicectl.sh stop|start|restart|status SERVICE
#
#   SERVICE: mariadb (alias mysql) | postgres | redis | redis-replica |
#            redis-sentinel | redis-cluster | memcached | mongo
#
# The server keeps its data dir and port (same settings as scripts/services.sh,
# which must have run once: this script installs and builds nothing). `start`
# returns only when the server answers again (at most 60 s), `stop` only when
# its port is closed; both are no-ops when it is already in that state.
# `status` exits 0 if the server answers. Exits non-zero with a message on
# failure. Tests find this script through $SESSION_TEST_SERVICECTL.
# Notes: stopping "redis" (6379, the Sentinel master) does not fail over; a
# restarted Redis or memcached comes back empty (no persistence).

set -euo pipefail
exec 3>&1 1>&2

# shellcheck source-path=SCRIPTDIR source=lib-services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-services.sh"

usage() {
	sk_log "usage: $0 stop|start|restart|status mariadb|postgres|redis|redis-replica|redis-sentinel|redis-cluster|memcached|mongo"
	exit 2
}
(($# == 2)) || usage
action=$1
svc=$2
[[ $svc == mysql ]] && svc=mariadb

# status: does it answer? (no lock needed)
case $svc in
mariadb) status() { check_mariadb; } ;;
postgres) status() { check_postgres; } ;;
redis) status() { check_redis_port "$REDIS_PORT"; } ;;
redis-replica) status() { check_redis_port "$REDIS_REPLICA_PORT"; } ;;
redis-sentinel) status() { check_redis_sentinel; } ;;
redis-cluster) status() { check_redis_cluster; } ;;
memcached) status() { check_memcached; } ;;
mongo) status() { check_mongo; } ;;
*) usage ;;
esac

[[ $(id -u) == 0 ]] || sk_die "must run as root"

do_stop() {
	case $svc in
	mariadb) stop_mariadb ;;
	postgres) stop_postgres ;;
	redis) stop_redis ;;
	redis-replica) stop_redis_replica ;;
	redis-sentinel) stop_redis_sentinel ;;
	redis-cluster) stop_redis_cluster ;;
	memcached) stop_memcached ;;
	mongo) stop_mongo ;;
	esac
}

do_start() {
	case $svc in
	mariadb) ensure_mariadb ;;
	postgres) ensure_postgres ;;
	redis) ensure_redis ;;
	redis-replica | redis-sentinel) ensure_redis_sentinel ;;
	redis-cluster) ensure_redis_cluster ;;
	memcached) ensure_memcached ;;
	mongo) ensure_mongo ;;
	esac
}

case $action in
status)
	if status >/dev/null 2>&1; then
		sk_log "$svc: up"
	else
		sk_log "$svc: down"
		exit 1
	fi
	;;
stop)
	sk_lock
	do_stop
	;;
start)
	sk_lock
	do_start
	;;
restart)
	sk_lock
	do_stop
	do_start
	;;
*) usage ;;
esac
