#!/usr/bin/env bash
# kill -9 at random instants of syncs: the watermark is never ahead of committed data, and after a restart
# the mirror equals the helpdesk.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

pg_start
emu_start --seed 51 --tickets 600 --users 60 --comments-per-ticket 2
write_config "$T_TMP/c.conf" "[sync]" "overlap = 1m"
emu_post /_emu/faults '{"latency_ms":3}' >/dev/null

# Tickets the helpdesk had before the watermark that the mirror lacks or holds older (rows at the watermark's
# own instant may wait: every search starts again at or before it).
ahead() {
	load_truth >/dev/null 2>&1
	psql_q "with t as (select (e->>'id')::bigint id, (e->>'updated_on')::timestamptz u from public._truth, jsonb_array_elements(j->'tickets') e)
		select count(*) from t where u < (select watermark from mojo.sync_state where resource = 'tickets')
		and not exists (select 1 from mojo.tickets m where m.id = t.id and m.updated_on >= t.u)"
}

kills=0 bad=0 killed_mid=0
RANDOM=51
for i in $(seq 1 24); do
	emu_post /_emu/mutate "{\"tickets\":$((20 + RANDOM % 60)),\"new_tickets\":2,\"comments\":10}" >/dev/null
	args=()
	[ $((i % 6)) = 0 ] && args=(--full)
	"$MOJOSYNC" -c "$T_TMP/c.conf" sync "${args[@]}" >>"$T_TMP/runs.log" 2>&1 &
	pid=$!
	# The fault is the randomness of the instant: a kill anywhere from connecting to committing.
	sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
	if kill -9 $pid 2>/dev/null; then
		killed_mid=$((killed_mid + 1))
	fi
	wait $pid 2>/dev/null
	kills=$((kills + 1))
	n=$(ahead)
	[ "$n" = 0 ] || { bad=$((bad + 1)); diag "after kill $i: $n tickets before the watermark are missing or older"; }
done
is "$bad" 0 "after $kills kills ($killed_mid in the middle of a sync) the watermark was never ahead of committed data"
check "most kills landed in the middle of a sync ($killed_mid of $kills)" test "$killed_mid" -ge $((kills / 2))
is "$(psql_q "select count(*) from pg_stat_activity where state like 'idle in transaction%'")" 0 "no transaction is left open"

emu_post /_emu/faults '{"reset":true}' >/dev/null
"$MOJOSYNC" -c "$T_TMP/c.conf" sync --full >"$T_TMP/final.log" 2>&1; rc=$?
is "$rc" 0 "a sync after the crashes exits 0"
is "$(compare_truth | head -1)" 0 "after the crashes and one full sync the mirror equals the helpdesk"
is "$(psql_q "select count(*) from (select ticket_id, valid_from from mojo.ticket_history group by 1, 2 having count(*) > 1) x")" 0 "no duplicate history versions"

done_testing
