# tests/lib.sh: shared by the integration tests (bash). Source it, then call the helpers.
# TAP output: ok/not_ok lines, counted here; finish with `done_testing`.
# Each test starts what it needs (a PostgreSQL cluster, the emulator) and a trap stops it whatever happens.

set -u
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${MOJOSYNC:=$top_builddir/src/mojosync}"
: "${EMULATOR:=$top_builddir/tests/emulator/mojo-emulator}"
: "${PG_BINDIR:=/usr/lib/postgresql/15/bin}"

T_N=0
T_FAILED=0
T_TMP=$(mktemp -d /tmp/mojosync-test.XXXXXX)
chmod 755 "$T_TMP"
T_CLEANUP=()

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
diag() { sed 's/^/# /' <<<"$*"; }

# check "description" command...: ok when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# is "got" "want" "description"
is() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		not_ok "$3"
		diag "got:  $1"
		diag "want: $2"
	fi
}

# like "text" "substring" "description"
like() {
	if [[ $1 == *"$2"* ]]; then
		ok "$3"
	else
		not_ok "$3"
		diag "got:  $1"
		diag "want (inside): $2"
	fi
}

# unlike "text" "substring" "description"
unlike() {
	if [[ $1 != *"$2"* ]]; then ok "$3"; else not_ok "$3"; diag "unwanted: $2"; fi
}

on_exit() {
	local i
	for ((i = ${#T_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${T_CLEANUP[$i]}" >/dev/null 2>&1 || true
	done
	rm -rf "$T_TMP"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

done_testing() {
	echo "1..$T_N"
	exit 0
}

# Runs a command as the postgres user when we are root (initdb refuses root).
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_start: a throwaway cluster in $T_TMP/pg, listening only on a Unix socket in $T_TMP/sock.
# Sets PGHOST, PGPORT, PGUSER, PGDATABASE and CONNINFO.
pg_start() {
	local data=$T_TMP/pg sock=$T_TMP/sock
	mkdir -p "$data" "$sock" "$T_TMP/pglog"
	[ "$(id -u)" = 0 ] && chown postgres: "$data" "$sock" "$T_TMP/pglog"
	if ! as_pg "$PG_BINDIR/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-sync >"$T_TMP/initdb.log" 2>&1; then
		echo "Bail out! initdb failed: $(tail -3 "$T_TMP/initdb.log")"
		exit 1
	fi
	PGPORT=$((20000 + RANDOM % 20000))
	T_CLEANUP+=("as_pg '$PG_BINDIR/pg_ctl' -D '$data' -m immediate -w stop")
	if ! as_pg "$PG_BINDIR/pg_ctl" -D "$data" -w -t 60 -l "$T_TMP/pglog/pg.log" \
		-o "-k $sock -p $PGPORT -c listen_addresses='' -c fsync=off -c full_page_writes=off" start >/dev/null; then
		echo "Bail out! pg_ctl start failed: $(tail -5 "$T_TMP/pglog/pg.log")"
		exit 1
	fi
	export PGHOST=$sock PGPORT PGUSER=postgres PGDATABASE=postgres
	CONNINFO="host=$sock port=$PGPORT user=postgres dbname=postgres"
}

pg_stop() {
	as_pg "$PG_BINDIR/pg_ctl" -D "$T_TMP/pg" -m fast -w stop >/dev/null 2>&1
}

pg_restart() {
	as_pg "$PG_BINDIR/pg_ctl" -D "$T_TMP/pg" -w -t 60 -l "$T_TMP/pglog/pg.log" \
		-o "-k $T_TMP/sock -p $PGPORT -c listen_addresses='' -c fsync=off -c full_page_writes=off" start >/dev/null
}

# psql_q SQL: one value (or rows, |-separated), no headers.
psql_q() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"
}

# write_config FILE [extra INI text]: a configuration for the local cluster and helpdesk URL $HELPDESK_URL.
write_config() {
	local file=$1
	shift
	{
		echo "[helpdesk]"
		echo "url = ${HELPDESK_URL:-http://127.0.0.1:9}"
		echo "access_key = ${ACCESS_KEY:-test-access-key-0123456789abcdef}"
		echo "[database]"
		echo "conninfo = $CONNINFO"
		echo "schema = ${SCHEMA:-mojo}"
		printf '%s\n' "$@"
	} >"$file"
	chmod 600 "$file"
}

# wait_for SECONDS command...: polls the command every 0.1 s until it succeeds or time runs out.
wait_for() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
