# shellcheck shell=bash
# lib-services.sh — shared functions for the sessionkit test servers.
#
# Sourced by scripts/services.sh (install + start everything, print settings)
# and scripts/servicectl.sh (stop/start one server for fault tests). It is not
# meant to be run on its own. Everything runs as root on Debian 12 without
# systemd: servers are started directly as daemons on 127.0.0.1, and all
# state (data dirs, logs, pid files, sockets) lives under <repo>/.services/,
# which is git-ignored. Layout:
#
#   .services/lock                 flock(1) lock serialising services.sh/servicectl.sh
#   .services/apt.log              apt-get output
#   .services/run/                 unix sockets (MariaDB)
#   .services/bin/mongotest        FerretDB wrapper built from internal/mongotest
#   .services/mariadb/             my.cnf, data/, mariadbd.log, mariadbd.pid
#   .services/postgres/            data/, postgres.log   (owned by user postgres)
#   .services/redis/               single (6379), replica (6380), sentinel (26379)
#   .services/redis/cluster/       nodes 7000-7002 with nodes-700X.conf
#   .services/redis/replicated/    nodes 7100-7105 (3 masters + 3 replicas)
#   .services/galera/nodeN/        Galera node N (1-3): my.cnf, data/, mariadbd.log
#                                  (owned by user mysql; sockets in run/galeraN/)
#   .services/memcached/           memcached.pid
#   .services/mongo/               data/ (SQLite files), mongotest.log, mongotest.pid
#   .services/mariadb-durable/     the durable MariaDB (3307): my.cnf, data/, mariadbd.log
#   .services/postgres-durable/    the durable PostgreSQL (5433): data/, postgres.log
#                                  (both only with SESSION_DURABLE=1 services.sh)
#
# Conventions: sk_* are helpers, ensure_* install nothing but start a server
# if its port is closed (no-op when it already answers), start_*/stop_* are
# used by servicectl.sh, check_* test that a server answers. Every server is
# launched through sk_run/sk_spawn: stdin /dev/null, output to a log, every other fd
# closed (services.sh's real stdout on fd 3, the lock on fd 9, anything the
# caller passed down), so no server keeps a caller's pipe or the lock open.

SK_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SK_DIR=$SK_REPO/.services
SK_HASH=$(printf '%s' "$SK_REPO" | md5sum | cut -c1-8)

