#!/usr/bin/env bash
# Nothing missed while data moves: rows shifting between pages, a search index that lags, the helpdesk's clock
# ahead of or behind ours, and HTTP faults on the way.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

pg_start
sync_with() { "$MOJOSYNC" -c "$1" sync "${@:2}" >"$T_TMP/out" 2>&1; echo $?; }
equal() {
	local out n
	out=$(compare_truth "$1")
	n=$(head -1 <<<"$out")
	is "$n" 0 "$2"
	[ "$n" = 0 ] || diag "$(tail -n +2 <<<"$out" | head -20)"
}

# --- rows shift between the pages of an incremental search
emu_start --seed 21 --tickets 500 --users 50
SCHEMA=shift write_config "$T_TMP/shift.conf" "[sync]" "overlap = 1m"
is "$(sync_with "$T_TMP/shift.conf")" 0 "shift: initial sync"
# Changes spread over 12 minutes of the helpdesk's clock, so that overlap alone cannot hide a skipped row.
for i in 1 2 3 4 5 6; do
	emu_post /_emu/clock '{"advance":120}' >/dev/null
	emu_post /_emu/mutate '{"tickets":60}' >/dev/null
done
emu_post /_emu/faults '{"shift_pages":true}' >/dev/null
emu_post /_emu/stats/reset '{}' >/dev/null
is "$(sync_with "$T_TMP/shift.conf")" 0 "shift: incremental sync while rows shift between pages"
shifts=$(emu_get /_emu/stats | jq '.shifts')
check "shift: the emulator moved rows between page requests ($shifts times)" test "$shifts" -ge 2
emu_post /_emu/faults '{"shift_pages":false}' >/dev/null
is "$(sync_with "$T_TMP/shift.conf")" 0 "shift: next sync, at rest"
equal shift "shift: nothing was skipped (incremental cycles only)"
emu_stop

# --- a search index that lags: changes show up late, within overlap
emu_start --seed 22 --tickets 300 --users 40
SCHEMA=lag write_config "$T_TMP/lag.conf" "[sync]" "overlap = 5m"
is "$(sync_with "$T_TMP/lag.conf")" 0 "lag: initial sync"
emu_post /_emu/faults '{"search_lag_s":120}' >/dev/null
emu_post /_emu/mutate '{"tickets":25,"new_tickets":5,"comments":10}' >/dev/null
is "$(sync_with "$T_TMP/lag.conf")" 0 "lag: sync while the index lags"
n=$(compare_truth lag | head -1)
check "lag: the index really hides the changes for now ($n differences)" test "$n" -gt 0
emu_post /_emu/clock '{"advance":180}' >/dev/null
is "$(sync_with "$T_TMP/lag.conf")" 0 "lag: sync once the index caught up"
equal lag "lag: every late change arrived"
emu_stop

# --- the helpdesk's clock behind ours and ahead of ours: watermarks come from the data
for offset in -7200 7200; do
	emu_start --seed 23 --tickets 200 --users 30 --clock-offset "$offset"
	SCHEMA="clock$((offset < 0 ? 0 : 1))" write_config "$T_TMP/clock.conf" "[sync]" "overlap = 1m"
	s="clock$((offset < 0 ? 0 : 1))"
	is "$(sync_with "$T_TMP/clock.conf")" 0 "clock $offset s: initial sync"
	emu_post /_emu/mutate '{"tickets":15,"new_tickets":3,"comments":5}' >/dev/null
	is "$(sync_with "$T_TMP/clock.conf")" 0 "clock $offset s: incremental sync"
	equal "$s" "clock $offset s: nothing missed"
	wm=$(psql_q "select extract(epoch from watermark)::bigint from \"$s\".sync_state where resource = 'tickets'")
	now=$(date +%s)
	check "clock $offset s: the watermark is on the helpdesk's clock" test $(( (wm - now - offset) * (wm - now - offset) )) -lt 3600
	emu_stop
done

