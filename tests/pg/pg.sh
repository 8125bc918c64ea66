#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A throwaway PostgreSQL for the tests: the store's unit tests and the
# integration tests run against a real server that this script starts in
# a temporary directory and stops by its pid (docs/testing.md).
#
#   pg.sh start DIR [--tcp PORT|auto]  initdb if needed, start, wait until it
#                                      answers; prints the base URL (DIR/url)
#                                      and the socket directory (DIR/socket)
#   pg.sh stop DIR [--keep]            pg_ctl stop -m fast, then the pid; the
#                                      cluster is deleted unless --keep
#   pg.sh createdb DIR NAME            a fresh database NAME (dropped first if
#                                      it exists), owned by the role ztp
#   pg.sh dropdb DIR NAME
#   pg.sh url DIR NAME                 the URL of database NAME
#   pg.sh psql DIR NAME [psql args]    psql on database NAME
#
# Sourced (. tests/pg/pg.sh), it defines the same as functions: pg_start,
# pg_stop, pg_createdb, pg_dropdb, pg_url, pg_psql, and pg_base_url DIR.
#
# DIR keeps the state (url, socket, port, pid, home); the cluster itself
# lives in HOME=$TMPDIR/ztp-pg.XXXXXX (DIR/home names it): a short path for
# the socket (108 bytes at most) that the server's user can reach even
# where DIR is inside a directory of mode 0700 (CI's clone).
#
# Users: initdb, pg_ctl and postgres run as the current user, or as the
# user ztp when run as root (initdb refuses root; scripts/install-deps.sh
# creates ztp). The bootstrap superuser is "postgres"; the tests connect as
# the role ztp (LOGIN CREATEDB, may CHECKPOINT and read the settings: the
# unit tests look for secrets in the data files), which owns every test
# database. Authentication: trust on the Unix socket, whose directory is
# mode 0700 (only the server's user and root reach it); with --tcp the
# server also listens on 127.0.0.1:PORT with scram-sha-256, the role ztp
# has a random password, and DIR/pgpass (a PGPASSFILE) holds it.
#
# Tuned for tests only: fsync, synchronous_commit and full_page_writes off
# (a crash of the machine loses the cluster, which is thrown away anyway).

# pg_bin: the directory of initdb, pg_ctl, postgres and psql
# (ZTP_PG_BIN, else pg_config's, else the newest /usr/lib/postgresql/N/bin)
pg_bin() {
	local d
	if [ -n "${ZTP_PG_BIN:-}" ]; then
		echo "$ZTP_PG_BIN"
		return 0
	fi
	d=$(pg_config --bindir 2>/dev/null || true)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then
		echo "$d"
		return 0
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	d=$(command -v initdb 2>/dev/null || true)
	[ -n "$d" ] && { dirname "$d"; return 0; }
	echo "pg.sh: no PostgreSQL server binaries (initdb); apt-get install postgresql-15, or set ZTP_PG_BIN" >&2
	return 1
}

pg_die() { echo "pg.sh: $*" >&2; return 1; }

# pg_as_server CMD...: CMD as the server's user, from the cluster's home
# (the current directory may be out of that user's reach)
pg_as_server() {
	if [ "$(id -u)" = 0 ]; then
		(cd "$PG_HOME" && runuser -u ztp -- "$@")
	else
		(cd "$PG_HOME" && "$@")
	fi
}

# pg_load DIR: PG_HOME, PG_DATA, PG_SOCKET, PG_PORT of the cluster of DIR
pg_load() {
	local dir=$1
	[ -n "$dir" ] || pg_die "no DIR" || return 1
	PG_HOME=$(cat "$dir/home" 2>/dev/null || true)
	PG_DATA=${PG_HOME:+$PG_HOME/data}
	PG_SOCKET=$PG_HOME
	PG_PORT=$(cat "$dir/port" 2>/dev/null || echo 5432)
}

# pg_admin_psql DIR|URL DB [psql args]: quiet psql on database DB, stopping at an error
pg_admin_psql() {
	local url
	url=$(pg_url "$1" "$2") || return 1
	pg_passfile "$1"
	shift 2
	PGOPTIONS='-c client_min_messages=warning' pg_psql_url "$url" -q -v ON_ERROR_STOP=1 "$@"
}

# pg_passfile DIR|URL: PG_PASSFILE=DIR/pgpass if there is one (--tcp)
pg_passfile() {
	PG_PASSFILE=""
	[ ! -f "$1/pgpass" ] || PG_PASSFILE=$1/pgpass
}