# unix socket paths are limited to ~107 bytes; fall back to /tmp for deep clones.
if (( ${#SK_DIR} < 80 )); then
	SK_RUN=$SK_DIR/run
else
	SK_RUN=/tmp/sessionkit-run-$SK_HASH
fi

SK_WAIT=${SK_WAIT:-60} # seconds to wait for a server to answer

MYSQL_PORT=3306
PG_PORT=5432
REDIS_PORT=6379
REDIS_REPLICA_PORT=6380
REDIS_SENTINEL_PORT=26379
REDIS_SENTINEL_MASTER=mymaster
REDIS_CLUSTER_PORTS=(7000 7001 7002)
REDIS_REPLICATED_PORTS=(7100 7101 7102 7103 7104 7105)
GALERA_NODES=(1 2 3) # node N: SQL 331N, gcomm 457N, IST 458N, SST (rsync) 459N
GALERA_PROVIDER=/usr/lib/galera/libgalera_smm.so
MEMCACHED_PORT=11211
MONGO_PORT=27017
MYSQL_DURABLE_PORT=3307 # the durable profile (SESSION_DURABLE=1)
PG_DURABLE_PORT=5433

export PATH=$PATH:/usr/local/go/bin:/usr/local/sbin:/usr/sbin:/sbin

# --------------------------------------------------------------------------
# generic helpers

sk_log() { printf '[services] %s\n' "$*" >&2; }
sk_die() {
	printf '[services] ERROR: %s\n' "$*" >&2
	exit 1
}

# sk_lock: serialise concurrent runs (services.sh, servicectl.sh) on fd 9.
sk_lock() {
	mkdir -p "$SK_DIR" "$SK_RUN"
	exec 9>>"$SK_DIR/lock"
	if ! flock -w 900 9; then
		sk_die "could not take $SK_DIR/lock within 15 minutes (another services.sh running?)"
	fi
}

# sk_closefds: close every fd above 2 of the current (sub)shell.
sk_closefds() {
	local fd
	for fd in "/proc/$BASHPID/fd/"*; do
		fd=${fd##*/}
		if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then
			eval "exec $fd>&-" 2>/dev/null || true
		fi
	done
}

# sk_run LOG CMD...: run CMD in the foreground with stdin /dev/null,
# stdout+stderr appended to LOG and all fds above 2 closed. CMD may be a
# shell function.
sk_run() {
	local log=$1
	shift
	(
		sk_closefds
		if declare -F "$1" >/dev/null; then
			"$@"
		else
			exec "$@"
		fi
	) >>"$log" 2>&1 </dev/null
}

# sk_spawn LOG CMD...: start CMD (a server that does not daemonize itself)
# in the background in its own session, like sk_run. The background subshell
# execs CMD, so no bash process stays behind holding fds (the lock).
sk_spawn() {
	local log=$1
	shift
	(
		sk_closefds
		exec setsid "$@"
	) >>"$log" 2>&1 </dev/null &
}

# sk_port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
sk_port_open() {
	timeout 2 bash -c "exec 4<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# sk_wait NAME LOGFILE CMD...: poll CMD every 0.25 s for up to $SK_WAIT s;
# on timeout print the log's tail and exit non-zero.
sk_wait() {
	local name=$1 log=$2
	shift 2
	local deadline=$((SECONDS + SK_WAIT))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			if [[ -n $log && -f $log ]]; then
				sk_log "---- last lines of $log ----"
				tail -n 30 "$log" >&2 || true
			fi
			sk_die "$name did not answer within ${SK_WAIT}s"
		fi
		sleep 0.25
	done
}

# sk_wait_port_closed NAME PORT: wait until nothing listens on PORT.
sk_wait_port_closed() {
	local deadline=$((SECONDS + SK_WAIT))
	while sk_port_open "$2"; do
		((SECONDS < deadline)) || sk_die "$1 still listening on port $2 after ${SK_WAIT}s"
		sleep 0.25
	done
}

# sk_write_if_changed FILE: write stdin to FILE only if the content differs.
sk_write_if_changed() {
	local tmp
	tmp=$(mktemp "$1.XXXXXX")
	cat >"$tmp"
	if [[ -f $1 ]] && cmp -s "$tmp" "$1"; then
		rm -f "$tmp"
	else
		mv -f "$tmp" "$1"
		chmod 644 "$1"
	fi
}

# sk_pid_alive PIDFILE: the pid in PIDFILE is a running process.
sk_pid_alive() {
	local pid
	[[ -s $1 ]] || return 1
	pid=$(<"$1")
	[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# sk_kill_pidfile NAME PIDFILE PORT: SIGTERM the pid in PIDFILE, wait for it
# to exit (SIGKILL after $SK_WAIT s) and for PORT to close.
sk_kill_pidfile() {
	local name=$1 pidfile=$2 port=$3 pid
	if ! sk_pid_alive "$pidfile"; then
		if sk_port_open "$port"; then
			sk_die "$name: port $port is open but $pidfile names no live process (not started by these scripts?)"
		fi
		sk_log "$name: not running"
		return 0
	fi
	pid=$(<"$pidfile")
	kill -TERM "$pid"
	local deadline=$((SECONDS + SK_WAIT))
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			sk_log "$name: pid $pid ignored SIGTERM, sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.5
			break
		fi
		sleep 0.1
	done
	rm -f "$pidfile"
	sk_wait_port_closed "$name" "$port"
	sk_log "$name: stopped"
}

# sk_kill9_pidfile NAME PIDFILE PORT: SIGKILL the pid in PIDFILE (a crash:
# no shutdown work) and wait for PORT to close.
sk_kill9_pidfile() {
	local name=$1 pidfile=$2 port=$3 pid
	if ! sk_pid_alive "$pidfile"; then
		sk_port_open "$port" && sk_die "$name: port $port is open but $pidfile names no live process (not started by these scripts?)"
		sk_log "$name: not running"
		return 0
	fi
	pid=$(<"$pidfile")
	kill -KILL "$pid"
	local deadline=$((SECONDS + SK_WAIT))
	while kill -0 "$pid" 2>/dev/null; do
		((SECONDS < deadline)) || sk_die "$name: pid $pid still alive ${SK_WAIT}s after SIGKILL"
		sleep 0.05
	done
	sk_wait_port_closed "$name" "$port"
	sk_log "$name: killed (SIGKILL)"
}

# --------------------------------------------------------------------------
# packages

# sk_install_missing: collect every missing Debian package, then run
# apt-get update + one apt-get install for all of them. A no-op (no apt at
# all) when everything is present. Services are prevented from being started
# by their maintainer scripts (policy-rc.d) since we start our own instances.
sk_install_missing() {
	local -a want=() optional=()
	command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null &&
		command -v mariadb >/dev/null || want+=(mariadb-server mariadb-client)
	sk_pg_bin >/dev/null || want+=(postgresql)
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null || want+=(redis-server redis-tools)
	command -v memcached >/dev/null || want+=(memcached)
	if [[ -x /usr/bin/php ]]; then
		local mods
		mods=$(/usr/bin/php -m 2>/dev/null || true)
		grep -qx pdo_mysql <<<"$mods" || want+=(php-mysql)
		grep -qx pdo_sqlite <<<"$mods" || want+=(php-sqlite3)
		grep -qx mongodb <<<"$mods" || optional+=(php-mongodb)
	else
		want+=(php-cli php-mysql php-sqlite3)
		optional+=(php-mongodb)
	fi
	[[ -x /usr/bin/chromium ]] || want+=(chromium)
	[[ -f $GALERA_PROVIDER ]] || want+=(galera-4)
	command -v rsync >/dev/null || want+=(rsync)

	# php-mongodb is optional: only ask apt when something else is missing
	# too or when we have never looked (marker), so a re-run stays apt-free.
	if ((${#want[@]} == 0)) && ((${#optional[@]} > 0)) && [[ -f $SK_DIR/.php-mongodb-unavailable ]]; then
		optional=()
	fi
	if ((${#want[@]} == 0 && ${#optional[@]} == 0)); then
		sk_log "packages: all present"
		return 0
	fi

	local log=$SK_DIR/apt.log
	export DEBIAN_FRONTEND=noninteractive
	sk_log "packages: apt-get update (log: $log)"
	if ! apt-get -o DPkg::Lock::Timeout=600 update >>"$log" 2>&1; then
		tail -n 20 "$log" >&2
		sk_die "apt-get update failed"
	fi
	local p
	for p in "${optional[@]}"; do
		if [[ -n $(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ && $2 != "(none)" {print $2}') ]]; then
			want+=("$p")
			rm -f "$SK_DIR/.php-mongodb-unavailable"
		else
			sk_log "packages: optional $p has no candidate in apt, skipping"
			[[ $p == php-mongodb ]] && touch "$SK_DIR/.php-mongodb-unavailable"
		fi
	done
	((${#want[@]} > 0)) || return 0

	# Keep maintainer scripts from starting the distribution's own instances
	# (they would take our ports); only if no policy is in place already.
	local policy_created=
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\n# temporary, created by sessionkit scripts/lib-services.sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		policy_created=1
	fi
	sk_log "packages: installing ${want[*]}"
	local rc=0
	apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${want[@]}" >>"$log" 2>&1 </dev/null || rc=$?
	[[ -n $policy_created ]] && rm -f /usr/sbin/policy-rc.d
	if ((rc != 0)); then
		tail -n 30 "$log" >&2
		sk_die "apt-get install ${want[*]} failed (exit $rc); see $log"
	fi
	sk_log "packages: installed"
}

# --------------------------------------------------------------------------
# MariaDB: mariadbd --user=root with its own datadir, TCP 127.0.0.1:3306.

MY_DIR=$SK_DIR/mariadb
MY_CNF=$MY_DIR/my.cnf
MY_DATA=$MY_DIR/data
MY_LOG=$MY_DIR/mariadbd.log
MY_PID=$MY_DIR/mariadbd.pid
MY_SOCK=$SK_RUN/mysqld.sock
MY_NAME=mariadb
# Test server: commits flushed once a second, not at each commit.
MY_TUNING='innodb_buffer_pool_size = 128M
innodb_flush_log_at_trx_commit = 2
max_connections = 300'

# MariaDB client over TCP as root, ignoring /etc/mysql (its socket paths).
sk_mysql_tcp() { mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$MYSQL_PORT" -uroot --connect-timeout=3 "$@"; }
sk_mysql_sock() { mariadb --no-defaults --protocol=socket --socket="$MY_SOCK" -uroot --connect-timeout=3 "$@"; }

check_mariadb() { sk_mysql_tcp -N -e 'select 1' sessionkit; }

mariadb_config() {
	mkdir -p "$MY_DIR" "$SK_RUN"
	# No sql_mode here: MariaDB's default (STRICT_TRANS_TABLES, ...) is wanted.
	sk_write_if_changed "$MY_CNF" <<-EOF
		# generated by scripts/lib-services.sh ($MY_NAME)
		[mysqld]
		user = root
		datadir = $MY_DATA
		socket = $MY_SOCK
		pid-file = $MY_PID
		log-error = $MY_LOG
		port = $MYSQL_PORT
		bind-address = 127.0.0.1
		skip-name-resolve
		character-set-server = utf8mb4
		collation-server = utf8mb4_general_ci
		$MY_TUNING
		[client]
		socket = $MY_SOCK
	EOF
}

start_mariadb() {
	mariadb_config
	if [[ ! -d $MY_DATA/mysql ]]; then
		sk_log "$MY_NAME: initialising $MY_DATA"
		rm -rf "$MY_DATA" "$MY_DATA.tmp"
		mkdir -p "$MY_DATA.tmp"
		if ! sk_run "$MY_DIR/install-db.log" mariadb-install-db --defaults-file="$MY_CNF" \
			--datadir="$MY_DATA.tmp" --auth-root-authentication-method=normal --skip-test-db; then
			tail -n 30 "$MY_DIR/install-db.log" >&2
			sk_die "$MY_NAME: mariadb-install-db failed; see $MY_DIR/install-db.log"
		fi
		mv "$MY_DATA.tmp" "$MY_DATA"
	fi
	sk_log "$MY_NAME: starting on 127.0.0.1:$MYSQL_PORT"
	sk_spawn "$MY_LOG" mariadbd --defaults-file="$MY_CNF"
	sk_wait "$MY_NAME" "$MY_LOG" sk_mysql_sock -N -e 'select 1'
	sk_wait "$MY_NAME" "$MY_LOG" sk_port_open "$MYSQL_PORT"
	mariadb_setup
	sk_wait "$MY_NAME" "$MY_LOG" check_mariadb
}

# mariadb_setup: root may log in over TCP without a password (the Debian
# default, unix_socket only, is refused for a Go client) and the sessionkit
# database exists. Runs over the unix socket, as the OS user root.
mariadb_setup() {
	sk_mysql_sock <<-'EOF'
		CREATE USER IF NOT EXISTS 'root'@'localhost';
		CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
		CREATE USER IF NOT EXISTS 'root'@'::1';
		ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
		ALTER USER 'root'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
		ALTER USER 'root'@'::1' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
		GRANT ALL PRIVILEGES ON *.* TO 'root'@'localhost' WITH GRANT OPTION;
		GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
		GRANT ALL PRIVILEGES ON *.* TO 'root'@'::1' WITH GRANT OPTION;
		FLUSH PRIVILEGES;
		CREATE DATABASE IF NOT EXISTS sessionkit CHARACTER SET utf8mb4;
	EOF
}

ensure_mariadb() {
	if sk_port_open "$MYSQL_PORT"; then
		check_mariadb >/dev/null 2>&1 && { sk_log "mariadb: up (already running)"; return 0; }
		# ours but not set up yet (e.g. an earlier run was interrupted)?
		if [[ -S $MY_SOCK ]] && sk_mysql_sock -e 'select 1' >/dev/null 2>&1; then
			mariadb_setup
			check_mariadb >/dev/null 2>&1 && { sk_log "mariadb: up (fixed root login)"; return 0; }
		fi
		sk_die "mariadb: port $MYSQL_PORT is taken, but 'root@tcp(127.0.0.1:$MYSQL_PORT)/sessionkit' without password does not work (a foreign server? stop it first)"
	fi
	start_mariadb
	sk_log "mariadb: up"
}

stop_mariadb() { sk_kill_pidfile "$MY_NAME" "$MY_PID" "$MYSQL_PORT"; }

# --------------------------------------------------------------------------
# PostgreSQL: initdb + pg_ctl as user postgres, TCP only, trust auth.

# sk_pg_bin: the newest /usr/lib/postgresql/<ver>/bin with initdb.
sk_pg_bin() {
	local d
	# shellcheck disable=SC2012 # version dirs are plain numbers
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[[ -n $d && -x $d/initdb && -x $d/pg_ctl ]] || return 1
	printf '%s\n' "$d"
}

# The postgres user must be able to reach its datadir. Under the repo when
# every parent directory is searchable by it, else in postgres's home.
pg_paths() {
	[[ -n ${PG_DIR:-} ]] && return 0
	PG_DIR=$SK_DIR/postgres
	if id postgres >/dev/null 2>&1; then
		mkdir -p "$SK_DIR"
		if ! (cd / && runuser -u postgres -- test -x "$SK_DIR"); then
			local home
			home=$(getent passwd postgres | cut -d: -f6)
			PG_DIR=${home:-/var/lib/postgresql}/sessionkit-$SK_HASH
		fi
	fi
	PG_DATA=$PG_DIR/data
	PG_LOG=$PG_DIR/postgres.log
}

PG_NAME=postgres
# Test server: durability off for speed.
PG_TUNING='max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off'
PG_INITDB_NOSYNC=--no-sync

sk_psql() {
	local bin
	bin=$(sk_pg_bin)
	PGCONNECT_TIMEOUT=3 "$bin/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"
}

check_postgres() { sk_psql -d sessionkit -Atc 'select 1'; }

pg_as_postgres() { (cd / && runuser -u postgres -- "$@"); }

start_postgres() {
	local bin
	bin=$(sk_pg_bin) || sk_die "$PG_NAME: no /usr/lib/postgresql/*/bin/initdb (package postgresql missing?)"
	pg_paths
	id postgres >/dev/null 2>&1 || sk_die "$PG_NAME: no OS user 'postgres' (package postgresql missing?)"
	mkdir -p "$PG_DIR"
	chown postgres:postgres "$PG_DIR"
	if [[ ! -f $PG_DATA/PG_VERSION ]]; then
		sk_log "$PG_NAME: initialising $PG_DATA"
		rm -rf "$PG_DATA" "$PG_DATA.tmp"
		install -d -o postgres -g postgres -m 700 "$PG_DATA.tmp"
		if ! sk_run "$PG_DIR/initdb.log" pg_as_postgres "$bin/initdb" -D "$PG_DATA.tmp" \
			-U postgres -A trust -E UTF8 --no-locale ${PG_INITDB_NOSYNC:+"$PG_INITDB_NOSYNC"}; then
			tail -n 30 "$PG_DIR/initdb.log" >&2
			sk_die "$PG_NAME: initdb failed; see $PG_DIR/initdb.log"
		fi
		# TCP on loopback only, and the instance's tuning.
		cat >>"$PG_DATA.tmp/postgresql.conf" <<-EOF

			# added by sessionkit scripts/lib-services.sh ($PG_NAME)
			listen_addresses = '127.0.0.1'
			port = $PG_PORT
			unix_socket_directories = ''
			$PG_TUNING
		EOF
		mv "$PG_DATA.tmp" "$PG_DATA"
	fi
	# A stale postmaster.pid from a killed server whose pid was reused would
	# make postgres refuse to start.
	if [[ -f $PG_DATA/postmaster.pid ]]; then
		local pid
		pid=$(head -n 1 "$PG_DATA/postmaster.pid")
		if ! [[ $pid =~ ^[0-9]+$ ]] || ! grep -q postgres "/proc/$pid/comm" 2>/dev/null; then
			rm -f "$PG_DATA/postmaster.pid"
		fi
	fi
	sk_log "$PG_NAME: starting on 127.0.0.1:$PG_PORT"
	touch "$PG_LOG" && chown postgres:postgres "$PG_LOG"
	if ! sk_run "$PG_DIR/pg_ctl.log" pg_as_postgres "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$SK_WAIT" start; then
		tail -n 30 "$PG_LOG" >&2
		sk_die "$PG_NAME: pg_ctl start failed; see $PG_LOG"
	fi
	sk_wait "$PG_NAME" "$PG_LOG" sk_psql -d postgres -Atc 'select 1'
	postgres_setup
	sk_wait "$PG_NAME" "$PG_LOG" check_postgres
}

postgres_setup() {
	if [[ -z $(sk_psql -d postgres -Atc "select 1 from pg_database where datname = 'sessionkit'") ]]; then
		sk_psql -d postgres -c 'CREATE DATABASE sessionkit' >/dev/null
	fi
}

ensure_postgres() {
	if sk_port_open "$PG_PORT"; then
		check_postgres >/dev/null 2>&1 && { sk_log "postgres: up (already running)"; return 0; }
		if sk_psql -d postgres -Atc 'select 1' >/dev/null 2>&1; then
			postgres_setup
			sk_log "postgres: up (created database sessionkit)"
			return 0
		fi
		sk_die "postgres: port $PG_PORT is taken, but user postgres cannot log in without password over TCP (a foreign server? stop it first)"
	fi
	start_postgres
	sk_log "postgres: up"
}

stop_postgres() {
	local bin
	bin=$(sk_pg_bin) || sk_die "$PG_NAME: not installed"
	pg_paths
	if [[ ! -f $PG_DATA/postmaster.pid ]]; then
		sk_port_open "$PG_PORT" && sk_die "$PG_NAME: port $PG_PORT is open but $PG_DATA has no postmaster.pid (not started by these scripts?)"
		sk_log "$PG_NAME: not running"
		return 0
	fi
	sk_run "$PG_DIR/pg_ctl.log" pg_as_postgres "$bin/pg_ctl" -D "$PG_DATA" -m fast -w -t "$SK_WAIT" stop ||
		sk_die "$PG_NAME: pg_ctl stop failed; see $PG_DIR/pg_ctl.log"
	sk_wait_port_closed "$PG_NAME" "$PG_PORT"
	sk_log "$PG_NAME: stopped"
}

# --------------------------------------------------------------------------
# Redis: single server, replica + sentinel, 3-node cluster. No persistence.

R_DIR=$SK_DIR/redis
RC_DIR=$R_DIR/cluster

sk_redis_cli() { timeout 5 redis-cli -h 127.0.0.1 "$@"; }

# redis_start_instance NAME PORT DIR [extra redis-server args...]
redis_start_instance() {
	local name=$1 port=$2 dir=$3
	shift 3
	mkdir -p "$dir"
	sk_log "$name: starting on 127.0.0.1:$port"
	sk_run "$dir/redis-$port.log" redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --dir "$dir" \
		--pidfile "$dir/redis-$port.pid" --logfile "$dir/redis-$port.log" \
		--save '' --appendonly no "$@" ||
		sk_die "$name: redis-server failed to start; see $dir/redis-$port.log"
	sk_wait "$name" "$dir/redis-$port.log" check_redis_port "$port"
}

check_redis_port() { [[ $(sk_redis_cli -p "$1" ping 2>/dev/null) == PONG ]]; }

# redis_stop_instance NAME PORT: SHUTDOWN NOSAVE and wait for the port to close.
redis_stop_instance() {
	local name=$1 port=$2
	if ! sk_port_open "$port"; then
		sk_log "$name: not running"
		return 0
	fi
	sk_redis_cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
	sk_wait_port_closed "$name" "$port"
	sk_log "$name: stopped"
}

start_redis() { redis_start_instance redis "$REDIS_PORT" "$R_DIR"; }
stop_redis() { redis_stop_instance redis "$REDIS_PORT"; }

ensure_redis() {
	if sk_port_open "$REDIS_PORT"; then
		check_redis_port "$REDIS_PORT" || sk_die "redis: port $REDIS_PORT is taken by something that does not answer PING without auth"
		sk_log "redis: up (already running)"
		return 0
	fi
	start_redis
	sk_log "redis: up"
}

# The replica has replica-priority 0, so Sentinel never promotes it: when a
# fault test stops the master on 6379, 6379 stays the master when it is back.
start_redis_replica() {
	redis_start_instance redis-replica "$REDIS_REPLICA_PORT" "$R_DIR" \
		--replicaof 127.0.0.1 "$REDIS_PORT" --replica-priority 0
}
stop_redis_replica() { redis_stop_instance redis-replica "$REDIS_REPLICA_PORT"; }

check_redis_sentinel() {
	[[ $(sk_redis_cli -p "$REDIS_SENTINEL_PORT" sentinel get-master-addr-by-name "$REDIS_SENTINEL_MASTER" 2>/dev/null | tr '\n' ' ') == "127.0.0.1 $REDIS_PORT " ]]
}

start_redis_sentinel() {
	local dir=$R_DIR/sentinel
	mkdir -p "$dir"
	# Sentinel rewrites its config at run time: start from a fresh one.
	cat >"$dir/sentinel.conf" <<-EOF
		# generated by scripts/lib-services.sh (sentinel rewrites it)
		port $REDIS_SENTINEL_PORT
		bind 127.0.0.1
		daemonize yes
		dir $dir
		pidfile $dir/sentinel.pid
		logfile $dir/sentinel.log
		sentinel monitor $REDIS_SENTINEL_MASTER 127.0.0.1 $REDIS_PORT 1
		sentinel down-after-milliseconds $REDIS_SENTINEL_MASTER 5000
		sentinel failover-timeout $REDIS_SENTINEL_MASTER 60000
	EOF
	sk_log "redis-sentinel: starting on 127.0.0.1:$REDIS_SENTINEL_PORT"
	sk_run "$dir/sentinel.log" redis-server "$dir/sentinel.conf" --sentinel ||
		sk_die "redis-sentinel: failed to start; see $dir/sentinel.log"
	sk_wait redis-sentinel "$dir/sentinel.log" check_redis_sentinel
}
stop_redis_sentinel() { redis_stop_instance redis-sentinel "$REDIS_SENTINEL_PORT"; }

ensure_redis_sentinel() {
	if sk_port_open "$REDIS_REPLICA_PORT"; then
		sk_log "redis-replica: up (already running)"
	else
		start_redis_replica
		sk_log "redis-replica: up"
	fi
	if sk_port_open "$REDIS_SENTINEL_PORT"; then
		check_redis_sentinel || sk_die "redis-sentinel: port $REDIS_SENTINEL_PORT is taken but does not report $REDIS_SENTINEL_MASTER at 127.0.0.1:$REDIS_PORT"
		sk_log "redis-sentinel: up (already running)"
	else
		start_redis_sentinel
		sk_log "redis-sentinel: up"
	fi
}

# redis_cluster_create NAME DIR REPLICAS PORT...: creates the cluster of the
# nodes on PORT... with REPLICAS replicas per master, unless its slots are
# all assigned already (a restart with existing nodes-*.conf files re-forms
# it by itself).
redis_cluster_create() {
	local name=$1 dir=$2 replicas=$3 p assigned
	shift 3
	assigned=$(sk_redis_cli -p "$1" cluster info | tr -d '\r' | sed -n 's/^cluster_slots_assigned://p')
	[[ $assigned == 16384 ]] && return 0
	sk_log "$name: creating cluster ($replicas replica(s) per master)"
	local -a addrs=()
	for p in "$@"; do
		# half-created state from an interrupted run: start clean
		sk_redis_cli -p "$p" flushall >/dev/null 2>&1 || true
		sk_redis_cli -p "$p" cluster reset hard >/dev/null 2>&1 || true
		addrs+=("127.0.0.1:$p")
	done
	sk_run "$dir/create.log" redis-cli --cluster create "${addrs[@]}" --cluster-replicas "$replicas" --cluster-yes ||
		{ tail -n 20 "$dir/create.log" >&2; sk_die "$name: redis-cli --cluster create failed; see $dir/create.log"; }
}

check_redis_cluster() {
	local p
	for p in "${REDIS_CLUSTER_PORTS[@]}"; do
		sk_redis_cli -p "$p" cluster info 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok' || return 1
	done
}

start_redis_cluster() {
	local p
	for p in "${REDIS_CLUSTER_PORTS[@]}"; do
		sk_port_open "$p" && continue
		redis_start_instance "redis-cluster-$p" "$p" "$RC_DIR" \
			--cluster-enabled yes --cluster-config-file "$RC_DIR/nodes-$p.conf" --cluster-node-timeout 5000
	done
	redis_cluster_create redis-cluster "$RC_DIR" 0 "${REDIS_CLUSTER_PORTS[@]}"
	sk_wait redis-cluster "$RC_DIR/redis-${REDIS_CLUSTER_PORTS[0]}.log" check_redis_cluster
}

stop_redis_cluster() {
	local p
	for p in "${REDIS_CLUSTER_PORTS[@]}"; do
		redis_stop_instance "redis-cluster-$p" "$p"
	done
}

ensure_redis_cluster() {
	if check_redis_cluster 2>/dev/null; then
		sk_log "redis-cluster: up (already running)"
		return 0
	fi
	start_redis_cluster
	sk_log "redis-cluster: up (cluster_state:ok on ${REDIS_CLUSTER_PORTS[*]})"
}

# --------------------------------------------------------------------------
# memcached

MC_DIR=$SK_DIR/memcached
MC_PID=$MC_DIR/memcached.pid

# check_memcached: the server answers the text protocol's "version".
check_memcached() {
	# shellcheck disable=SC2016 # $line belongs to the inner bash
	timeout 3 bash -c '
		exec 4<>/dev/tcp/127.0.0.1/'"$MEMCACHED_PORT"' || exit 1
		printf "version\r\n" >&4
		IFS= read -r line <&4
		[[ $line == VERSION* ]]'
}

start_memcached() {
	mkdir -p "$MC_DIR"
	sk_log "memcached: starting on 127.0.0.1:$MEMCACHED_PORT"
	sk_run "$MC_DIR/memcached.log" memcached -d -u root -l 127.0.0.1 -p "$MEMCACHED_PORT" -U 0 -m 64 -c 1024 -P "$MC_PID" ||
		sk_die "memcached: failed to start; see $MC_DIR/memcached.log"
	sk_wait memcached "$MC_DIR/memcached.log" check_memcached
}

ensure_memcached() {
	if sk_port_open "$MEMCACHED_PORT"; then
		check_memcached || sk_die "memcached: port $MEMCACHED_PORT is taken by something that does not answer 'version'"
		sk_log "memcached: up (already running)"
		return 0
	fi
	start_memcached
	sk_log "memcached: up"
}

stop_memcached() { sk_kill_pidfile memcached "$MC_PID" "$MEMCACHED_PORT"; }

# --------------------------------------------------------------------------
# MariaDB Galera: a 3-node cluster on loopback (nodes 1-3, SQL ports 3311-3313).
# The nodes run as user mysql: SST by rsync fails as root (the joiner's rsync
# daemon drops to "nobody"). Node 1 bootstraps a new cluster when no node is
# up; a node started while another is up joins it (IST, or SST when its data
# is too old or missing).

galera_port() { printf '%s' "$((3310 + $1))"; }

# galera_paths: the mysql user must reach the data dirs; under the repo when
# every parent directory is searchable by it, else in mysql's home.
galera_paths() {
	[[ -n ${GA_DIR:-} ]] && return 0
	GA_DIR=$SK_DIR/galera
	if id mysql >/dev/null 2>&1; then
		mkdir -p "$SK_DIR"
		if ! (cd / && runuser -u mysql -- test -x "$SK_DIR"); then
			local home
			home=$(getent passwd mysql | cut -d: -f6)
			GA_DIR=${home:-/var/lib/mysql}/sessionkit-galera-$SK_HASH
		fi
	fi
}

galera_node_dir() { printf '%s/node%s' "$GA_DIR" "$1"; }
galera_sock() { printf '%s/galera%s/mysqld.sock' "$SK_RUN" "$1"; }
galera_pidfile() { printf '%s/mariadbd.pid' "$(galera_node_dir "$1")"; }
galera_log() { printf '%s/mariadbd.log' "$(galera_node_dir "$1")"; }

# sk_galera_sock N ARGS...: client on node N's unix socket, as OS user root.
sk_galera_sock() {
	local n=$1
	shift
	mariadb --no-defaults --protocol=socket --socket="$(galera_sock "$n")" -uroot --connect-timeout=3 "$@"
}
sk_galera_tcp() {
	local n=$1
	shift
	mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$(galera_port "$n")" -uroot --connect-timeout=3 "$@"
}

# galera_status N VAR: the wsrep status variable VAR of node N.
galera_status() {
	sk_galera_sock "$1" -N -B -e "SHOW STATUS LIKE '$2'" 2>/dev/null | cut -f2
}

galera_alive() {
	galera_paths
	sk_pid_alive "$(galera_pidfile "$1")"
}

# check_galera_node N: node N is ours, Synced, and takes root logins over
# TCP on the sessionkit database.
check_galera_node() {
	galera_alive "$1" || return 1
	[[ $(galera_status "$1" wsrep_local_state_comment) == Synced ]] || return 1
	sk_galera_tcp "$1" -N -e 'select 1' sessionkit >/dev/null
}

# check_galera: all nodes Synced in one cluster of all of them.
check_galera() {
	local n
	for n in "${GALERA_NODES[@]}"; do
		check_galera_node "$n" || return 1
		[[ $(galera_status "$n" wsrep_cluster_size) == "${#GALERA_NODES[@]}" ]] || return 1
	done
}

galera_config() {
	local n=$1 dir sockdir
	galera_paths
	dir=$(galera_node_dir "$n")
	sockdir=$(dirname "$(galera_sock "$n")")
	mkdir -p "$dir/data" "$sockdir"
	local addrs="" m
	for m in "${GALERA_NODES[@]}"; do
		addrs+="${addrs:+,}127.0.0.1:$((4570 + m))"
	done
	sk_write_if_changed "$dir/my.cnf" <<-EOC
		# generated by scripts/lib-services.sh
		[mysqld]
		user = mysql
		datadir = $dir/data
		socket = $(galera_sock "$n")
		pid-file = $(galera_pidfile "$n")
		log-error = $(galera_log "$n")
		port = $(galera_port "$n")
		bind-address = 127.0.0.1
		skip-name-resolve
		character-set-server = utf8mb4
		collation-server = utf8mb4_general_ci
		innodb_buffer_pool_size = 64M
		innodb_flush_log_at_trx_commit = 2
		innodb_autoinc_lock_mode = 2
		binlog_format = ROW
		default_storage_engine = InnoDB
		max_connections = 300
		wsrep_on = ON
		wsrep_provider = $GALERA_PROVIDER
		wsrep_cluster_name = sessionkit
		wsrep_cluster_address = gcomm://$addrs
		wsrep_node_name = node$n
		wsrep_node_address = 127.0.0.1:$((4570 + n))
		wsrep_provider_options = "gmcast.listen_addr=tcp://127.0.0.1:$((4570 + n));ist.recv_addr=127.0.0.1:$((4580 + n));gcache.size=64M"
		wsrep_sst_receive_address = 127.0.0.1:$((4590 + n))
		wsrep_sst_method = rsync
	EOC
	chown mysql:mysql "$dir" "$dir/data" "$sockdir"
	touch "$(galera_log "$n")" && chown mysql:mysql "$(galera_log "$n")"
}

# galera_wait_synced N PID: wait until node N is Synced; fail at once if
# its process PID exits.
galera_wait_synced() {
	local n=$1 pid=$2 log
	log=$(galera_log "$n")
	local limit=$((SK_WAIT > 180 ? SK_WAIT : 180)) # an SST takes a while on a busy machine
	local deadline=$((SECONDS + limit))
	until [[ $(galera_status "$n" wsrep_local_state_comment) == Synced ]]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			sk_log "---- last lines of $log ----"
			tail -n 30 "$log" >&2 || true
			sk_die "galera-$n: mariadbd exited during start; see $log"
		fi
		if ((SECONDS >= deadline)); then
			sk_log "---- last lines of $log ----"
			tail -n 30 "$log" >&2 || true
			sk_die "galera-$n: not Synced within ${limit}s; see $log"
		fi
		sleep 0.25
	done
}

# galera_bootstrap_node: the node to bootstrap a new cluster from when none
# is up: the one whose grastate.dat says it is safe to (the last one to
# leave), else node 1, marked safe (this is test data: a node that left
# earlier catches up by SST).
galera_bootstrap_node() {
	local n gs
	for n in "${GALERA_NODES[@]}"; do
		gs=$(galera_node_dir "$n")/data/grastate.dat
		if [[ -f $gs ]] && grep -q '^safe_to_bootstrap: *1' "$gs"; then
			printf '%s' "$n"
			return 0
		fi
	done
	n=${GALERA_NODES[0]}
	gs=$(galera_node_dir "$n")/data/grastate.dat
	[[ -f $gs ]] && sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' "$gs"
	printf '%s' "$n"
}

# start_galera_node N [bootstrap]: start node N (a new cluster with
# "bootstrap", else joining the running nodes) and wait until it is Synced.
start_galera_node() {
	local n=$1 bootstrap=${2:-} dir port
	galera_config "$n"
	dir=$(galera_node_dir "$n")
	port=$(galera_port "$n")
	if galera_alive "$n"; then
		sk_log "galera-$n: already running"
		return 0
	fi
	sk_port_open "$port" && sk_die "galera-$n: port $port is taken by a process these scripts did not start"
	if [[ -n $bootstrap && ! -d $dir/data/mysql ]]; then
		sk_log "galera-$n: initialising $dir/data"
		rm -rf "$dir/data"
		mkdir -p "$dir/data"
		chown mysql:mysql "$dir/data"
		if ! sk_run "$dir/install-db.log" mariadb-install-db --defaults-file="$dir/my.cnf" --user=mysql \
			--datadir="$dir/data" --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve; then
			tail -n 30 "$dir/install-db.log" >&2
			sk_die "galera-$n: mariadb-install-db failed; see $dir/install-db.log"
		fi
	fi
	sk_log "galera-$n: starting on 127.0.0.1:$port${bootstrap:+ (new cluster)}"
	sk_spawn "$(galera_log "$n")" mariadbd --defaults-file="$dir/my.cnf" ${bootstrap:+--wsrep-new-cluster}
	local pid=$!
	galera_wait_synced "$n" "$pid"
	# The pid file is written once the server is ready; keep the one we know.
	[[ -s $(galera_pidfile "$n") ]] || printf '%s\n' "$pid" >"$(galera_pidfile "$n")"
	sk_wait "galera-$n" "$(galera_log "$n")" sk_port_open "$port"
}

# galera_setup N: root may log in over TCP without a password and the
# sessionkit database exists (replicated to every node). Runs on node N.
galera_setup() {
	sk_galera_tcp "$1" -N -e 'select 1' sessionkit >/dev/null 2>&1 && return 0
	sk_galera_sock "$1" <<-'EOSQL'
		CREATE USER IF NOT EXISTS 'root'@'localhost';
		CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
		ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
		ALTER USER 'root'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
		GRANT ALL PRIVILEGES ON *.* TO 'root'@'localhost' WITH GRANT OPTION;
		GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
		FLUSH PRIVILEGES;
		CREATE DATABASE IF NOT EXISTS sessionkit CHARACTER SET utf8mb4;
	EOSQL
}

# ensure_galera: every node up and Synced in one cluster (no-op when so).
ensure_galera() {
	galera_paths
	if check_galera 2>/dev/null; then
		sk_log "galera: up (already running)"
		return 0
	fi
	id mysql >/dev/null 2>&1 || sk_die "galera: no OS user 'mysql' (package mariadb-server missing?)"
	[[ -f $GALERA_PROVIDER ]] || sk_die "galera: $GALERA_PROVIDER missing (package galera-4)"
	local n up=
	for n in "${GALERA_NODES[@]}"; do
		galera_alive "$n" && up=$n
	done
	if [[ -z $up ]]; then
		up=$(galera_bootstrap_node)
		start_galera_node "$up" bootstrap
	fi
	galera_setup "$up"
	# The joiners start together: the second waits for a free donor.
	local -a pids=()
	for n in "${GALERA_NODES[@]}"; do
		galera_alive "$n" && continue
		start_galera_node "$n" &
		pids+=($!)
	done
	local p rc=0
	for p in "${pids[@]}"; do
		wait "$p" || rc=1
	done
	((rc == 0)) || sk_die "galera: a node failed to join"
	sk_wait galera "$(galera_log "$up")" check_galera
}

# start_galera_one N: start node N alone: it joins the running nodes, or
# bootstraps a new cluster when none is up.
start_galera_one() {
	galera_paths
	local m up=
	for m in "${GALERA_NODES[@]}"; do
		[[ $m != "$1" ]] && galera_alive "$m" && up=$m
	done
	if [[ -z $up ]]; then
		start_galera_node "$1" bootstrap
		galera_setup "$1"
	else
		start_galera_node "$1"
	fi
	sk_wait "galera-$1" "$(galera_log "$1")" check_galera_node "$1"
}

# stop_galera_node N: leave the cluster cleanly (SIGTERM) and wait.
stop_galera_node() {
	galera_paths
	sk_kill_pidfile "galera-$1" "$(galera_pidfile "$1")" "$(galera_port "$1")"
}

# kill_galera_node N: SIGKILL node N (a crash) and wait for its port to close.
kill_galera_node() {
	galera_paths
	sk_kill9_pidfile "galera-$1" "$(galera_pidfile "$1")" "$(galera_port "$1")"
}

# stop_galera: every node, the last one left is the one to bootstrap from.
stop_galera() {
	local i
	for ((i = ${#GALERA_NODES[@]} - 1; i >= 0; i--)); do
		stop_galera_node "${GALERA_NODES[i]}"
	done
}

# --------------------------------------------------------------------------
# Redis Cluster with replicas: 6 nodes on 7100-7105, 3 masters and one replica
# each, separate from the 3-master cluster on 7000-7002. Short node timeout
# (2 s) so a killed master is replaced in about 3-4 s.

RR_DIR=$R_DIR/replicated

# check_redis_replicated_node PORT: the node is in a healthy cluster; a
# replica's link to its master is up.
check_redis_replicated_node() {
	local info
	info=$(sk_redis_cli -p "$1" cluster info 2>/dev/null | tr -d '\r') || return 1
	grep -qx 'cluster_state:ok' <<<"$info" || return 1
	grep -qx "cluster_known_nodes:${#REDIS_REPLICATED_PORTS[@]}" <<<"$info" || return 1
	info=$(sk_redis_cli -p "$1" info replication 2>/dev/null | tr -d '\r') || return 1
	if grep -qx 'role:slave' <<<"$info"; then
		grep -qx 'master_link_status:up' <<<"$info" || return 1
	fi
}

# check_redis_replicated: every node healthy, every master has a replica.
check_redis_replicated() {
	local p masters=0 info
	for p in "${REDIS_REPLICATED_PORTS[@]}"; do
		check_redis_replicated_node "$p" || return 1
		info=$(sk_redis_cli -p "$p" info replication 2>/dev/null | tr -d '\r')
		if grep -qx 'role:master' <<<"$info"; then
			masters=$((masters + 1))
			grep -q '^connected_slaves:[1-9]' <<<"$info" || return 1
		fi
	done
	((masters == ${#REDIS_REPLICATED_PORTS[@]} / 2))
}

start_redis_replicated_node() {
	local p=$1
	if sk_port_open "$p"; then
		check_redis_port "$p" || sk_die "redis-replicated-$p: port $p is taken by something that does not answer PING"
		return 0
	fi
	redis_start_instance "redis-replicated-$p" "$p" "$RR_DIR" \
		--cluster-enabled yes --cluster-config-file "$RR_DIR/nodes-$p.conf" --cluster-node-timeout 2000 \
		--repl-diskless-sync yes --repl-diskless-sync-delay 0
}

# start_redis_replicated_one PORT: start one node and wait until it is back
# in the cluster (a former master comes back as a replica of its successor).
start_redis_replicated_one() {
	start_redis_replicated_node "$1"
	sk_wait "redis-replicated-$1" "$RR_DIR/redis-$1.log" check_redis_replicated_node "$1"
}

ensure_redis_replicated() {
	if check_redis_replicated 2>/dev/null; then
		sk_log "redis-replicated: up (already running)"
		return 0
	fi
	mkdir -p "$RR_DIR"
	local p
	for p in "${REDIS_REPLICATED_PORTS[@]}"; do
		start_redis_replicated_node "$p"
	done
	redis_cluster_create redis-replicated "$RR_DIR" 1 "${REDIS_REPLICATED_PORTS[@]}"
	sk_wait redis-replicated "$RR_DIR/redis-${REDIS_REPLICATED_PORTS[0]}.log" check_redis_replicated
	sk_log "redis-replicated: up (${#REDIS_REPLICATED_PORTS[@]} nodes, replicas linked)"
}

stop_redis_replicated_one() { redis_stop_instance "redis-replicated-$1" "$1"; }
kill_redis_replicated_one() { sk_kill9_pidfile "redis-replicated-$1" "$RR_DIR/redis-$1.pid" "$1"; }

stop_redis_replicated() {
	local p
	for p in "${REDIS_REPLICATED_PORTS[@]}"; do
		stop_redis_replicated_one "$p"
	done
}

# --------------------------------------------------------------------------
# MongoDB wire protocol: FerretDB (SQLite backend) via internal/mongotest.

MG_DIR=$SK_DIR/mongo
MG_SRC=$SK_REPO/internal/mongotest
MG_BIN=$SK_DIR/bin/mongotest
MG_PID=$MG_DIR/mongotest.pid
MG_LOG=$MG_DIR/mongotest.log

# mongo_needs_build: binary missing or older than the module's sources.
mongo_needs_build() {
	[[ -x $MG_BIN ]] || return 0
	[[ -n $(find "$MG_SRC" -maxdepth 1 -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -newer "$MG_BIN" -print -quit) ]]
}

# mongo_build: go build (its own module, outside go.work); log in mongo/build.log.
mongo_build() {
	mkdir -p "$MG_DIR" "$SK_DIR/bin"
	command -v go >/dev/null || sk_die "mongo: 'go' not found (expected /usr/local/go/bin/go)"
	(cd "$MG_SRC" && GOWORK=off GOFLAGS=-mod=readonly sk_run "$MG_DIR/build.log" go build -o "$MG_BIN.tmp" .) &&
		mv -f "$MG_BIN.tmp" "$MG_BIN"
}

check_mongo() { sk_port_open "$MONGO_PORT"; }

start_mongo() {
	[[ -x $MG_BIN ]] || sk_die "mongo: $MG_BIN not built (run scripts/services.sh)"
	mkdir -p "$MG_DIR/data"
	sk_log "mongo: starting FerretDB (sqlite) on 127.0.0.1:$MONGO_PORT"
	sk_spawn "$MG_LOG" "$MG_BIN" -listen-addr "127.0.0.1:$MONGO_PORT" -data-dir "$MG_DIR/data" -pid-file "$MG_PID"
	sk_wait mongo "$MG_LOG" check_mongo
}

ensure_mongo() {
	if sk_port_open "$MONGO_PORT"; then
		sk_log "mongo: up (already running)"
		return 0
	fi
	start_mongo
	sk_log "mongo: up"
}

stop_mongo() { sk_kill_pidfile mongo "$MG_PID" "$MONGO_PORT"; }

# --------------------------------------------------------------------------
# Durable profile: a second MariaDB (:3307) and a second PostgreSQL cluster
# (:5433) whose commits wait for the disk, for benchmarks that want what a
# production server pays per commit. The servers above trade that away for
# speed (innodb_flush_log_at_trx_commit=2; fsync=off, synchronous_commit=off).
# Small caches (32 MB), so the two extra servers stay light. Started by
# services.sh only with SESSION_DURABLE=1; check_*_durable fail unless the
# settings are in effect (a server started earlier with other settings).

# mariadb_durable runs a MariaDB function of this file on the durable
# instance: its own directory, socket, port and tuning.
mariadb_durable() {
	local MY_NAME=mariadb-durable
	local MY_DIR=$SK_DIR/mariadb-durable
	local MY_CNF=$MY_DIR/my.cnf MY_DATA=$MY_DIR/data MY_LOG=$MY_DIR/mariadbd.log MY_PID=$MY_DIR/mariadbd.pid
	local MY_SOCK=$SK_RUN/mysqld-durable.sock
	local MYSQL_PORT=$MYSQL_DURABLE_PORT
	# Binary log off, as on the other server; sync_binlog=1 would make it
	# durable too if someone turns it on.
	local MY_TUNING='innodb_buffer_pool_size = 32M
innodb_flush_log_at_trx_commit = 1
sync_binlog = 1
max_connections = 200'
	"$@"
}

# durable_settings_mariadb: the settings that decide what a commit costs,
# one "name=value" a line.
durable_settings_mariadb() {
	mariadb_durable sk_mysql_tcp -N -B -e "SHOW VARIABLES WHERE Variable_name IN
		('innodb_flush_log_at_trx_commit', 'sync_binlog', 'log_bin', 'innodb_doublewrite', 'innodb_flush_method', 'innodb_buffer_pool_size')" |
		tr '\t' '='
}

# check_mariadb_durable: answers on the sessionkit database with durable
# commits (innodb_flush_log_at_trx_commit=1, sync_binlog=1).
check_mariadb_durable() {
	local settings
	settings=$(durable_settings_mariadb) || return 1
	grep -qx 'innodb_flush_log_at_trx_commit=1' <<<"$settings" || return 1
	grep -qx 'sync_binlog=1' <<<"$settings" || return 1
	mariadb_durable check_mariadb >/dev/null
}

# mariadb_fix_root sets up root's login and the database on a server of
# ours that answers on its socket (an earlier run was interrupted).
mariadb_fix_root() {
	if [[ -S $MY_SOCK ]] && sk_mysql_sock -e 'select 1' >/dev/null 2>&1; then
		mariadb_setup
	fi
}

start_mariadb_durable() {
	mariadb_durable start_mariadb
	sk_wait mariadb-durable "$SK_DIR/mariadb-durable/mariadbd.log" check_mariadb_durable
}

ensure_mariadb_durable() {
	if sk_port_open "$MYSQL_DURABLE_PORT"; then
		check_mariadb_durable >/dev/null 2>&1 || mariadb_durable mariadb_fix_root
		check_mariadb_durable >/dev/null 2>&1 ||
			sk_die "mariadb-durable: port $MYSQL_DURABLE_PORT answers, but not as root without password with innodb_flush_log_at_trx_commit=1 and sync_binlog=1 (settings now: $(durable_settings_mariadb 2>/dev/null | tr '\n' ' '); stop it first)"
		sk_log "mariadb-durable: up (already running)"
		return 0
	fi
	start_mariadb_durable
	sk_log "mariadb-durable: up ($(durable_settings_mariadb | tr '\n' ' '))"
}

stop_mariadb_durable() { mariadb_durable stop_mariadb; }

# postgres_durable runs a PostgreSQL function of this file on the durable
# cluster, which lives beside the other one (pg_paths).
postgres_durable() {
	pg_paths
	local PG_NAME=postgres-durable
	local PG_DIR=$PG_DIR-durable
	local PG_DATA=$PG_DIR/data PG_LOG=$PG_DIR/postgres.log
	local PG_PORT=$PG_DURABLE_PORT
	# PostgreSQL's durable defaults, spelled out; small caches.
	local PG_TUNING='max_connections = 200
shared_buffers = 32MB
fsync = on
synchronous_commit = on
full_page_writes = on'
	local PG_INITDB_NOSYNC=
	"$@"
}

# durable_settings_postgres: the settings that decide what a commit costs,
# one "name=value" a line.
durable_settings_postgres() {
	postgres_durable sk_psql -d postgres -AtF= -c "SELECT name, current_setting(name) FROM pg_settings WHERE name IN
		('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers') ORDER BY name"
}

# check_postgres_durable: answers on the sessionkit database with
# fsync=on and synchronous_commit=on.
check_postgres_durable() {
	local settings
	settings=$(durable_settings_postgres) || return 1
	grep -qx 'fsync=on' <<<"$settings" || return 1
	grep -qx 'synchronous_commit=on' <<<"$settings" || return 1
	postgres_durable check_postgres >/dev/null
}

start_postgres_durable() {
	postgres_durable start_postgres
	sk_wait postgres-durable "$PG_DIR-durable/postgres.log" check_postgres_durable
}

ensure_postgres_durable() {
	pg_paths
	if sk_port_open "$PG_DURABLE_PORT"; then
		if ! check_postgres_durable >/dev/null 2>&1 && postgres_durable sk_psql -d postgres -Atc 'select 1' >/dev/null 2>&1; then
			postgres_durable postgres_setup
		fi
		check_postgres_durable >/dev/null 2>&1 ||
			sk_die "postgres-durable: port $PG_DURABLE_PORT answers, but not as postgres without password with fsync=on and synchronous_commit=on (settings now: $(durable_settings_postgres 2>/dev/null | tr '\n' ' '); stop it first)"
		sk_log "postgres-durable: up (already running)"
		return 0
	fi
	start_postgres_durable
	sk_log "postgres-durable: up ($(durable_settings_postgres | tr '\n' ' '))"
}

stop_postgres_durable() { postgres_durable stop_postgres; }
