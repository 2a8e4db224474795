#!/usr/bin/env bash
# The command line: help, version, usage errors, configuration errors (exit 2), check and status.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

out=$("$MOJOSYNC" --help 2>&1); rc=$?
is "$rc" 0 "--help exits 0"
for c in run sync migrate status check --full; do like "$out" "$c" "--help mentions $c"; done
out=$("$MOJOSYNC" --version 2>&1)
like "$out" "mojosync 0." "--version prints the version"

keys=$("$MOJOSYNC" --list-keys)
readme=$(sed -n '/^<!-- keys -->$/,/^<!-- \/keys -->$/p' "$top_srcdir/README.md" | sed '1d;$d')
is "$readme" "$keys" "the README's table of keys is mojosync --list-keys"
like "$keys" '| `[sync] interval` | duration | 60s | 1s to 7d | yes |' "the table gives type, default, bounds and reload"

# Every test script is part of the suite: a script missing from Makefile.am would never run.
missing=""
for t in "$top_srcdir"/tests/integration/test-*.sh; do
	grep -q "tests/integration/$(basename "$t")" "$top_srcdir/Makefile.am" || missing="$missing $(basename "$t")"
done
is "$missing" "" "every tests/integration/test-*.sh is listed in Makefile.am"

out=$("$MOJOSYNC" 2>&1); rc=$?
is "$rc" 2 "no command: exit 2"
like "$out" "no command given" "no command: says so"
out=$("$MOJOSYNC" frobnicate 2>&1); rc=$?
is "$rc" 2 "unknown command: exit 2"
like "$out" 'unknown command "frobnicate"' "unknown command: named"
out=$("$MOJOSYNC" -x status 2>&1); rc=$?
is "$rc" 2 "unknown option: exit 2"
out=$("$MOJOSYNC" -c /nonexistent.conf status 2>&1); rc=$?
is "$rc" 2 "missing configuration file: exit 2"
like "$out" "cannot read configuration file /nonexistent.conf" "missing configuration file: named"
out=$("$MOJOSYNC" -c /nonexistent.conf migrate --full 2>&1); rc=$?
is "$rc" 2 "--full on migrate: exit 2"
out=$("$MOJOSYNC" -c /nonexistent.conf status extra 2>&1); rc=$?
is "$rc" 2 "stray argument: exit 2"
out=$(MOJOSYNC_CONFIG=/nonexistent-env.conf "$MOJOSYNC" status 2>&1)
like "$out" "/nonexistent-env.conf" "\$MOJOSYNC_CONFIG names the default file"
out=$(env -u MOJOSYNC_CONFIG "$MOJOSYNC" status 2>&1)
like "$out" "/etc/mojosync/mojosync.conf" "default file is /etc/mojosync/mojosync.conf"

printf '[helpdesk]\nurl = https://x\naccess_key = abcdefSECRET123\n[sync]\ninterval = 10x\n' >"$T_TMP/bad.conf"
out=$("$MOJOSYNC" -c "$T_TMP/bad.conf" check 2>&1); rc=$?
is "$rc" 2 "bad configuration: exit 2"
like "$out" "$T_TMP/bad.conf:5: [sync] interval: \"10x\" has an unknown unit" "bad configuration: file:line and key"
unlike "$out" "abcdefSECRET123" "bad configuration: no key in the output"

pg_start
ACCESS_KEY=verySECRETkey0123456789
HELPDESK_URL=http://127.0.0.1:9
write_config "$T_TMP/good.conf"

out=$("$MOJOSYNC" -c "$T_TMP/good.conf" status 2>&1); rc=$?
is "$rc" 1 "status before migrate: exit 1"
like "$out" "run mojosync migrate" "status before migrate: says what to do"

out=$("$MOJOSYNC" -v -c "$T_TMP/good.conf" check 2>&1); rc=$?
is "$rc" 1 "check with an unreachable helpdesk: exit 1"
like "$out" "configuration: $T_TMP/good.conf is valid" "check: configuration valid"
like "$out" "database: PostgreSQL 15" "check: prints the server version"
like "$out" "helpdesk http://127.0.0.1:9: unreachable" "check: unreachable helpdesk named"
unlike "$out" "$ACCESS_KEY" "check -v: the key never appears"

"$MOJOSYNC" -c "$T_TMP/good.conf" migrate >/dev/null 2>&1
out=$("$MOJOSYNC" -c "$T_TMP/good.conf" status 2>&1); rc=$?
is "$rc" 0 "status after migrate: exit 0"
for r in tickets comments users ticket_queues companies; do like "$out" "$r" "status lists $r"; done
psql_q "update mojo.sync_state set watermark = '2024-05-06 07:08:09.123456+00', last_error = 'boom happened' where resource = 'tickets'"
psql_q "insert into mojo.tickets (id, raw) values (1, '{}'), (2, '{}'); update mojo.tickets set deleted_at = now() where id = 2"
out=$("$MOJOSYNC" -c "$T_TMP/good.conf" status 2>&1)
line=$(grep '^tickets ' <<<"$out")
like "$line" "2024-05-06T07:08:09.123456Z" "status: watermark to the microsecond, UTC"
like "$line" "boom happened" "status: last error"
like "$(tr -s ' ' <<<"$line")" " 1 1 " "status: one live row and one deleted"

printf '[helpdesk]\nurl = http://127.0.0.1:9\naccess_key = k3y-0123456789\n[database]\nconninfo = host=%s port=1 user=postgres connect_timeout=2\n' "$T_TMP/sock" >"$T_TMP/nodb.conf"
chmod 600 "$T_TMP/nodb.conf"
out=$("$MOJOSYNC" -c "$T_TMP/nodb.conf" status 2>&1); rc=$?
is "$rc" 1 "unreachable database: exit 1"
like "$out" "cannot connect to the database" "unreachable database: says so"

# check against the emulator: a good key, then a rejected one
emu_start --tickets 5 --users 3
write_config "$T_TMP/emu.conf"
out=$("$MOJOSYNC" -c "$T_TMP/emu.conf" check 2>&1); rc=$?
is "$rc" 0 "check with a reachable helpdesk and database: exit 0"
like "$out" "access key accepted" "check: the helpdesk accepted the key"
ACCESS_KEY=not-the-right-key-42 write_config "$T_TMP/wrong.conf"
out=$("$MOJOSYNC" -v -c "$T_TMP/wrong.conf" check 2>&1); rc=$?
is "$rc" 1 "check with a wrong key: exit 1"
like "$out" "access key rejected" "check: a 401 is reported as access key rejected"
unlike "$out" "not-the-right-key-42" "check: the wrong key is not printed either"

done_testing
