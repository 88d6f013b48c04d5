#!/usr/bin/env bash
# servicectl.sh — stop, start or check ONE test server, for fault tests.
#
# Usage: scripts/servicectl.sh stop|start|restart|status|kill SERVICE
#
#   SERVICE: mariadb (alias mysql) | postgres | redis | redis-replica |
#            redis-sentinel | redis-cluster | memcached | mongo |
#            galera (the 3-node cluster) | galera-1 | galera-2 | galera-3 |
#            redis-replicated (the 6-node cluster with replicas) |
#            redis-replicated-PORT (one of its nodes, PORT 7100-7105)
#
# One cluster node: `stop` makes it leave cleanly (Galera: SIGTERM; Redis:
# SHUTDOWN NOSAVE), `kill` sends SIGKILL (a crash; only for one node), and
# `start` returns when it is back in its cluster: a Galera node Synced (it
# joins the others, or bootstraps a new cluster when none is up), a Redis
# node with cluster_state:ok and, when it came back as a replica (a killed
# master does, its replica having been promoted), its master link up.
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
	sk_log "usage: $0 stop|start|restart|status|kill mariadb|postgres|redis|redis-replica|redis-sentinel|redis-cluster|memcached|mongo|galera|galera-N|redis-replicated|redis-replicated-PORT"
	exit 2
}
(($# == 2)) || usage
action=$1
svc=$2
[[ $svc == mysql ]] && svc=mariadb

# one node of a cluster: galera-N, redis-replicated-PORT
node=
case $svc in
galera-*)
	node=${svc#galera-}
	[[ " ${GALERA_NODES[*]} " == *" $node "* ]] || usage
	svc=galera-node
	;;
redis-replicated-*)
	node=${svc#redis-replicated-}
	[[ " ${REDIS_REPLICATED_PORTS[*]} " == *" $node "* ]] || usage
	svc=redis-replicated-node
	;;
esac

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
galera) status() { check_galera; } ;;
galera-node) status() { check_galera_node "$node"; } ;;
redis-replicated) status() { check_redis_replicated; } ;;
redis-replicated-node) status() { check_redis_replicated_node "$node"; } ;;
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
	galera) stop_galera ;;
	galera-node) stop_galera_node "$node" ;;
	redis-replicated) stop_redis_replicated ;;
	redis-replicated-node) stop_redis_replicated_one "$node" ;;
	esac
}

do_kill() {
	case $svc in
	galera-node) kill_galera_node "$node" ;;
	redis-replicated-node) kill_redis_replicated_one "$node" ;;
	*) sk_die "kill: only one cluster node (galera-N, redis-replicated-PORT)" ;;
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
	galera) ensure_galera ;;
	galera-node) start_galera_one "$node" ;;
	redis-replicated) ensure_redis_replicated ;;
	redis-replicated-node) start_redis_replicated_one "$node" ;;
	esac
}

case $action in
status)
	if status >/dev/null 2>&1; then
		sk_log "$2: up"
	else
		sk_log "$2: down"
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
kill)
	sk_lock
	do_kill
	;;
restart)
	sk_lock
	do_stop
	do_start
	;;
*) usage ;;
esac
