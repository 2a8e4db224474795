#!/usr/bin/env bash
# The README's first command, ./demo.sh, runs and shows what landed.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

out=$(TICKETS=150 MOJOSYNC=$MOJOSYNC EMULATOR=$EMULATOR bash "$top_srcdir/demo.sh" 2>&1); rc=$?
is "$rc" 0 "demo.sh exits 0"
like "$out" "cycle done" "demo.sh runs a sync cycle"
like "$(grep -E '^ *tickets *\| *150$' <<<"$out")" "150" "demo.sh shows the 150 tickets that landed"
like "$out" "open_tickets" "demo.sh shows a sample query"
like "$out" "To mirror your own helpdesk" "demo.sh says how to point it at a real helpdesk"
unlike "$out" "demo-access-key-0123456789abcdef" "demo.sh prints no access key"
head=$(sed -n '/^```sh$/,/^```$/p' "$top_srcdir/README.md" | sed -n 2,3p)
like "$head" "./demo.sh" "the README's first command is ./demo.sh"
like "$head" "./tests/run.sh" "the README's second command is ./tests/run.sh"
grep -q 'exec ./tests/run.sh' "$top_srcdir/.ci/run" && ok "CI runs the README's test command" || not_ok "CI runs the README's test command"

done_testing
