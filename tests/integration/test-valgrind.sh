#!/usr/bin/env bash
# A full sync with faults, and the daemon from start to SIGTERM, under valgrind: no error, no leak.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

if ldd "$MOJOSYNC" | grep -q libasan; then
	echo "1..0 # SKIP valgrind cannot run a build with AddressSanitizer (the normal build runs this test)"
	exit 0
fi
VG=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 --log-file="$T_TMP/vg.%p.log")

pg_start
emu_start --seed 41 --tickets 120 --users 20 --comments-per-ticket 2
write_config "$T_TMP/c.conf" "[sync]" "overlap = 1m" "interval = 1s" "[metrics]" "listen = 127.0.0.1:$(free_port)"
emu_post /_emu/faults '{"error_rate":0.05,"cut_rate":0.05,"rate_429":0.03,"retry_after_s":1}' >/dev/null
"${VG[@]}" "$MOJOSYNC" -c "$T_TMP/c.conf" sync --full >"$T_TMP/out" 2>&1; rc=$?
is "$rc" 0 "sync --full with faults under valgrind: exit 0, no error, no leak"
[ "$rc" = 0 ] || diag "$(cat "$T_TMP"/vg.*.log "$T_TMP/out" | tail -40)"
like "$(cat "$T_TMP/out")" "retries" "the run went through retries"
emu_post /_emu/faults '{"reset":true}' >/dev/null
is "$(compare_truth | head -1)" 0 "and the mirror equals the helpdesk"

emu_post /_emu/mutate '{"tickets":10,"comments":5}' >/dev/null
rm -f "$T_TMP"/vg.*.log
"${VG[@]}" "$MOJOSYNC" -c "$T_TMP/c.conf" run >"$T_TMP/run.out" 2>&1 &
pid=$!
# Bounds are generous: valgrind is slow, and more so on a loaded machine.
check "the daemon under valgrind completes cycles" wait_for 180 grep -q "cycle done" "$T_TMP/run.out"
# SIGHUP only once the daemon has its signal handlers (it logs "running" after installing them).
wait_for 60 grep -q "running: every" "$T_TMP/run.out"
kill -HUP $pid
check "and reloads" wait_for 60 grep -q "reload: configuration applied" "$T_TMP/run.out"
check "and cycles again" wait_for 90 lines_at_least "$T_TMP/run.out" 'cycle done' 2
kill -TERM $pid
wait $pid; rc=$?
is "$rc" 0 "the daemon under valgrind: SIGTERM, exit 0, no error, no leak"
[ "$rc" = 0 ] || diag "$(cat "$T_TMP"/vg.*.log "$T_TMP/run.out" | tail -40)"

done_testing
