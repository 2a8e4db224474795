#!/usr/bin/env bash
# bench/soak.sh [CYCLES]: the daemon against the emulator on loopback for CYCLES cycles (default 120) of 1 s, with
# steady mutations and faults (5xx, 429, cut bodies, a lagging index). Samples resident memory and open file
# descriptors every 10 cycles; prints them and the ratio of the last to the first sample. Bounded: at most
# CYCLES * 3 s, then it stops by itself. Run from a build directory (or set MOJOSYNC and EMULATOR).
set -eu
: "${top_builddir:=$PWD}"	# binaries from the build directory we run in
. "$(dirname "$0")/../tests/lib.sh"
cycles=${1:-120}

pg_start
emu_start --seed 91 --tickets 2000 --users 200
write_config "$T_TMP/c.conf" "[sync]" "interval = 1s" "overlap = 2m" "reconcile_interval = 1m"
"$MOJOSYNC" -c "$T_TMP/c.conf" run >"$T_TMP/d.log" 2>&1 &
pid=$!
T_CLEANUP+=("kill -9 $pid")
wait_for 60 grep -q "cycle done" "$T_TMP/d.log"
emu_post /_emu/faults '{"error_rate":0.03,"rate_429":0.02,"cut_rate":0.02,"search_lag_s":5,"retry_after_s":1}' >/dev/null

rss() { awk '/^VmRSS/ { print $2 }' /proc/$pid/status; }
fds() { ls /proc/$pid/fd | wc -l; }
printf '%8s %10s %6s\n' cycles rss_kb fds
first_rss=$(rss) first_fds=$(fds) max_rss=0
deadline=$(($(date +%s) + cycles * 3))
done_cycles=0
while [ "$done_cycles" -lt "$cycles" ] && [ "$(date +%s)" -lt "$deadline" ]; do
	emu_post /_emu/mutate '{"tickets":10,"new_tickets":2,"comments":8,"users":1,"new_users":1,"delete_comments":1}' >/dev/null
	n=$(grep -c "cycle done\|cycle FAILED" "$T_TMP/d.log" || true)
	wait_for 30 lines_at_least "$T_TMP/d.log" 'cycle \(done\|FAILED\)' $((n + 1)) || true
	done_cycles=$(grep -c "cycle done\|cycle FAILED" "$T_TMP/d.log" || true)
	r=$(rss)
	[ "$r" -gt "$max_rss" ] && max_rss=$r
	[ $((done_cycles % 10)) = 0 ] && printf '%8d %10d %6d\n' "$done_cycles" "$r" "$(fds)"
done
last_rss=$(rss) last_fds=$(fds)
kill -TERM $pid
wait $pid || true
echo "cycles: $done_cycles ($(grep -c 'cycle FAILED' "$T_TMP/d.log" || true) failed, retried next time); retries logged: $(grep -c 'retrying in' "$T_TMP/d.log" || true)"
echo "resident memory: first $first_rss kB, last $last_rss kB, max $max_rss kB"
echo "open descriptors: first $first_fds, last $last_fds"
awk -v a="$last_rss" -v b="$first_rss" 'BEGIN { printf "ratio last/first resident memory: %.2f\n", a / b }'
emu_post /_emu/faults '{"reset":true}' >/dev/null
"$MOJOSYNC" -c "$T_TMP/c.conf" sync --full >/dev/null 2>&1 || true
echo "after the soak and one full sync, differences from the helpdesk: $(compare_truth | head -1)"
