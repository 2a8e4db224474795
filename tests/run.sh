#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, builds, and runs
#   1. make check (unit tests, the emulator's tests, integration tests on a real PostgreSQL),
#   2. make check again, built with AddressSanitizer and UndefinedBehaviorSanitizer,
#   3. a build without systemd, the fuzzers for a bounded time, and make distcheck.
# Ends with "N passed, M failed". Exit status 0 only when nothing failed.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=${JOBS:-$(nproc)}
passed=0
failed=0
failures=()

step() { printf '\n=== %s\n' "$*"; }

# tally DIR NAME: adds the results of the .trs files under DIR.
tally() {
	local dir=$1 name=$2 p f
	p=$(cat $(find "$dir" -name '*.trs') 2>/dev/null | grep -c '^:test-result: PASS')
	f=$(cat $(find "$dir" -name '*.trs') 2>/dev/null | grep -Ec '^:test-result: (FAIL|ERROR|XPASS)')
	echo "$name: $p passed, $f failed"
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		failures+=("$name")
		grep -l -E '^:test-result: (FAIL|ERROR)' $(find "$dir" -name '*.trs') | while read -r t; do
			echo "--- ${t%.trs}.log"
			grep -E -B2 -A6 '^(not ok|Bail out)' "${t%.trs}.log" | head -80
		done
	fi
}

# build DIR CONFIGURE-ARGS...: configures and builds out of tree; a failure counts as one failed check.
build() {
	local dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	if (cd "$dir" && "$top/configure" -q "$@" >configure.out 2>&1 && make -s -j"$jobs" >make.out 2>&1); then
		passed=$((passed + 1))
		return 0
	fi
	echo "build in $dir failed:"
	tail -30 "$dir/configure.out" "$dir/make.out" 2>/dev/null
	failed=$((failed + 1))
	failures+=("build $dir")
	return 1
}

step "dependencies"
build-aux/deps.sh test || { echo "0 passed, 1 failed"; exit 1; }

step "autoreconf"
autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; echo "0 passed, 1 failed"; exit 1; }

step "build and make check"
if build "$top/_build"; then
	(cd _build && make -j"$jobs" check >check.out 2>&1)
	tally _build "make check"
fi

step "make check under AddressSanitizer + UndefinedBehaviorSanitizer"
if build "$top/_build-asan" --enable-sanitizers CFLAGS="-O1 -g"; then
	(cd _build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		make -j"$jobs" check >check.out 2>&1)
	tally _build-asan "sanitizers"
fi

step "a build without systemd"
if build "$top/_build-nosd" --without-systemd; then
	if ldd _build-nosd/src/mojosync | grep -q libsystemd; then
		echo "--without-systemd: the binary still links libsystemd"
		failed=$((failed + 1))
		failures+=("--without-systemd")
	else
		echo "--without-systemd: built, no libsystemd"
		passed=$((passed + 1))
	fi
fi

step "fuzzing: the response mapping and the configuration parser, ${FUZZ_SECONDS:-30} s each"
if fuzz/run.sh "${FUZZ_SECONDS:-30}"; then
	passed=$((passed + 2))
else
	failed=$((failed + 1))
	failures+=("fuzzing")
fi

step "make distcheck"
# The full suite ran twice above; distcheck proves the tarball builds, installs and tests, on a quicker subset.
dist_tests="tests/unit/test_config tests/unit/test_log tests/unit/test_http tests/unit/test_sched tests/unit/test_mojo
	tests/integration/test-cli.sh tests/integration/test-migrate.sh tests/integration/test-sync.sh
	tests/integration/test-units.sh tests/emulator/test-emulator.sh"
if [ -d _build ] && (cd _build && make -j"$jobs" distcheck TESTS="$(echo $dist_tests)" >distcheck.out 2>&1); then
	echo "distcheck: passed"
	passed=$((passed + 1))
else
	echo "distcheck: failed"
	tail -40 _build/distcheck.out 2>/dev/null
	failed=$((failed + 1))
	failures+=("distcheck")
fi

echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
