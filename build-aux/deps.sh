#!/bin/sh
# Installs the Debian packages mojosync needs that are missing, and nothing else.
#   build-aux/deps.sh build   to build
#   build-aux/deps.sh demo    to build and run ./demo.sh (PostgreSQL, curl, jq)
#   build-aux/deps.sh test    to build and run the tests (the default; adds valgrind, clang for the fuzzers, ...)
# apt-get update runs only when something is missing, so a warm machine skips the network.
set -eu
what=${1:-test}
pkgs="build-essential autoconf automake pkg-config libcurl4-openssl-dev libpq-dev libjson-c-dev
	libevent-dev libsystemd-dev libinih-dev"
if [ "$what" != build ]; then
	pkgs="$pkgs postgresql-15 postgresql-client-15 curl jq util-linux procps"
fi
if [ "$what" = test ]; then
	pkgs="$pkgs valgrind systemd clang libclang-rt-14-dev openssl"
fi
missing=
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
