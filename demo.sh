#!/usr/bin/env bash
# ./demo.sh: mojosync's main job, start to finish, on this machine alone.
# Installs what is missing (apt-get), builds mojosync, starts the bundled helpdesk emulator with a sample
# helpdesk and a throwaway PostgreSQL, runs `mojosync sync`, shows what landed, then stops and removes both.
# MOJOSYNC=... EMULATOR=... use binaries built elsewhere; TICKETS=N sizes the sample helpdesk (default 2000).
set -eu
cd "$(dirname "$0")"
here=$(pwd)

if [ -z "${MOJOSYNC:-}" ] || [ -z "${EMULATOR:-}" ]; then
	build-aux/deps.sh demo
	if [ ! -x _build/src/mojosync ] || [ ! -x _build/tests/emulator/mojo-emulator ]; then
		echo "== building mojosync (autoreconf, configure, make) in _build/"
		[ -x configure ] || autoreconf -fi >/dev/null
		mkdir -p _build
		(cd _build && { [ -f Makefile ] || ../configure -q; } && make -s -j"$(nproc)" >/dev/null)
	fi
	MOJOSYNC=$here/_build/src/mojosync
	EMULATOR=$here/_build/tests/emulator/mojo-emulator
fi
export MOJOSYNC EMULATOR top_srcdir=$here
. "$here/tests/lib.sh"

echo "== starting a throwaway PostgreSQL (Unix socket in $T_TMP/sock)"
pg_start
echo "== starting the helpdesk emulator with a sample helpdesk of ${TICKETS:-2000} tickets"
ACCESS_KEY=demo-access-key-0123456789abcdef
emu_start --seed 42 --tickets "${TICKETS:-2000}" --users 300 --comments-per-ticket 3
write_config "$T_TMP/mojosync.conf"
echo "   $HELPDESK_URL, configuration:"
sed -e 's/^/     /' -e 's/\(access_key = \).*/\1(hidden)/' "$T_TMP/mojosync.conf"

echo "== mojosync sync"
"$MOJOSYNC" -c "$T_TMP/mojosync.conf" sync
echo "== mojosync status"
"$MOJOSYNC" -c "$T_TMP/mojosync.conf" status

echo "== what landed in PostgreSQL (schema mojo)"
psql -X -q -P footer=off -c "select 'tickets' as table, count(*) as rows from mojo.tickets
	union all select 'comments', count(*) from mojo.comments
	union all select 'users', count(*) from mojo.users
	union all select 'ticket_queues', count(*) from mojo.ticket_queues
	union all select 'companies', count(*) from mojo.companies
	union all select 'ticket_history', count(*) from mojo.ticket_history"
echo "-- open tickets by queue and priority (the view ticket_details names everything):"
psql -X -q -P footer=off -c "select ticket_queue, priority, count(*) as open_tickets
	from mojo.ticket_details where is_open group by 1, 2 order by 1, 2 limit 12"
echo "-- the five oldest open tickets:"
psql -X -q -P footer=off -c "select id, left(title, 40) as title, status, requester, assignee, date_trunc('day', age) as age
	from mojo.ticket_details where is_open order by created_on limit 5"

cat <<'TXT'
== done: the emulator and the database are stopped and removed.

To mirror your own helpdesk, write /etc/mojosync/mojosync.conf (see doc/mojosync.conf.example):
    [helpdesk]
    url = https://yourcompany.mojohelpdesk.com
    access_key_file = /etc/mojosync/access_key      ; the key from your agent profile, mode 0600
    [database]
    conninfo = postgresql:///helpdesk
then run `mojosync check`, `mojosync sync`, and install the service: systemctl enable --now mojosync.
TXT
