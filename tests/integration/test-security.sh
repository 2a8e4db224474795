#!/usr/bin/env bash
# Secrets and transport: TLS is verified, plain http leaves loopback only when asked, the key is in no output,
# no process argument list, no metrics label; SQL-looking text is stored verbatim.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

pg_start
KEY=sEcReT-kEy-0123456789abcdef
ACCESS_KEY=$KEY

# --- TLS: a self-signed server on loopback is refused
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_TMP/tls.key" -out "$T_TMP/tls.crt" -days 1 \
	-subj "/CN=127.0.0.1" >/dev/null 2>&1
TPORT=$(free_port)
openssl s_server -quiet -accept "$TPORT" -cert "$T_TMP/tls.crt" -key "$T_TMP/tls.key" -www >/dev/null 2>&1 &
T_CLEANUP+=("kill $!")
wait_for 10 bash -c "echo | openssl s_client -connect 127.0.0.1:$TPORT >/dev/null 2>&1"
HELPDESK_URL=https://127.0.0.1:$TPORT write_config "$T_TMP/tls.conf"
out=$("$MOJOSYNC" -v -c "$T_TMP/tls.conf" check 2>&1); rc=$?
is "$rc" 1 "https with a certificate nobody vouches for: check fails"
like "$out" "certificate" "https: the error says it is the certificate"
unlike "$out" "$KEY" "https: the key is not printed"

# --- plain http to another host needs allow_insecure_http
HELPDESK_URL=http://helpdesk.example.com write_config "$T_TMP/plain.conf"
out=$("$MOJOSYNC" -c "$T_TMP/plain.conf" check 2>&1); rc=$?
is "$rc" 2 "plain http to a remote host: a configuration error"
like "$out" "clear text" "plain http: says why"

# --- the daemon: the key in no argument list, no log line, no metrics label, no status output
emu_start --seed 61 --tickets 60 --users 15
MPORT=$(free_port)
write_config "$T_TMP/d.conf" "[sync]" "interval = 1s" "[metrics]" "listen = 127.0.0.1:$MPORT"
"$MOJOSYNC" -v -c "$T_TMP/d.conf" run >"$T_TMP/d.log" 2>&1 &
DPID=$!
T_CLEANUP+=("kill -9 $DPID")
check "the daemon syncs" wait_for 30 grep -q "cycle done" "$T_TMP/d.log"
unlike "$(tr '\0' ' ' </proc/$DPID/cmdline)" "$KEY" "the key is not in the daemon's argument list"
unlike "$(tr '\0' '\n' </proc/$DPID/environ)" "$KEY" "nor in its environment"
unlike "$(curl -s "http://127.0.0.1:$MPORT/metrics")" "$KEY" "nor in /metrics"
unlike "$("$MOJOSYNC" -v -c "$T_TMP/d.conf" status 2>&1)" "$KEY" "nor in status -v"
unlike "$("$MOJOSYNC" -v -c "$T_TMP/d.conf" check 2>&1)" "$KEY" "nor in check -v"
unlike "$("$MOJOSYNC" -v -c "$T_TMP/d.conf" sync 2>&1)" "$KEY" "nor in sync -v"
emu_post /_emu/faults '{"fail_next":2}' >/dev/null
"$MOJOSYNC" -v -c "$T_TMP/d.conf" sync >"$T_TMP/faulty.log" 2>&1
like "$(cat "$T_TMP/faulty.log")" "retrying" "requests failed and were retried (their URLs logged)"
unlike "$(cat "$T_TMP/faulty.log")" "$KEY" "nor in the messages about failed requests"
emu_post /_emu/faults '{"reset":true}' >/dev/null
kill -TERM $DPID
wait $DPID
unlike "$(cat "$T_TMP/d.log")" "$KEY" "nor in any line the daemon logged with -v"
MOJOSYNC_ACCESS_KEY=$KEY "$MOJOSYNC" -v -c "$T_TMP/d.conf" sync >"$T_TMP/env.log" 2>&1
unlike "$(cat "$T_TMP/env.log")" "$KEY" "nor when the key comes from the environment"

# --- SQL-looking text is data
is "$(psql_q "select count(*) from mojo.tickets where raw::text like '%DROP TABLE%'")" \
	"$(load_truth && psql_q "select count(*) from public._truth, jsonb_array_elements(j->'tickets') e where e::text like '%DROP TABLE%'")" \
	"titles and bodies such as '); DROP TABLE tickets; -- are stored verbatim"
is "$(psql_q "select count(*) from pg_tables where tablename = 'tickets' and schemaname = 'mojo'")" 1 "and the tables are all still there"

done_testing
