#!/usr/bin/env bash
# mojosync run: systemd notifications, timers, reload, metrics, stopping, and PostgreSQL going away.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
NOTIFY_LISTEN=${NOTIFY_LISTEN:-$top_builddir/tests/notify-listen}

pg_start
emu_start --seed 31 --tickets 300 --users 40
MPORT=$(free_port)
write_config "$T_TMP/d.conf" "[sync]" "interval = 1s" "overlap = 1m" "reconcile_interval = 1h" "[metrics]" "listen = 127.0.0.1:$MPORT"
cp "$T_TMP/d.conf" "$T_TMP/good.conf"

"$NOTIFY_LISTEN" "$T_TMP/notify.sock" 120 >"$T_TMP/notify.log" &
T_CLEANUP+=("kill $!")
wait_for 10 grep -q listening "$T_TMP/notify.log"
emu_post /_emu/stats/reset '{}' >/dev/null
NOTIFY_SOCKET=$T_TMP/notify.sock WATCHDOG_USEC=1000000 "$MOJOSYNC" -c "$T_TMP/d.conf" run >"$T_TMP/daemon.log" 2>&1 &
DPID=$!
T_CLEANUP+=("kill -9 $DPID")

count() { grep -c -- "$1" "$T_TMP/notify.log"; }
check "READY=1 arrives" wait_for 30 grep -q 'READY=1' "$T_TMP/notify.log"
check "STATUS= arrives after a cycle" wait_for 30 grep -q '^STATUS=synced' "$T_TMP/notify.log"
at_least() { [ "$(count "$1")" -ge "$2" ]; }
w=$(count WATCHDOG=1)
check "WATCHDOG=1 keeps arriving at half the watchdog period" wait_for 10 at_least WATCHDOG=1 $((w + 3))
like "$(grep -m1 '^STATUS=synced' "$T_TMP/notify.log")" "next in" "STATUS says when the next cycle runs"

sleep_until_busy() { [ "$(emu_get /_emu/stats | jq '.requests["tickets.show"]["200"] // 0')" -gt "${1:-0}" ]; }
equal_now() { [ "$(compare_truth | head -1)" = 0 ]; }
check "the first cycle mirrors the helpdesk" wait_for 30 equal_now
emu_post /_emu/mutate '{"tickets":10,"new_tickets":4,"comments":6}' >/dev/null
check "changes reach the database within a few intervals" wait_for 20 equal_now

# --- reload: a longer interval takes effect; the metrics then hold still and match the emulator's counts
sed -i 's/^interval = 1s$/interval = 1h/' "$T_TMP/d.conf"
kill -HUP $DPID
check "SIGHUP: RELOADING=1" wait_for 10 grep -q 'RELOADING=1' "$T_TMP/notify.log"
check "SIGHUP: reloaded, READY=1 again" wait_for 10 grep -q 'READY=1 STATUS=configuration reloaded' "$T_TMP/notify.log"
check "SIGHUP: the new interval is in force" wait_for 30 grep -q 'next .*in 3[0-9][0-9][0-9]s' "$T_TMP/notify.log"
metrics=$(curl -sf "http://127.0.0.1:$MPORT/metrics")
is "$(grep -v '^#' <<<"$metrics" | grep -cvE '^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+$')" 0 "/metrics parses as Prometheus text"
like "$metrics" "# TYPE mojosync_http_requests_total counter" "/metrics declares its types"
stats=$(emu_get /_emu/stats)
bad=0
for cls in $(jq -r '.requests | keys[]' <<<"$stats"); do
	for code in $(jq -r --arg c "$cls" '.requests[$c] | keys[]' <<<"$stats"); do
		want=$(jq -r --arg c "$cls" --arg k "$code" '.requests[$c][$k]' <<<"$stats")
		got=$(sed -n "s/^mojosync_http_requests_total{endpoint=\"$cls\",code=\"$code\"} //p" <<<"$metrics")
		[ "$got" = "$want" ] || { bad=$((bad + 1)); diag "$cls $code: metrics $got, emulator $want"; }
	done
done
is "$bad" 0 "request counters equal the emulator's statistics, endpoint by endpoint"
like "$metrics" 'mojosync_rows_total{resource="tickets",op="inserted"} 304' "rows written are counted per resource and operation"
like "$metrics" 'mojosync_last_success_timestamp_seconds{resource="tickets"}' "last success time per resource"
like "$metrics" 'mojosync_watermark_age_seconds{resource="tickets"}' "watermark age"

