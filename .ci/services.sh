#!/usr/bin/env bash
# .ci/services.sh: make the services Paotui needs answer, for `make` and `.ci/run`.
#
#   .ci/services.sh ensure [--install]   PostgreSQL and Redis answer, and the app database exists
#   .ci/services.sh env                  print the exports `ensure` decided on (.data/services.env)
#   .ci/services.sh stop                 stop the private instances under .data/ (never system ones)
#   .ci/services.sh stripe-mock [--start]  install stripe-mock (and start it on 127.0.0.1:12111/12112)
#   . .ci/services.sh ensure             the same, then export the URLs into the calling bash
#
# ensure, step by step:
#   * PAOTUI_DATABASE_URL / PAOTUI_REDIS_URL set: the servers are someone else's; wait for them
#     (PAOTUI_SERVICES_WAIT seconds, default 60) and never start anything.
#   * otherwise 127.0.0.1:5432 and :6379 (or the private instances recorded under .data/). When
#     one is down: start the system service if the Debian package is installed (cluster from
#     pg_lsclusters; redis-server on 6379); else, if only the server binaries exist, a private
#     instance under .data/ (PostgreSQL on 5432, or 55432 when 5432 is taken; Redis on 6379 or
#     56379), its URL written to .data/services.env; if the binaries are missing too, install them
#     with apt-get when CI=true or --install and we are root, otherwise say what to install, exit 1.
#   * then create the database named in the URL (default paotui) if it does not exist.
# It is idempotent and takes well under a second when everything is already up.
#
# The URLs it settles on are written to .data/services.env as `export` lines (empty when the
# defaults apply); the Makefile sources that file after `ensure`.

# Sourced: run in a child bash (so `set -e` and friends stay out of the caller's shell), then
# import the result.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
	bash "${BASH_SOURCE[0]}" "$@" || return
	if [[ "${1:-}" == ensure && -f "$(dirname "${BASH_SOURCE[0]}")/../.data/services.env" ]]; then
		# shellcheck source=/dev/null
		. "$(dirname "${BASH_SOURCE[0]}")/../.data/services.env"
	fi
	return 0
fi

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/.data"
ENV_FILE="$DATA/services.env"
WAIT="${PAOTUI_SERVICES_WAIT:-60}"
STRIPE_MOCK_VERSION="v0.203.0"

DEFAULT_PG_PORT=5432
ALT_PG_PORT=55432
DEFAULT_REDIS_PORT=6379
ALT_REDIS_PORT=56379

INSTALL=0
MISSING=() # Debian packages to install
EXPORTS=() # lines for services.env

say() { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }
die() {
	warn "services: $*"
	exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [[ "$(id -u)" == 0 ]]; }

# limit SECONDS CMD...: run CMD with a time limit when coreutils timeout is there.
limit() {
	if have timeout; then
		timeout "$@"
	else
		shift
		"$@"
	fi
}

# tcp_open HOST PORT: something accepts TCP connections there.
tcp_open() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	limit 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

port_free() { ! tcp_open 127.0.0.1 "$1"; }