# pg_psql_url URL [psql args]: psql on URL (with DIR/pgpass as the PGPASSFILE
# of a TCP server that pg.sh started, unless PGPASSFILE is set)
pg_psql_url() {
	local url=$1
	shift
	PGPASSFILE=${PGPASSFILE:-${PG_PASSFILE:-}} "$(pg_bin)/psql" -X "$url" "$@"
}

# pg_running DIR: the postmaster of DIR is alive
pg_running() {
	local pid
	pid=$(cat "$1/pid" 2>/dev/null || true)
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
		grep -q postgres "/proc/$pid/comm" 2>/dev/null
}

pg_start() {
	local dir=${1:?pg_start DIR [--tcp PORT|auto]} port=5432 tcp="" bin user pw pid i
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--tcp) tcp=${2:?--tcp PORT|auto}; shift 2 ;;
		*) pg_die "start: unknown option $1"; return 1 ;;
		esac
	done
	bin=$(pg_bin) || return 1
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if pg_running "$dir"; then
		echo "pg.sh: already running (pid $(cat "$dir/pid")): $(cat "$dir/url")" >&2
		cat "$dir/url"
		return 0
	fi
	if [ "$tcp" = auto ]; then
		# a free loopback port: nothing answers a connect to it
		for i in $(seq 1 50); do
			tcp=$((20000 + RANDOM % 20000))
			(exec 3<>"/dev/tcp/127.0.0.1/$tcp") 2>/dev/null || break
		done
	fi
	[ -z "$tcp" ] || port=$tcp
	user=$(id -un)
	if [ "$(id -u)" = 0 ]; then
		id ztp >/dev/null 2>&1 || pg_die "running as root: initdb refuses root and there is no user ztp (scripts/install-deps.sh)" || return 1
		user=ztp
	fi

	pg_load "$dir"
	if [ -z "$PG_HOME" ] || [ ! -f "$PG_DATA/PG_VERSION" ]; then
		PG_HOME=$(mktemp -d "${TMPDIR:-/tmp}/ztp-pg.XXXXXX") || return 1
		PG_DATA=$PG_HOME/data
		PG_SOCKET=$PG_HOME
		chmod 700 "$PG_HOME"
		[ "$user" = "$(id -un)" ] || chown "$user:" "$PG_HOME"
		echo "$PG_HOME" >"$dir/home"
		# C locale: byte order, as SQLite's BINARY collation; postgres the superuser
		pg_as_server "$bin/initdb" -D "$PG_DATA" -U postgres -E UTF8 --no-locale \
			--auth-local=trust --auth-host=scram-sha-256 --no-sync --no-instructions \
			>"$PG_HOME/initdb.log" 2>&1 || { cat "$PG_HOME/initdb.log" >&2; pg_die "initdb failed"; return 1; }
		echo "include_if_exists = 'ztp-test.conf'" >>"$PG_DATA/postgresql.conf"
	fi
	PG_PORT=$port
	echo "$port" >"$dir/port"
	# rewritten at every start: --tcp may come and go
	cat >"$PG_HOME/ztp-test.conf.new" <<EOF
# pg.sh: a test cluster, thrown away after the tests (never for real data)
port = $port
listen_addresses = '${tcp:+127.0.0.1}'
unix_socket_directories = '$PG_SOCKET'
unix_socket_permissions = 0700
max_connections = 200
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
max_wal_size = 64MB
min_wal_size = 32MB
checkpoint_timeout = 30min
password_encryption = scram-sha-256
timezone = 'UTC'
log_line_prefix = '%m [%p] %d '
EOF
	cat "$PG_HOME/ztp-test.conf.new" >"$PG_DATA/ztp-test.conf" && rm -f "$PG_HOME/ztp-test.conf.new"
	[ "$user" = "$(id -un)" ] || chown "$user:" "$PG_DATA/ztp-test.conf"

	pg_as_server "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_HOME/postgres.log" -w -t 60 -s start ||
		{ tail -n 20 "$PG_HOME/postgres.log" >&2; pg_die "the server did not start"; return 1; }
	pid=$(head -1 "$PG_DATA/postmaster.pid")
	echo "$pid" >"$dir/pid"
	for i in $(seq 1 100); do
		"$bin/pg_isready" -q -h "$PG_SOCKET" -p "$port" -d postgres && break
		sleep 0.1
	done
	"$bin/pg_isready" -q -h "$PG_SOCKET" -p "$port" -d postgres || { pg_die "no answer on $PG_SOCKET"; return 1; }

	# the role the tests connect as; a new password at each start
	pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
	PGOPTIONS= "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET" -p "$port" -U postgres -d postgres <<EOF || { pg_die "cannot make the role ztp"; return 1; }