# --- reload with a broken file: the daemon keeps running on the old configuration
printf '[helpdesk]\nurl = ftp://nope\n' >"$T_TMP/d.conf"
r=$(count 'READY=1')
kill -HUP $DPID
check "a broken file: READY=1 again" wait_for 10 at_least 'READY=1' $((r + 1))
check "a broken file: the error is logged" wait_for 5 grep -q 'still running with the configuration loaded before' "$T_TMP/daemon.log"
like "$(cat "$T_TMP/daemon.log")" "d.conf:2: [helpdesk] url" "a broken file: the log names file, line and key"
check "a broken file: the daemon is still running" kill -0 $DPID
# --- reload changing a key that cannot change, and a short interval again
sed -e 's/^schema = .*/schema = elsewhere/' "$T_TMP/good.conf" >"$T_TMP/d.conf"
s=$(count '^STATUS=synced')
kill -HUP $DPID
check "schema cannot change on reload, and says so" wait_for 10 grep -q '\[database\] schema cannot change on reload' "$T_TMP/daemon.log"
check "the interval is short again: cycles resume" wait_for 20 at_least '^STATUS=synced' $((s + 2))
is "$(psql_q "select count(*) from information_schema.schemata where schema_name = 'elsewhere'")" 0 "the running schema was kept"

out=$("$MOJOSYNC" -c "$T_TMP/good.conf" status 2>&1); rc=$?
is "$rc" 0 "status works while the daemon runs"
out=$("$MOJOSYNC" -c "$T_TMP/good.conf" check 2>&1); rc=$?
is "$rc" 0 "check works while the daemon runs"

# --- PostgreSQL stops and comes back: nothing lost, the daemon keeps running
pg_stop
emu_post /_emu/mutate '{"tickets":8,"new_tickets":2,"comments":4}' >/dev/null
check "database down: the daemon says so" wait_for 20 grep -q 'database unreachable' "$T_TMP/notify.log"
check "database down: the daemon keeps running" kill -0 $DPID
pg_restart
check "database back: the changes made meanwhile arrive" wait_for 40 equal_now
check "database back: the reconnect is logged" grep -q 'database: reconnected' "$T_TMP/daemon.log"

# --- PostgreSQL crashes (immediate shutdown) in the middle of a busy cycle: nothing lost, nothing half-stored
emu_post /_emu/faults '{"latency_ms":20}' >/dev/null
emu_post /_emu/mutate '{"tickets":120,"comments":20}' >/dev/null
before=$(emu_get /_emu/stats | jq '.requests["tickets.show"]["200"] // 0')
check "a cycle is busy fetching tickets before the crash" wait_for 20 sleep_until_busy "$before"
as_pg "$PG_BINDIR/pg_ctl" -D "$T_TMP/pg" -m immediate -w stop >/dev/null 2>&1
check "crash: the daemon keeps running" kill -0 $DPID
pg_restart
emu_post /_emu/faults '{"reset":true}' >/dev/null
check "crash: after recovery the mirror equals the helpdesk" wait_for 60 equal_now
is "$(psql_q "select watermark <= (select max(updated_on) from mojo.tickets) from mojo.sync_state where resource = 'tickets'")" t "crash: the watermark is not ahead of the data"

# --- SIGTERM in the middle of a sync: exit 0 quickly, nothing partial committed
emu_post /_emu/faults '{"latency_ms":40}' >/dev/null
emu_post /_emu/mutate '{"tickets":150}' >/dev/null
before=$(emu_get /_emu/stats | jq '.requests["tickets.show"]["200"] // 0')
check "a cycle is busy fetching tickets" wait_for 20 sleep_until_busy "$before"
t0=$(date +%s%N)
kill -TERM $DPID
wait $DPID; rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
is "$rc" 0 "SIGTERM during a sync: exit 0"
check "SIGTERM: the daemon was gone within 12 s ($ms ms)" test "$ms" -lt 12000
check "SIGTERM: STOPPING=1" grep -q 'STOPPING=1' "$T_TMP/notify.log"
wm_ok=$(psql_q "select watermark <= (select max(updated_on) from mojo.tickets) from mojo.sync_state where resource = 'tickets'")
is "$wm_ok" t "SIGTERM: the watermark is not ahead of the committed data"
emu_post /_emu/faults '{"reset":true}' >/dev/null
"$MOJOSYNC" -c "$T_TMP/good.conf" sync >/dev/null 2>&1
check "after a restart the mirror equals the helpdesk" equal_now
unlike "$(cat "$T_TMP/daemon.log" "$T_TMP/notify.log")" "${ACCESS_KEY:-test-access-key-0123456789abcdef}" "the key appears in no log line or notification"

done_testing
