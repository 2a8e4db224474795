#!/usr/bin/env bash
# The systemd units: valid (systemd-analyze verify), hardened (systemd-analyze security), and as the daemon expects.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

for u in mojosync.service mojosync@.service; do
	sed -e "s|@bindir@|$(dirname "$MOJOSYNC")|" -e "s|@sysconfdir@|/etc|" "$top_srcdir/systemd/$u.in" >"$T_TMP/$u"
done
cp "$T_TMP/mojosync@.service" "$T_TMP/mojosync@helpdesk1.service"
for u in mojosync.service mojosync@helpdesk1.service; do
	out=$(systemd-analyze verify --man=no "$T_TMP/$u" 2>&1); rc=$?
	is "$rc" 0 "$u passes systemd-analyze verify"
	[ -z "$out" ] || diag "$out"
	exposure=$(systemd-analyze security --offline=true "$T_TMP/$u" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	check "$u: systemd-analyze security exposure $exposure is at most 2.0" awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }'
	unit=$(cat "$T_TMP/$u")
	like "$unit" "Type=notify" "$u: Type=notify (READY=1 from the daemon)"
	like "$unit" "WatchdogSec=" "$u: a watchdog"
	like "$unit" "Restart=on-failure" "$u: restarts on failure"
	like "$unit" "LoadCredential=access_key:" "$u: the key comes as a credential"
	like "$unit" "DynamicUser=yes" "$u: no root"
	like "$unit" "ExecReload=/bin/kill -HUP \$MAINPID" "$u: reload is SIGHUP"
done
like "$(cat "$T_TMP/mojosync@helpdesk1.service")" "/etc/mojosync/%i.conf run" "the instance unit reads /etc/mojosync/%i.conf"
# The watchdog period leaves room for the longest bounded call: a statement times out in 20 s.
wd=$(sed -n 's/^WatchdogSec=\([0-9]*\)s$/\1/p' "$T_TMP/mojosync.service")
check "WatchdogSec ($wd s) is more than twice the statement timeout" test "$wd" -gt 40

done_testing
