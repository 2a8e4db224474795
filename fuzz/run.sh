#!/usr/bin/env bash
# fuzz/run.sh [SECONDS]: builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS
# (default 30) on its seed corpus (fuzz/corpus/NAME), in a scratch copy. Exit 0 when nothing was found.
# Needs the Debian packages clang and libclang-rt-14-dev (build-aux/deps.sh fuzz installs them).
set -eu
cd "$(dirname "$0")/.."
secs=${1:-30}
out=$(mktemp -d /tmp/mojosync-fuzz.XXXXXX)
trap 'rm -rf "$out"' EXIT
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc -I$out"
printf '#define PACKAGE_VERSION "fuzz"\n' >"$out/ac-config.h"
pc() { pkg-config --cflags --libs "$@"; }
clang $cflags fuzz/fuzz_mapping.c src/mojo.c $(pc json-c libcurl) -o "$out/fuzz_mapping"
clang $cflags fuzz/fuzz_config.c src/config.c src/log.c $(pc inih) -o "$out/fuzz_config"
rc=0
for t in mapping config; do
	mkdir -p "$out/corpus-$t"
	cp fuzz/corpus/$t/* "$out/corpus-$t/"
	echo "== fuzz_$t for $secs s"
	if "$out/fuzz_$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/" "$out/corpus-$t" >"$out/$t.log" 2>&1; then
		grep -E '^#[0-9]+.*DONE|stat::number_of_executed_units' "$out/$t.log" | tail -1 || tail -1 "$out/$t.log"
		echo "fuzz_$t: nothing found"
	else
		echo "fuzz_$t: FOUND A CRASH"
		tail -40 "$out/$t.log"
		for a in "$out"/crash-* "$out"/leak-* "$out"/timeout-*; do
			[ -f "$a" ] && { mkdir -p fuzz/found; cp "$a" fuzz/found/; echo "input saved in fuzz/found/$(basename "$a")"; }
		done
		rc=1
	fi
done
exit $rc