SELECT 'CREATE ROLE ztp' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ztp')
\gexec
ALTER ROLE ztp LOGIN CREATEDB PASSWORD '$pw';
GRANT pg_checkpoint, pg_read_all_settings TO ztp;
EOF
	if [ -n "$tcp" ]; then
		(umask 077 && printf '127.0.0.1:%s:*:ztp:%s\nlocalhost:%s:*:ztp:%s\n' "$port" "$pw" "$port" "$pw" >"$dir/pgpass")
		echo "postgresql://ztp@127.0.0.1:$port/" >"$dir/url"
	else
		rm -f "$dir/pgpass"
		echo "postgresql:///?host=$PG_SOCKET&port=$port&user=ztp" >"$dir/url"
	fi
	echo "$PG_SOCKET" >"$dir/socket"
	echo "pg.sh: PostgreSQL $("$bin/postgres" -V | awk '{print $3}') pid $pid as $user, socket $PG_SOCKET${tcp:+, 127.0.0.1:$port (scram, PGPASSFILE=$dir/pgpass)}" >&2
	cat "$dir/url"
}

pg_stop() {
	local dir=${1:?pg_stop DIR [--keep]} keep="" pid i
	[ "${2:-}" = --keep ] && keep=1
	[ -d "$dir" ] || return 0
	pg_load "$dir"
	pid=$(cat "$dir/pid" 2>/dev/null || true)
	if [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
		pg_as_server "$(pg_bin)/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 -s stop >/dev/null 2>&1 || true
	fi
	# pg_ctl could not (or the pid file was gone): the postmaster by its pid
	if [ -n "$pid" ] && pg_running "$dir"; then
		kill -INT "$pid" 2>/dev/null || true
		for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
			echo "pg.sh: the postmaster $pid killed" >&2
		fi
	fi
	rm -f "$dir/pid" "$dir/url" "$dir/socket" "$dir/pgpass"
	if [ -z "$keep" ] && [ -n "$PG_HOME" ]; then
		case $PG_HOME in */ztp-pg.*) rm -rf "$PG_HOME" ;; esac
		rm -f "$dir/home" "$dir/port"
	fi
	return 0
}

# pg_base_url DIR|URL: the URL of DIR's server without a database name
# (DIR: where pg.sh start wrote it; a URL is taken as it is)
pg_base_url() {
	case $1 in
	postgresql://* | postgres://*)
		echo "$1"
		return 0
		;;
	esac
	[ -s "$1/url" ] || pg_die "$1: no server started here (pg.sh start $1)" || return 1
	cat "$1/url"
}

# pg_url DIR|URL NAME: the base URL with NAME as its database: before the query
# (postgresql:///NAME?host=...) or at the end (postgresql://ztp@127.0.0.1:P/NAME)
pg_url() {
	local base
	base=$(pg_base_url "$1") || return 1
	case $base in
	*\?*) echo "${base%%\?*}$2?${base#*\?}" ;;
	*) echo "$base$2" ;;
	esac
}

pg_name_ok() {
	[[ $1 =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || pg_die "database name '$1': [a-z_][a-z0-9_]*, at most 63"
}

pg_dropdb() {
	local dir=${1:?pg_dropdb DIR|URL NAME} name=${2:?pg_dropdb DIR|URL NAME}
	pg_name_ok "$name" || return 1
	pg_admin_psql "$dir" postgres -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
}

# pg_createdb DIR|URL NAME: a fresh database, with the schema ztp_compat (the
# SQLite functions the integration tests' queries use: tests/pg/compat.sql)
pg_createdb() {
	local dir=${1:?pg_createdb DIR|URL NAME} name=${2:?pg_createdb DIR|URL NAME}
	pg_name_ok "$name" || return 1
	pg_admin_psql "$dir" postgres -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" \
		-c "CREATE DATABASE \"$name\" STRATEGY FILE_COPY" || return 1
	pg_admin_psql "$dir" "$name" -f "$(dirname "${BASH_SOURCE[0]}")/compat.sql"
}

pg_psql() {
	local dir=${1:?pg_psql DIR|URL NAME [args]} name=${2:?pg_psql DIR|URL NAME [args]} url
	shift 2
	url=$(pg_url "$dir" "$name") || return 1
	pg_passfile "$dir"
	pg_psql_url "$url" "$@"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	cmd=${1:-}
	[ $# -gt 0 ] && shift
	case $cmd in
	start) pg_start "$@" ;;
	stop) pg_stop "$@" ;;
	createdb) pg_createdb "$@" ;;
	dropdb) pg_dropdb "$@" ;;
	url) pg_url "$@" ;;
	psql) pg_psql "$@" ;;
	*)
		sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//' >&2
		exit 2
		;;
	esac
fi