# --- HTTP faults on the way: 5xx, 429 (with and without Retry-After), cut bodies
emu_start --seed 24 --tickets 120 --users 20 --comments-per-ticket 2
SCHEMA=faults write_config "$T_TMP/faults.conf" "[sync]" "overlap = 1m" "concurrency = 8"
emu_post /_emu/faults '{"error_rate":0.1,"rate_429":0.05,"cut_rate":0.05,"retry_after_s":1}' >/dev/null
is "$(sync_with "$T_TMP/faults.conf")" 0 "faults: the initial sync survives 5xx, 429 and cut bodies"
like "$(cat "$T_TMP/out")" "retrying in" "faults: failed requests were retried"
r=$(emu_get /_emu/stats | jq '.injected + .cuts')
check "faults: the emulator injected faults ($r)" test "$r" -gt 0
emu_post /_emu/faults '{"reset":true}' >/dev/null
equal faults "faults: the mirror equals the helpdesk"
emu_post /_emu/faults '{"error_rate":1}' >/dev/null
is "$(sync_with "$T_TMP/faults.conf")" 1 "faults: a helpdesk that keeps failing: exit 1"
like "$(cat "$T_TMP/out")" "after 6 attempts" "faults: says it gave up, and after how many attempts"
is "$(psql_q "select last_error is not null from faults.sync_state where resource = 'tickets'")" t "faults: the failure is recorded in sync_state"

# --- a body over the cap: a clear error, nothing stored from it
emu_post /_emu/faults '{"reset":true}' >/dev/null
SCHEMA=cap write_config "$T_TMP/cap.conf" "[sync]" "overlap = 1m"
out=$(MOJOSYNC_MAX_BODY=4096 "$MOJOSYNC" -c "$T_TMP/cap.conf" sync 2>&1); rc=$?
is "$rc" 1 "cap: a body over the cap fails the cycle"
like "$out" "response body larger than 4096 bytes" "cap: the error names the cap"
is "$(psql_q "select count(*) from cap.tickets")" 0 "cap: nothing of the oversized pages was stored"

# --- timeouts: answers slower than [sync] timeout are retried
SCHEMA=slow write_config "$T_TMP/slow.conf" "[sync]" "overlap = 1m" "timeout = 1s" "concurrency = 8"
emu_post /_emu/faults '{"latency_jitter_ms":1300}' >/dev/null
"$MOJOSYNC" -c "$T_TMP/slow.conf" sync >"$T_TMP/out" 2>&1
like "$(cat "$T_TMP/out")" "Operation timed out after" "timeouts: slow answers time out"
like "$(grep 'timed out' "$T_TMP/out" | head -1)" "retrying in" "timeouts: and are retried"
emu_post /_emu/faults '{"reset":true}' >/dev/null
"$MOJOSYNC" -c "$T_TMP/slow.conf" sync >"$T_TMP/out" 2>&1; rc=$?
is "$rc" 0 "timeouts: the next cycle exits 0"
equal slow "timeouts: the mirror equals the helpdesk"
emu_stop

# --- refused connections: the helpdesk is down
out=$("$MOJOSYNC" -c "$T_TMP/slow.conf" sync 2>&1); rc=$?
is "$rc" 1 "refused: exit 1 when the helpdesk cannot be reached"
like "$out" "Couldn't connect to server" "refused: the error says so"
like "$out" "after 6 attempts" "refused: after the retries"

# --- max_rate: requests per minute at most (a lower bound on time is safe on a busy machine)
emu_start --seed 25 --tickets 6 --users 4 --comments-per-ticket 1
SCHEMA=rate write_config "$T_TMP/rate.conf" "[sync]" "max_rate = 240" "concurrency = 8"
t0=$(date +%s%N)
"$MOJOSYNC" -c "$T_TMP/rate.conf" sync >"$T_TMP/out" 2>&1; rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
n=$(emu_get /_emu/stats | jq '[.requests[] | to_entries[] | .value] | add')
is "$rc" 0 "max_rate: the sync completes"
check "max_rate = 240/min: $n requests took $ms ms, at least $(((n - 1) * 250)) ms" test "$ms" -ge $(((n - 1) * 250))
emu_stop

done_testing