# poll SECONDS CMD...: run CMD every 0.2 s until it succeeds or SECONDS pass.
poll() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# parse_url URL: sets U_PREFIX (scheme://user@host:port), U_HOST, U_PORT, U_PATH (no leading /),
# U_QUERY (with its ?). Key=value DSNs are not parsed (U_HOST stays empty).
parse_url() {
	local re='^([a-zA-Z][a-zA-Z0-9+.-]*://([^@/?#]*@)?(\[[^]]*\]|[^:/?#]*)(:([0-9]*))?)(/[^?#]*)?(\?[^#]*)?'
	U_PREFIX="" U_HOST="" U_PORT="" U_PATH="" U_QUERY=""
	if [[ "$1" =~ $re ]]; then
		U_PREFIX="${BASH_REMATCH[1]}"
		U_HOST="${BASH_REMATCH[3]}"
		U_PORT="${BASH_REMATCH[5]}"
		U_PATH="${BASH_REMATCH[6]#/}"
		U_QUERY="${BASH_REMATCH[7]}"
	fi
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

# pg_ready URL: the server accepts connections.
pg_ready() {
	if have pg_isready; then
		pg_isready -q -t 3 -d "$1" >/dev/null 2>&1
	else
		parse_url "$1"
		[[ -n "$U_HOST" ]] && tcp_open "${U_HOST:-127.0.0.1}" "${U_PORT:-5432}"
	fi
}

local_pg_url() { printf 'postgres://postgres@127.0.0.1:%s/%s?sslmode=disable' "$1" "${2:-paotui}"; }

# The newest PostgreSQL server bin directory (Debian layout), or the one on PATH.
pg_bindir() {
	local d best=""
	for d in /usr/lib/postgresql/*/bin; do
		[[ -x "$d/initdb" && -x "$d/pg_ctl" ]] || continue
		if [[ -z "$best" ]] || [[ "$(basename "$(dirname "$d")")" -gt "$(basename "$(dirname "$best")")" ]]; then
			best="$d"
		fi
	done
	if [[ -z "$best" ]] && have initdb && have pg_ctl; then
		best="$(dirname "$(command -v initdb)")"
	fi
	[[ -n "$best" ]] && printf '%s\n' "$best"
}

# system_pg_cluster: "VERSION NAME PORT" of the Debian cluster to start (main, port 5432 first).
system_pg_cluster() {
	have pg_lsclusters && have pg_ctlcluster || return 1
	local ver name port _rest best=""
	while read -r ver name port _rest; do
		[[ -n "$port" ]] || continue
		if [[ -z "$best" || ("$name" == main && "$port" == "$DEFAULT_PG_PORT") ]]; then
			best="$ver $name $port"
		fi
	done < <(pg_lsclusters -h 2>/dev/null)
	[[ -n "$best" ]] && printf '%s\n' "$best"
}

start_system_pg() {
	local ver name port
	read -r ver name port <<<"$1"
	say "postgres: starting system cluster $ver/$name (port $port)"
	pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >/dev/null 2>&1 ||
		pg_ctlcluster "$ver" "$name" start || true
	if poll 30 pg_ready "$(local_pg_url "$port" postgres)"; then
		PG_PORT="$port"
		say "postgres: system cluster $ver/$name is up on 127.0.0.1:$port"
		return 0
	fi
	warn "postgres: system cluster $ver/$name did not come up; see /var/log/postgresql/postgresql-$ver-$name.log"
	return 1
}

PG_OS_USER=""
# as_pg CMD...: run a PostgreSQL server command as a non-root user when we are root.
as_pg() {
	if [[ -z "$PG_OS_USER" ]]; then
		"$@"
	elif have runuser; then
		runuser -u "$PG_OS_USER" -- "$@"
	else
		su "$PG_OS_USER" -s /bin/sh -c "$(printf '%q ' "$@")"
	fi
}

start_private_pg() {
	local bindir="$1" dir="$DATA/pg" log="$DATA/pg.log" port pid
	if is_root; then
		PG_OS_USER=postgres
		if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
			have useradd || die "running as root and there is no 'postgres' user to run PostgreSQL as"
			useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_OS_USER"
		fi
	fi
	mkdir -p "$DATA"
	if [[ -n "$PG_OS_USER" ]]; then
		mkdir -p "$dir"
		touch "$log"
		chown "$PG_OS_USER" "$dir" "$log"
		chmod 700 "$dir"
		as_pg test -w "$dir" ||
			die "user $PG_OS_USER cannot write $dir (a parent directory is not reachable for it); run as that user or move the checkout"
	fi

	if [[ ! -s "$dir/PG_VERSION" ]]; then
		if port_free "$DEFAULT_PG_PORT"; then port="$DEFAULT_PG_PORT"; else port="$ALT_PG_PORT"; fi
		port_free "$port" || die "postgres: ports $DEFAULT_PG_PORT and $ALT_PG_PORT are both taken"
		local locale=C
		if have locale && locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=C.UTF-8; fi
		say "postgres: creating a private cluster in $dir (port $port)"
		as_pg "$bindir/initdb" -D "$dir" -A trust -U postgres -E UTF8 --locale="$locale" >"$DATA/initdb.log" 2>&1 ||
			die "postgres: initdb failed, see $DATA/initdb.log"
		# No unix socket: everything goes over 127.0.0.1, and socket paths have a length limit.
		# shellcheck disable=SC2016 # expanded by the inner sh
		as_pg sh -c 'cat >>"$1/postgresql.conf"' _ "$dir" <<EOF

# paotui private development instance (.ci/services.sh)
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
max_connections = 200
synchronous_commit = off
EOF
		printf '%s\n' "$port" >"$DATA/pg.port"
	fi
	port="$(cat "$DATA/pg.port" 2>/dev/null || echo "$DEFAULT_PG_PORT")"

	# A postmaster.pid left by a crash or container restart whose pid now belongs to someone else.
	if [[ -f "$dir/postmaster.pid" ]]; then
		pid="$(head -n1 "$dir/postmaster.pid" 2>/dev/null || true)"
		if [[ -z "$pid" || ! -r "/proc/$pid/comm" ]] || ! grep -qE '^(postgres|postmaster)' "/proc/$pid/comm" 2>/dev/null; then
			rm -f "$dir/postmaster.pid"
		fi
	fi
	say "postgres: starting private instance $dir on 127.0.0.1:$port (log $log)"
	as_pg "$bindir/pg_ctl" -D "$dir" -l "$log" -w -t 60 start >/dev/null ||
		die "postgres: the private instance did not start, see $log"
	poll 30 pg_ready "$(local_pg_url "$port" postgres)" || die "postgres: not answering on 127.0.0.1:$port, see $log"
	PG_PORT="$port"
	say "postgres: private instance is up on 127.0.0.1:$port"
}

# ensure_local_pg: sets PG_PORT, or adds to MISSING.
ensure_local_pg() {
	PG_PORT=""
	if pg_ready "$(local_pg_url "$DEFAULT_PG_PORT" postgres)"; then
		PG_PORT="$DEFAULT_PG_PORT"
		say "postgres: up on 127.0.0.1:$PG_PORT"
		return 0
	fi
	local p
	p="$(cat "$DATA/pg.port" 2>/dev/null || true)"
	if [[ -n "$p" && "$p" != "$DEFAULT_PG_PORT" ]] && pg_ready "$(local_pg_url "$p" postgres)"; then
		PG_PORT="$p"
		say "postgres: private instance up on 127.0.0.1:$PG_PORT"
		return 0
	fi
	local cluster bindir
	# A private cluster already made here wins over the system one that was not running anyway.
	if [[ ! -s "$DATA/pg/PG_VERSION" ]] && cluster="$(system_pg_cluster)"; then
		start_system_pg "$cluster" && return 0
	fi
	if bindir="$(pg_bindir)"; then
		start_private_pg "$bindir"
		return 0
	fi
	say "postgres: not running and not installed"
	MISSING+=(postgresql)
}

# ensure_database ADMIN_URL NAME: create database NAME if it does not exist.
ensure_database() {
	local admin="$1" name="$2" exists enc
	if [[ ! "$name" =~ ^[A-Za-z0-9_-]+$ ]]; then
		say "database: not checking unusual database name '$name'"
		return 0
	fi
	if ! have psql; then
		say "database: psql not installed, cannot check that database $name exists (apt-get install postgresql-client)"
		return 0
	fi
	local -a psql=(psql -X -q -t -A -v ON_ERROR_STOP=1 -d "$admin")
	exists="$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$name'")" ||
		die "database: cannot connect to $admin"
	if [[ "$exists" == 1 ]]; then
		say "database: $name exists"
		return 0
	fi
	enc="$("${psql[@]}" -c "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'template1'")"
	local sql="CREATE DATABASE \"$name\""
	if [[ "$enc" != UTF8 ]]; then
		sql+=" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
	fi
	if "${psql[@]}" -c "$sql" >/dev/null 2>&1; then
		say "database: created $name"
	elif [[ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$name'")" == 1 ]]; then
		say "database: $name exists" # created concurrently
	else
		"${psql[@]}" -c "$sql" # show the error
		die "database: could not create $name"
	fi
}

# ---------------------------------------------------------------------------------------------
# Redis

# redis_ready URL: a Redis server answers PING (NOAUTH counts: it is up, the app has the password).
redis_ready() {
	local out
	if have redis-cli; then
		out="$(limit 3 redis-cli --no-auth-warning -u "$1" ping 2>&1 || true)"
		[[ "$out" == PONG || "$out" == *NOAUTH* || "$out" == *WRONGPASS* ]]
	else
		parse_url "$1"
		local host="${U_HOST:-127.0.0.1}" port="${U_PORT:-6379}"
		host="${host#[}"
		host="${host%]}"
		# shellcheck disable=SC2016 # expanded by the inner bash
		limit 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "PING\r\n" >&3 && read -r line <&3 && [[ "$line" == +PONG* || "$line" == -NOAUTH* ]]' _ "$host" "$port" 2>/dev/null
	fi
}

local_redis_url() { printf 'redis://127.0.0.1:%s/0' "$1"; }

redis_system_installed() {
	[[ -f /etc/redis/redis.conf ]] || { have dpkg-query && dpkg-query -W -f='${Status}' redis-server 2>/dev/null | grep -q 'ok installed'; }
}

start_redis() {
	local port
	if redis_system_installed && port_free "$DEFAULT_REDIS_PORT"; then
		say "redis: starting redis-server on 127.0.0.1:$DEFAULT_REDIS_PORT"
		(cd / && redis-server --daemonize yes --bind 127.0.0.1 --port "$DEFAULT_REDIS_PORT" --save "" --appendonly no >/dev/null)
		port="$DEFAULT_REDIS_PORT"
	else
		port="$(cat "$DATA/redis.port" 2>/dev/null || true)"
		if [[ -z "$port" ]] || ! port_free "$port"; then
			if port_free "$DEFAULT_REDIS_PORT"; then port="$DEFAULT_REDIS_PORT"; else port="$ALT_REDIS_PORT"; fi
		fi
		port_free "$port" || die "redis: ports $DEFAULT_REDIS_PORT and $ALT_REDIS_PORT are both taken"
		mkdir -p "$DATA/redis"
		say "redis: starting a private redis-server on 127.0.0.1:$port (log $DATA/redis.log)"
		redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
			--dir "$DATA/redis" --logfile "$DATA/redis.log" --pidfile "$DATA/redis.pid" >/dev/null
		printf '%s\n' "$port" >"$DATA/redis.port"
	fi
	poll 15 redis_ready "$(local_redis_url "$port")" || die "redis: not answering on 127.0.0.1:$port"
	REDIS_PORT="$port"
	say "redis: up on 127.0.0.1:$port"
}

# ensure_local_redis: sets REDIS_PORT, or adds to MISSING.
ensure_local_redis() {
	REDIS_PORT=""
	if redis_ready "$(local_redis_url "$DEFAULT_REDIS_PORT")"; then
		REDIS_PORT="$DEFAULT_REDIS_PORT"
		say "redis: up on 127.0.0.1:$REDIS_PORT"
		return 0
	fi
	local p
	p="$(cat "$DATA/redis.port" 2>/dev/null || true)"
	if [[ -n "$p" && "$p" != "$DEFAULT_REDIS_PORT" ]] && redis_ready "$(local_redis_url "$p")"; then
		REDIS_PORT="$p"
		say "redis: private instance up on 127.0.0.1:$REDIS_PORT"
		return 0
	fi
	if have redis-server; then
		start_redis
		return 0
	fi
	say "redis: not running and not installed"
	MISSING+=(redis-server)
}

# ---------------------------------------------------------------------------------------------

install_missing() {
	local cmd="apt-get install -y ${MISSING[*]}"
	local -a sudo=()
	if ! is_root && have sudo && sudo -n true 2>/dev/null; then sudo=(sudo -n); fi
	if ((INSTALL)) && { is_root || ((${#sudo[@]})); } && have apt-get; then
		say "services: installing ${MISSING[*]} with apt-get"
		# The cluster Debian creates takes its encoding from the locale: make it UTF-8.
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8 apt-get update -qq
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8 \
			apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
		MISSING=()
		return 0
	fi
	((INSTALL)) && warn "services: installing needs root (or passwordless sudo)"
	warn "services: missing ${MISSING[*]}. Install with:"
	if is_root; then warn "    $cmd"; else warn "    sudo $cmd"; fi
	warn "  (or on other systems the PostgreSQL server and Redis packages; or run: $0 ensure --install as root,"
	warn "   or point PAOTUI_DATABASE_URL / PAOTUI_REDIS_URL at running servers)"
	exit 1
}

write_env() {
	mkdir -p "$DATA"
	local tmp="$ENV_FILE.$$"
	{
		say "# written by .ci/services.sh ensure; empty when the built-in defaults apply"
		if ((${#EXPORTS[@]})); then printf '%s\n' "${EXPORTS[@]}"; fi
	} >"$tmp"
	mv -f "$tmp" "$ENV_FILE"
	if ((${#EXPORTS[@]})); then
		say "services: use these (make does it for you: . .data/services.env):"
		printf '  %s\n' "${EXPORTS[@]}"
	fi
}

cmd_ensure() {
	local a
	for a in "$@"; do
		case "$a" in
		--install) INSTALL=1 ;;
		*) die "ensure: unknown argument $a" ;;
		esac
	done
	[[ "${CI:-}" == true || "${CI:-}" == 1 ]] && INSTALL=1
	local db_url="${PAOTUI_DATABASE_URL:-}" redis_url="${PAOTUI_REDIS_URL:-}" db_name="paotui" admin=""
	# URLs exported from our own services.env point at our private instances: manage them
	# (restart them if they are down) instead of treating them as someone else's servers.
	if [[ -n "$db_url" ]] && grep -qxF "export PAOTUI_DATABASE_URL='$db_url'" "$ENV_FILE" 2>/dev/null; then db_url=""; fi
	if [[ -n "$redis_url" ]] && grep -qxF "export PAOTUI_REDIS_URL='$redis_url'" "$ENV_FILE" 2>/dev/null; then redis_url=""; fi

	# Local services: find or start them, install what is missing, then start those.
	if [[ -z "$db_url" ]]; then ensure_local_pg; fi
	if [[ -z "$redis_url" ]]; then ensure_local_redis; fi
	if ((${#MISSING[@]})); then
		local -a was=("${MISSING[@]}")
		install_missing
		[[ " ${was[*]} " == *" postgresql "* ]] && ensure_local_pg
		[[ " ${was[*]} " == *" redis-server "* ]] && ensure_local_redis
		((${#MISSING[@]} == 0)) || die "still missing after install: ${MISSING[*]}"
	fi

	# PostgreSQL: the given server, or the local one.
	if [[ -n "$db_url" ]]; then
		say "postgres: waiting for PAOTUI_DATABASE_URL (up to ${WAIT}s)"
		poll "$WAIT" pg_ready "$db_url" || die "postgres: PAOTUI_DATABASE_URL does not answer"
		parse_url "$db_url"
		say "postgres: up at ${U_HOST:-?}:${U_PORT:-5432}"
		if [[ -n "$U_PREFIX" ]]; then
			db_name="${U_PATH:-paotui}"
			admin="$U_PREFIX/postgres$U_QUERY"
			[[ -n "${PAOTUI_TEST_DATABASE_URL:-}" ]] || EXPORTS+=("export PAOTUI_TEST_DATABASE_URL='$admin'")
			ensure_database "$admin" "$db_name"
		else
			say "database: PAOTUI_DATABASE_URL is not a URL; not checking the database"
		fi
	else
		admin="$(local_pg_url "$PG_PORT" postgres)"
		if [[ "$PG_PORT" != "$DEFAULT_PG_PORT" ]]; then
			EXPORTS+=("export PAOTUI_DATABASE_URL='$(local_pg_url "$PG_PORT" "$db_name")'")
			if [[ -z "${PAOTUI_TEST_DATABASE_URL:-}" || "${PAOTUI_TEST_DATABASE_URL}" == "$admin" ]]; then
				EXPORTS+=("export PAOTUI_TEST_DATABASE_URL='$admin'")
			fi
		fi
		ensure_database "$admin" "$db_name"
	fi
	if [[ -n "${PAOTUI_TEST_DATABASE_URL:-}" && "${PAOTUI_TEST_DATABASE_URL}" != "$admin" ]]; then
		poll "$WAIT" pg_ready "$PAOTUI_TEST_DATABASE_URL" || die "postgres: PAOTUI_TEST_DATABASE_URL does not answer"
		say "postgres: PAOTUI_TEST_DATABASE_URL answers"
	fi

	# Redis.
	if [[ -n "$redis_url" ]]; then
		say "redis: waiting for PAOTUI_REDIS_URL (up to ${WAIT}s)"
		poll "$WAIT" redis_ready "$redis_url" || die "redis: PAOTUI_REDIS_URL does not answer"
		parse_url "$redis_url"
		say "redis: up at ${U_HOST:-?}:${U_PORT:-6379}"
		[[ -n "${PAOTUI_TEST_REDIS_URL:-}" ]] || EXPORTS+=("export PAOTUI_TEST_REDIS_URL='$redis_url'")
	elif [[ "$REDIS_PORT" != "$DEFAULT_REDIS_PORT" ]]; then
		EXPORTS+=("export PAOTUI_REDIS_URL='$(local_redis_url "$REDIS_PORT")'")
		if [[ -z "${PAOTUI_TEST_REDIS_URL:-}" || "${PAOTUI_TEST_REDIS_URL}" == "$(local_redis_url "$REDIS_PORT")" ]]; then
			EXPORTS+=("export PAOTUI_TEST_REDIS_URL='$(local_redis_url "$REDIS_PORT")'")
		fi
	fi
	if [[ -n "${PAOTUI_TEST_REDIS_URL:-}" ]]; then
		poll "$WAIT" redis_ready "$PAOTUI_TEST_REDIS_URL" || die "redis: PAOTUI_TEST_REDIS_URL does not answer"
	fi

	write_env
}

cmd_env() {
	if [[ -f "$ENV_FILE" ]]; then
		grep -v '^#' "$ENV_FILE" || true
	fi
}

cmd_stop() {
	local bindir port
	if [[ -s "$DATA/pg/PG_VERSION" ]]; then
		if bindir="$(pg_bindir)"; then
			if is_root; then PG_OS_USER=postgres; fi
			if as_pg "$bindir/pg_ctl" -D "$DATA/pg" status >/dev/null 2>&1; then
				as_pg "$bindir/pg_ctl" -D "$DATA/pg" -m fast -w stop >/dev/null && say "postgres: stopped the private instance"
			else
				say "postgres: the private instance is not running"
			fi
		fi
	else
		say "postgres: no private instance (system services are left alone)"
	fi
	port="$(cat "$DATA/redis.port" 2>/dev/null || true)"
	if [[ -n "$port" && -f "$DATA/redis.pid" ]]; then
		# Only the server that wrote our pid file: a system redis may have taken the port since.
		local pid running
		pid="$(cat "$DATA/redis.pid" 2>/dev/null || true)"
		running="$(limit 3 redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p' || true)"
		if [[ -n "$pid" && "$running" == "$pid" ]]; then
			redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
			say "redis: stopped the private instance on $port"
		else
			say "redis: the private instance is not running"
		fi
	else
		say "redis: no private instance (system services are left alone)"
	fi
}

cmd_stripe_mock() {
	local start=0 a bindir bin
	for a in "$@"; do
		case "$a" in
		--start) start=1 ;;
		*) die "stripe-mock: unknown argument $a" ;;
		esac
	done
	have go || PATH="$PATH:/usr/local/go/bin"
	have go || die "stripe-mock: go is not installed (expected /usr/local/go/bin/go)"
	bindir="$(go env GOBIN)"
	[[ -n "$bindir" ]] || bindir="$(go env GOPATH | cut -d: -f1)/bin"
	bin="$bindir/stripe-mock"
	if [[ -x "$bin" ]] && go version -m "$bin" 2>/dev/null | grep -q "stripe-mock[[:space:]]*$STRIPE_MOCK_VERSION"; then
		say "stripe-mock: $STRIPE_MOCK_VERSION at $bin"
	else
		say "stripe-mock: installing $STRIPE_MOCK_VERSION"
		go install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION"
		say "stripe-mock: installed $bin"
	fi
	((start)) || return 0
	if tcp_open 127.0.0.1 12111; then
		say "stripe-mock: already listening on 127.0.0.1:12111"
		return 0
	fi
	mkdir -p "$DATA"
	nohup "$bin" -http-addr 127.0.0.1:12111 -https-addr 127.0.0.1:12112 </dev/null >"$DATA/stripe-mock.log" 2>&1 &
	printf '%s\n' "$!" >"$DATA/stripe-mock.pid"
	poll 20 tcp_open 127.0.0.1 12111 || die "stripe-mock: did not start, see $DATA/stripe-mock.log"
	say "stripe-mock: started (pid $(cat "$DATA/stripe-mock.pid")) on http://127.0.0.1:12111 and https://127.0.0.1:12112"
}

usage() {
	sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
	local cmd="${1:-}"
	[[ $# -gt 0 ]] && shift
	case "$cmd" in
	ensure) cmd_ensure "$@" ;;
	env) cmd_env ;;
	stop) cmd_stop ;;
	stripe-mock) cmd_stripe_mock "$@" ;;
	-h | --help | help) usage ;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
