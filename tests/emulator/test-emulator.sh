#!/usr/bin/env bash
# test-emulator.sh: the emulator's own tests (TAP).  Starts mojo-emulator on a
# free loopback port, talks to it with curl, checks answers with jq.
# EMULATOR overrides the binary (default: ./tests/emulator/mojo-emulator,
# relative to the build directory, as automake runs tests).
set -u

EMU=${EMULATOR:-./tests/emulator/mojo-emulator}
KEY=test-key-123
ROKEY=read-only-456
tmp=$(mktemp -d)
pids=()
n=0
failed=0

watchdog=
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
# a hard bound on the whole run
trap 'echo "Bail out! test-emulator.sh took longer than 300 s"; exit 1' TERM
(
	exec >/dev/null 2>&1
	sleep 300 &
	spid=$!
	trap 'kill $spid; exit 0' TERM
	wait $spid && kill -TERM $$
) &
watchdog=$!

for tool in curl jq iconv; do
	command -v "$tool" >/dev/null || { echo "1..0 # SKIP $tool not installed"; exit 0; }
done
if [ ! -x "$EMU" ]; then
	echo "Bail out! no emulator binary at $EMU"
	exit 1
fi

ok() { # STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
check() { # DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@" >/dev/null 2>&1; then ok 0 "$d"; else ok 1 "$d"; fi
}
eq() { # DESCRIPTION GOT WANT
	if [ "$2" = "$3" ]; then ok 0 "$1"; else ok 1 "$1 (got '$2', want '$3')"; fi
}

start_emu() { # NAME ARGS... -> prints the port
	local name=$1 port= i pid
	shift
	"$EMU" --port 0 --quiet "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pid=$!
	pids+=("$pid")
	for ((i = 0; i < 800; i++)); do
		port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/$name.out")
		[ -n "$port" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.025
	done
	echo "$port"
}

# req METHOD URL [JSON]: sets $code; body in $tmp/b, headers in $tmp/h
req() {
	local m=$1 u=$2
	if [ $# -ge 3 ]; then
		code=$(curl -s -m 20 -X "$m" -H 'Content-Type: application/json' --data-binary "$3" \
			-D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$u")
	else
		code=$(curl -s -m 20 -X "$m" -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$u")
	fi
}
get() { req GET "$B$1"; }
jb() { jq -e "$@" "$tmp/b" >/dev/null 2>&1; } # assertion on the last body
jv() { jq -r "$@" "$tmp/b"; }                  # value from the last body
# search QUERY [curl args]: v2 search, the query URL-encoded
search() {
	local q=$1
	shift
	code=$(curl -s -m 20 -G -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$B/api/v2/tickets/search" \
		--data-urlencode "access_key=$KEY" --data-urlencode "query=$q" "$@")
}
# search_all QUERY [curl args]: every page (per_page 100) into $tmp/all
search_all() {
	local q=$1 p=1
	shift
	echo '[]' >"$tmp/all"
	while :; do
		search "$q" -d per_page=100 -d page=$p "$@"
		[ "$code" = 200 ] || return 1
		jq -s '.[0] + .[1]' "$tmp/all" "$tmp/b" >"$tmp/all2" && mv "$tmp/all2" "$tmp/all"
		[ "$(jq length "$tmp/b")" -lt 100 ] && break
		p=$((p + 1))
	done
}
truth() { curl -s -m 30 "$B/_emu/truth" >"$tmp/truth"; }
tq() { jq -r "$@" "$tmp/truth"; } # value from the truth
faults() { req POST "$B/_emu/faults" "$1"; }

DATE_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
MDATE_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$'

PORT=$(start_emu main --seed 7 --tickets 300 --comments-per-ticket 6 --users 60 --queues 5 \
	--groups 8 --access-key "$KEY" --read-only-key "$ROKEY")
if [ -z "$PORT" ]; then
	echo "Bail out! the emulator did not start: $(cat "$tmp/main.err")"
	exit 1
fi
B="http://127.0.0.1:$PORT"
K="access_key=$KEY"
ok 0 "starts and prints its port ($PORT)"
truth
NT=$(tq '.tickets | length')

# ---- authentication and errors ------------------------------------------------
get "/api/v2/tickets"
eq "no access_key: 401" "$code" 401
check "401 body has message and messages" jb '.message == "You are not authorized for that action." and (.messages | length) == 1'
get "/api/v2/tickets?access_key=wrong"
eq "wrong access_key: 401" "$code" 401
get "/api/v2/tickets/1?$K"
eq "missing ticket: 404" "$code" 404
check "missing ticket body" jb '. == {"message":"Record not found"}'
get "/api/v2/tickets/1/comments?$K"
eq "comments of a missing ticket: 404" "$code" 404
get "/api/v2/users/999999?$K"
check "missing user: 400 Invalid user id" test "$code:$(jv .error)" = "400:Invalid user id"
get "/api/v2/ticket_queues/999999?$K"
check "missing queue: 400 Invalid ticket queue id" test "$code:$(jv .error)" = "400:Invalid ticket queue id"
get "/api/v2/groups/999999?$K"
check "missing group: 400 Invalid group id" test "$code:$(jv .error)" = "400:Invalid group id"
get "/api/v2/nonsense?$K"
eq "unknown path: 404" "$code" 404

# ---- v2 tickets list and paging ------------------------------------------------
get "/api/v2/tickets?$K"
eq "tickets list: 200" "$code" 200
check "tickets list: default per_page 10" jb 'length == 10'
check "tickets list: default order id desc" jb '[.[].id] == ([.[].id] | sort | reverse)'
check "tickets list: list items lack show-only fields" jb 'all(.[]; has("all_comments") | not) and all(.[]; has("custom_field_values") | not) and all(.[]; has("closed_on") | not)'
check "tickets list: list items carry tag_ids, tags, asset_tag" jb 'all(.[]; has("tag_ids") and has("tags") and has("asset_tag"))'
check "tickets list: dates are 2013-11-11T21:37:02Z" jb "all(.[]; .created_on | test(\"$DATE_RE\"))"
get "/api/v2/tickets?$K&per_page=500"
check "per_page capped at 100" jb 'length == 100'
get "/api/v2/tickets?$K&per_page=100&page=$(((NT + 99) / 100 + 1))"
check "past the last page: 200 []" test "$code:$(cat "$tmp/b")" = "200:[]"
get "/api/v2/tickets?$K&per_page=7&page=$(((NT + 6) / 7))"
eq "short last page" "$(jv length)" "$(( NT % 7 == 0 ? 7 : NT % 7 ))"
get "/api/v2/tickets?$K&per_page=100&sort_by=updated_on&sort_order=asc"
check "sort_by=updated_on asc" jb '[.[].updated_on] == ([.[].updated_on] | sort)'
get "/api/v2/tickets?$K&per_page=100&sort_by=created_on&sort_order=desc"
check "sort_by=created_on desc" jb '[.[].created_on] == ([.[].created_on] | sort | reverse)'
get "/api/v2/tickets?$K&per_page=5&page=2"
ids_p2=$(jv '[.[].id] | join(",")')
eq "page 2 is the 6th to 10th id in id desc" "$ids_p2" "$(tq '[.tickets[].id] | sort | reverse | .[5:10] | join(",")')"

# ---- v2 ticket show ----------------------------------------------------------------
TID=$(tq '[.tickets[] | select((.all_comments | length) > 10)][0].id')
get "/api/v2/tickets/$TID?$K"
eq "ticket show: 200" "$code" 200
check "ticket show: all_comments, custom_field_values, related_data, cc, assigned_on" \
	jb 'has("all_comments") and has("custom_field_values") and has("related_data") and has("cc") and has("assigned_on")'
check "ticket show: custom_field_values named custom_field_<name>" jb 'all(.custom_field_values[]; .name | startswith("custom_field_"))'
check "ticket show: odd custom field names (spaces, dots, unicode)" jb '[.custom_field_values[].name] | (any(test(" ")) and any(test("\\.")) and any(test("優先度")))'
check "ticket show: equals the truth" test "$(jq -S . "$tmp/b")" = "$(tq -S --argjson id "$TID" '.tickets[] | select(.id == $id)')"

# ---- comments -----------------------------------------------------------------------
NC=$(tq --argjson id "$TID" '.tickets[] | select(.id == $id) | .all_comments | length')
get "/api/v2/tickets/$TID/comments?$K"
check "comments: default per_page 10" jb 'length == 10'
check "comments: as the truth has them" test "$(jq -S '.[0]' "$tmp/b")" = "$(tq -S --argjson id "$(jv '.[0].id')" '.comments[] | select(.id == $id)')"
get "/api/v2/tickets/$TID/comments?$K&page=2"
eq "comments: page 2 has the rest" "$(jv length)" "$((NC - 10))"
get "/api/v2/tickets/$TID/comments?$K&page=3"
check "comments: past the end []" test "$(cat "$tmp/b")" = "[]"

# ---- users, queues, groups ----------------------------------------------------------------
get "/api/v2/users?$K"
check "users: default per_page 30" jb 'length == 30'
check "users: list items lack related_data" jb 'all(.[]; has("related_data") | not)'
get "/api/v2/users?$K&per_page=100&page=2"
check "users: past the end []" test "$(cat "$tmp/b")" = "[]"
check "users: every role present" test "$(tq '[.users[].role_id] | unique | join(",")')" = "10,15,20,30,35,40"
get "/api/v2/users/techs?$K"
check "users/techs: only agents, all of them" test "$(jv '[.[].id] | sort | join(",")')" = "$(tq '[.users[] | select(.role_id > 10) | .id] | sort | join(",")')"
UID1=$(tq '.users[3].id')
get "/api/v2/users/$UID1?$K"
check "users/ID: equals the truth (with related_data)" test "$(jq -S . "$tmp/b")" = "$(tq -S ".users[3]")"
EMAIL=$(tq '.users[3].email')
code=$(curl -s -m 10 -G -o "$tmp/b" -w '%{http_code}' "$B/api/v2/users/get_by_email" --data-urlencode "$K" --data-urlencode "email=${EMAIL^^}")
check "users/get_by_email (case-insensitive)" test "$code:$(jv .id)" = "200:$UID1"
get "/api/v2/users/get_by_email?$K&email=nobody@nowhere.invalid"
check "users/get_by_email unknown: 400 Invalid user email" test "$code:$(jv .error)" = "400:Invalid user email"
get "/api/v2/ticket_queues?$K"
check "ticket_queues list" test "$code:$(jv length)" = "200:$(tq '.ticket_queues | length')"
QID=$(tq '.ticket_queues[0].id')
get "/api/v2/ticket_queues/$QID?$K"
check "ticket_queues/ID" jb ". == $(tq -c '.ticket_queues[0]')"
get "/api/v2/groups?$K"
check "groups list" test "$code:$(jv length)" = "200:$(tq '.groups | length')"
check "groups: support dates are plain dates" jb 'all(.[]; (.support_start_date == null) or (.support_start_date | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")))'
GID=$(tq '.groups[1].id')
get "/api/v2/groups/$GID?$K"
check "groups/ID" jb ". == $(tq -c '.groups[1]')"
get "/api/v2/groups?$K&per_page=3&page=2"
check "groups paging" test "$(jv '[.[].id]|join(",")')" = "$(tq '[.groups[].id] | .[3:6] | join(",")')"

# ---- data realism -----------------------------------------------------------------------------
check "data: every status, priority and created_from" test "$(tq '[([.tickets[].status_id]|unique|length), ([.tickets[].priority_id]|unique|length), ([.tickets[].created_from]|unique|length)] | join(",")')" = "6,4,6"
check "data: a description over 100 KB" test "$(tq '[.tickets[] | select((.description // "") | length > 100000)] | length')" -ge 1
check "data: null and empty descriptions" test "$(tq '[([.tickets[]|select(.description==null)]|length>0), ([.tickets[]|select(.description=="")]|length>0)] | all')" = true
check "data: SQL-looking text, quotes, emoji, CJK, RTL" test "$(tq '[.tickets[].title] | [any(test("DROP TABLE")), any(test("\"")), any(test("🔥")), any(test("[一-龥]")), any(test("[א-ת]"))] | all')" = true

# ---- v1 dialect ---------------------------------------------------------------------------------
get "/api/tickets.json?$K&per_page=3"
check "v1 tickets.json: wrapped list" jb 'length == 3 and all(.[]; has("ticket"))'
check "v1 list: custom fields as top-level keys" jb '.[0].ticket | has("custom_field_asset serial")'
get "/api/tickets?$K&per_page=3"
check "v1 tickets without .json" jb 'length == 3 and .[0].ticket.id > 0'
get "/api/tickets/$TID.json?$K"
check "v1 show: {\"ticket\":{...}} with custom_field_* and no custom_field_values" jb ".ticket.id == $TID and (.ticket | has(\"custom_field_values\") | not) and (.ticket | has(\"custom_field_v1.2.build\"))"
get "/api/tickets/1.json?$K"
check "v1 missing ticket: 404 Record not found" test "$code:$(jv .message)" = "404:Record not found"
get "/api/tickets/$TID/comments.json?$K"
check "v1 comments wrapped" jb 'length == 10 and all(.[]; has("comment"))'
get "/api/companies.json?$K"
check "v1 companies wrapped" jb "length == $(tq '.groups|length') and all(.[]; has(\"company\"))"
get "/api/companies/$GID.json?$K"
check "v1 companies/ID" jb ".company.id == $GID"
get "/api/companies/999999.json?$K"
check "v1 missing company: 400 Invalid group id" test "$code:$(jv .error)" = "400:Invalid group id"
get "/api/groups.json?$K"
eq "v1 has no /groups" "$code" 404
get "/api/v2/companies?$K"
eq "v2 has no /companies" "$code" 404
get "/api/users/$UID1.json?$K"
check "v1 users/ID wrapped" jb ".user.id == $UID1"
get "/api/users/techs.json?$K"
check "v1 users/techs wrapped" jb 'all(.[]; .user.role_id > 10)'
get "/api/ticket_queues.json?$K"
check "v1 ticket_queues wrapped" jb 'all(.[]; has("ticket_queue"))'
get "/api/tickets.xml?$K"
eq "v1 .xml: 406" "$code" 406
QCOUNT=$(tq --argjson q "$QID" '[.tickets[] | select(.ticket_queue_id == $q)] | length')
code=$(curl -s -m 10 -G -o "$tmp/b" -w '%{http_code}' "$B/api/tickets/search.json" --data-urlencode "$K" \
	--data-urlencode "query=queue.id:$QID" -d per_page=100)
check "v1 search: queue.id, wrapped" jb "length == $QCOUNT and all(.[]; .ticket.ticket_queue_id == $QID)"
search "queue.id:$QID"
check "v2 search: queue.id is not a v2 field" test "$code:$(cat "$tmp/b")" = "200:[]"
search_all "ticket_queue.id:$QID"
check "v2 search: ticket_queue.id" test "$(jq length "$tmp/all")" = "$QCOUNT"
TCOUNT=$(tq '[.tickets[] | select(.ticket_type.id == 2)] | length')
code=$(curl -s -m 10 -G -o "$tmp/b" -w '%{http_code}' "$B/api/tickets/search" --data-urlencode "$K" \
	--data-urlencode "query=type.id:2" -d per_page=100)
check "v1 search: type.id" jb "length == $TCOUNT"
search_all "ticket_type.id:2"
check "v2 search: ticket_type.id" test "$(jq length "$tmp/all")" = "$TCOUNT"

# ---- search --------------------------------------------------------------------------------------
search ""
check "search: no query is everything, per_page 10" jb 'length == 10'
check "search: items carry closed_on and deleted_at" jb 'all(.[]; has("closed_on") and has("deleted_at")) and all(.[]; has("all_comments") | not)'
search "" -d per_page=3
check "search: per_page at least 10" jb 'length == 10'
MID=$(tq '[.tickets[].updated_on] | sort | .[length / 2 | floor]')
search_all "updated_on:[$MID TO *]" -d sf=updated_on
check "search [X TO *] sf=updated_on: the right tickets" test "$(jq '[.[].id] | sort' "$tmp/all")" = "$(tq --arg m "$MID" '[.tickets[] | select(.updated_on >= $m) | .id] | sort')"
check "search sf=updated_on ascending" test "$(jq '[.[].updated_on] == ([.[].updated_on] | sort)' "$tmp/all")" = true
search_all "updated_on:[* TO $MID]"
check "search [* TO X] inclusive" test "$(jq '[.[].id] | sort' "$tmp/all")" = "$(tq --arg m "$MID" '[.tickets[] | select(.updated_on <= $m) | .id] | sort')"
search_all "updated_on:[$MID TO $MID]"
check "search [X TO X] includes X" test "$(jq length "$tmp/all")" = "$(tq --arg m "$MID" '[.tickets[] | select(.updated_on == $m)] | length')"
search_all "updated_on:{$MID TO *]"
check "search {X TO *] excludes X" test "$(jq --arg m "$MID" '[.[] | select(.updated_on <= $m)] | length' "$tmp/all"):$(jq length "$tmp/all")" = "0:$(tq --arg m "$MID" '[.tickets[] | select(.updated_on > $m)] | length')"
for op in '<50:.status_id < 50' '<=20:.priority_id <= 20' '>40:.status_id > 40' '>=30:.priority_id >= 30'; do
	v=${op%%:*}
	f=status.id
	case $op in *priority*) f=priority.id ;; esac
	search_all "$f:($v)"
	check "search $f:($v)" test "$(jq length "$tmp/all")" = "$(tq "[.tickets[] | select(${op#*:})] | length")"
done
search_all "status.id:60"
check "search exact value status.id:60" test "$(jq length "$tmp/all"):$(jq 'all(.[]; .status_id == 60)' "$tmp/all")" = "$(tq '[.tickets[]|select(.status_id==60)]|length'):true"
CUID=$(tq '.tickets[0].user_id')
CEMAIL=$(tq --argjson u "$CUID" '.users[] | select(.id == $u) | .email')
search_all "created_by.email:(\"$CEMAIL\")"
check "search quoted string created_by.email:(\"...\")" test "$(jq '[.[].id]|sort' "$tmp/all")" = "$(tq --argjson u "$CUID" '[.tickets[]|select(.user_id==$u)|.id]|sort')"
search_all "_exists_:due_on"
check "search _exists_:due_on" test "$(jq '[.[].id]|sort' "$tmp/all")" = "$(tq '[.tickets[]|select(.due_on!=null)|.id]|sort')"
search_all "status.id:10 OR status.id:20"
check "search OR" test "$(jq length "$tmp/all")" = "$(tq '[.tickets[]|select(.status_id==10 or .status_id==20)]|length')"
search_all "(status.id:10 OR status.id:20) AND priority.id:30"
check "search parentheses and AND" test "$(jq length "$tmp/all")" = "$(tq '[.tickets[]|select((.status_id==10 or .status_id==20) and .priority_id==30)]|length')"
search_all "status.id:(<50) AND priority.id:(<=20) AND updated_on:[$MID TO *]"
check "search three terms with AND" test "$(jq length "$tmp/all")" = "$(tq --arg m "$MID" '[.tickets[]|select(.status_id<50 and .priority_id<=20 and .updated_on>=$m)]|length')"
search "" -d sf=created_on -d r=1 -d per_page=50
check "search sf=created_on r=1: descending" jb '[.[].created_on] == ([.[].created_on] | sort | reverse)'
TITLE_WORD=$(tq '[.tickets[].title | select(test("Printer is jammed"))] | length')
search_all 'title:"printer is JAMMED"'
check "search text field, quoted phrase, case-insensitive" test "$(jq length "$tmp/all")" = "$TITLE_WORD"
for bad in 'status.id:(<50' 'updated_on:[2020-01-01T00:00:00Z TO' 'AND' 'status.id:abc' 'updated_on:[yesterday TO *]' 'title:' '(status.id:10'; do
	search "$bad"
	check "search unparsable '$bad': 400 bad request" test "$code:$(cat "$tmp/b")" = '400:{"error":"bad request"}'
done
search "" -d sf=nonsense
eq "search unknown sf: 400" "$code" 400

# ---- writes ------------------------------------------------------------------------------------------
req POST "$B/api/v2/tickets?$K" "{\"title\":\"Emulator test ticket ✓\",\"description\":\"made by the test\",\"ticket_queue_id\":$QID,\"priority_id\":20,\"custom_field_asset serial\":\"SN-1\"}"
NEWT=$(jv .id)
check "POST ticket: 201 with the show object" test "$code:$(jv '.title + "|" + (.custom_field_values[0].value|tostring)')" = "201:Emulator test ticket ✓|SN-1"
get "/api/v2/tickets/$NEWT?$K"
eq "POST ticket: then shown" "$code" 200
req POST "$B/api/v2/tickets?$K" "{\"description\":\"no title\",\"ticket_queue_id\":$QID}"
check "POST ticket without title: 422 {message}" test "$code:$(jv .message)" = "422:Title can't be blank"
req POST "$B/api/v2/tickets?$K" '{"title":"bad json'
eq "POST ticket with broken JSON: 400" "$code" 400
req POST "$B/api/v2/tickets?$K" "{\"ticket\":{\"title\":\"Rails-wrapped\",\"ticket_queue_id\":$QID}}"
check "POST ticket wrapped in {\"ticket\":...}" test "$code:$(jv .title)" = "201:Rails-wrapped"
get "/api/v2/tickets/$NEWT?$K"
U0=$(jv .updated_on)
req PUT "$B/api/v2/tickets/$NEWT?$K" '{"title":"renamed once"}'
U1=$(jv .updated_on)
req PUT "$B/api/v2/tickets/$NEWT?$K" '{"title":"renamed twice","status_id":50}'
U2=$(jv .updated_on)
check "PUT ticket: 200, fields changed" test "$code:$(jv '.title + "|" + (.status_id|tostring) + "|" + (.solved_on != null | tostring)')" = "200:renamed twice|50|true"
check "updated_on strictly increases, even within a second" test "$U0" \< "$U1" -a "$U1" \< "$U2"
req PUT "$B/api/v2/tickets/1?$K" '{"title":"x"}'
eq "PUT missing ticket: 404" "$code" 404
req PUT "$B/api/v2/tickets/$NEWT?$K" '{"status_id":55}'
eq "PUT invalid status: 422" "$code" 422
req POST "$B/api/v2/tickets/$NEWT/comments?$K" '{"body":"a comment 💬","time_spent":5}'
NEWC=$(jv .id)
check "POST comment: 201" test "$code:$(jv .body)" = "201:a comment 💬"
get "/api/v2/tickets/$NEWT?$K"
check "a new comment bumps the ticket's updated_on" test "$U2" \< "$(jv .updated_on)"
U3=$(jv .updated_on)
req PUT "$B/api/v2/tickets/$NEWT/comments/$NEWC?$K" '{"body":"edited"}'
get "/api/v2/tickets/$NEWT?$K"
check "an edited comment bumps the ticket's updated_on" test "$U3" \< "$(jv .updated_on)" -a "$(jv '.all_comments[0].body')" = edited
req POST "$B/api/v2/tickets/1/comments?$K" '{"body":"x"}'
eq "POST comment on a missing ticket: 400" "$code" 400
req POST "$B/api/v2/tickets/$NEWT/comments?$K" '{"body":""}'
eq "POST empty comment: 400" "$code" 400
req POST "$B/api/v2/tickets?access_key=$ROKEY" "{\"title\":\"t\",\"ticket_queue_id\":$QID}"
eq "read-only key: 401 on writes" "$code" 401
get "/api/v2/tickets/$NEWT?access_key=$ROKEY"
eq "read-only key: reads work" "$code" 200
req DELETE "$B/api/v2/tickets/$NEWT?$K"
check "DELETE ticket: 200, empty body" test "$code:$(wc -c <"$tmp/b")" = "200:0"
get "/api/v2/tickets/$NEWT?$K"
eq "deleted ticket: 404 on show" "$code" 404
get "/api/v2/tickets?$K&per_page=3"
check "deleted ticket: gone from the list" jb "all(.[]; .id != $NEWT)"
req POST "$B/api/v2/users?$K" '{"email":"new.person@example.com","first_name":"Nüe","role_id":20}'
NEWU=$(jv .id)
check "POST user: 201" test "$code:$(jv .role_id)" = "201:20"
req POST "$B/api/v2/users?$K" '{"email":"NEW.person@example.com"}'
eq "POST duplicate user: 400" "$code" 400
req PUT "$B/api/v2/users/$NEWU?$K" '{"last_name":"Updated"}'
check "PUT user" test "$code:$(jv .full_name)" = "200:Nüe Updated"
req PUT "$B/api/v2/users/999999?$K" '{"last_name":"x"}'
check "PUT missing user: 400 Invalid user id" test "$code:$(jv .error)" = "400:Invalid user id"
req DELETE "$B/api/v2/users/$NEWU?$K"
eq "DELETE user: 200" "$code" 200
get "/api/v2/users/$NEWU?$K"
eq "deleted user: 400" "$code" 400
req POST "$B/api/v2/ticket_queues?$K" '{"name":"Q – new"}'
NEWQ=$(jv .id)
eq "POST queue: 201" "$code" 201
req PUT "$B/api/v2/ticket_queues/$NEWQ?$K" '{"email_alias":"qa"}'
check "PUT queue" test "$code:$(jv .email_alias)" = "200:qa"
req DELETE "$B/api/v2/ticket_queues/$NEWQ?$K"
eq "DELETE queue: 200" "$code" 200
req DELETE "$B/api/v2/ticket_queues/$NEWQ?$K"
check "DELETE missing queue: 400" test "$code:$(jv .error)" = "400:Invalid ticket queue id"
req POST "$B/api/v2/groups?$K" '{"name":"Group ✓","support_start_date":"2024-01-01"}'
NEWG=$(jv .id)
check "POST group: 201, plain date" test "$code:$(jv .support_start_date)" = "201:2024-01-01"
req POST "$B/api/v2/groups?$K" '{"city":"x"}'
eq "POST group without name: 400" "$code" 400
req PUT "$B/api/companies/$NEWG.json?$K" '{"company":{"city":"Zürich"}}'
check "v1 PUT company (wrapped body and answer)" test "$code:$(jv .company.city)" = "200:Zürich"
req DELETE "$B/api/v2/groups/$NEWG?$K"
eq "DELETE group: 200" "$code" 200
get "/api/v2/groups/$NEWG?$K"
eq "deleted group: 400" "$code" 400

# ---- control plane -------------------------------------------------------------------------------------
truth
check "truth: deleted ids" test "$(tq --argjson t "$NEWT" --argjson u "$NEWU" --argjson q "$NEWQ" --argjson g "$NEWG" --argjson c "$NEWC" \
	'[(.deleted.tickets|index($t)!=null), (.deleted.users|index($u)!=null), (.deleted.ticket_queues|index($q)!=null), (.deleted.groups|index($g)!=null), (.deleted.comments|index($c)!=null)]|all')" = true
check "truth: has now" test -n "$(tq '.now | select(test("Z$"))')"
ALLIDS=$(for p in 1 2 3 4 5; do curl -s "$B/api/v2/tickets?$K&per_page=100&page=$p" | jq -r '.[].id'; done | sort -n | tr '\n' ,)
eq "truth: the same tickets as the list" "$ALLIDS" "$(tq '.tickets[].id' | sort -n | tr '\n' ,)"
req POST "$B/_emu/mutate" '{"tickets":3,"new_tickets":2,"comments":2,"edit_comments":1,"delete_comments":1,"delete_tickets":1,"users":2,"new_users":1,"delete_users":1,"queues":1,"groups":1,"new_groups":1,"delete_groups":1}'
check "mutate: ids per kind" jb '(.tickets|length)==3 and (.new_tickets|length)==2 and (.comments|length)==2 and (.delete_tickets|length)==1 and (.new_users|length)==1 and (.delete_users|length)==1 and (.groups|length)==1 and (.new_groups|length)==1'
MT=$(jv '.tickets[0]')
MNEW=$(jv '.new_tickets[0]')
MDEL=$(jv '.delete_tickets[0]')
MNOW=$(jv .now)
get "/api/v2/tickets/$MNEW?$K"
eq "mutate: a new ticket is served" "$code" 200
get "/api/v2/tickets/$MDEL?$K"
eq "mutate: a deleted ticket is gone" "$code" 404
get "/api/v2/tickets/$MT?$K"
check "mutate: an edited ticket's updated_on is recent" test "$(jv .updated_on)" \> "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"
req POST "$B/_emu/mutate" '{"bogus":1}'
eq "mutate: unknown kind 400" "$code" 400
req GET "$B/_emu/clock"
C0=$(jv .now)
req POST "$B/_emu/clock" '{"advance":3600}'
check "clock: advance moves now by an hour" test "$(($(date -u -d "$(jv .now)" +%s) - $(date -u -d "$C0" +%s)))" -ge 3600
req POST "$B/_emu/stats/reset"
get "/api/v2/tickets/$MT?$K"
get "/api/v2/tickets/$MT?$K"
get "/api/v2/tickets/1?$K"
get "/api/tickets.json?$K"
req GET "$B/_emu/stats"
check "stats: counts by class and status" jb '.requests["tickets.show"]["200"] == 2 and .requests["tickets.show"]["404"] == 1 and .requests["tickets.list"]["200"] == 1 and .api.v1 == 1 and .api.v2 == 3'

# ---- warts -------------------------------------------------------------------------------------------------
faults '{"latency_ms":300}'
check "faults: POST answers the settings" jb '.latency_ms == 300 and .error_rate == 0'
t=$(curl -s -o /dev/null -w '%{time_total}' "$B/api/v2/tickets/$MT?$K")
check "latency: an answer takes >= 300 ms ($t s)" awk -v t="$t" 'BEGIN { exit !(t >= 0.3) }'
t=$(curl -s -o /dev/null -w '%{time_total}' "$B/_emu/stats")
check "latency: never on the control plane ($t s)" awk -v t="$t" 'BEGIN { exit !(t < 0.3) }'
faults '{"latency_ms":0,"fail_next":2,"fail_next_code":502}'
c1=$(curl -s -o /dev/null -w '%{http_code}' "$B/api/v2/tickets?$K")
c2=$(curl -s -o "$tmp/b" -w '%{http_code}' "$B/api/v2/tickets?$K")
c3=$(curl -s -o /dev/null -w '%{http_code}' "$B/api/v2/tickets?$K")
eq "fail_next: two 502 (HTML), then 200" "$c1,$c2,$c3,$(head -c 6 "$tmp/b")" "502,502,200,<html>"
faults '{"error_rate":1}'
codes=$(for i in 1 2 3 4 5 6 7 8 9; do curl -s -o /dev/null -w '%{http_code} ' "$B/api/v2/tickets?$K"; done)
check "error_rate 1: only 500/502/503 ($codes)" test -z "$(echo "$codes" | tr ' ' '\n' | grep -v -E '^(500|502|503|)$')"
faults '{"error_rate":0.5}'
codes=$(for i in $(seq 40); do curl -s -o /dev/null -w '%{http_code}\n' "$B/api/v2/tickets?$K"; done | sort | uniq -c | wc -l)
check "error_rate 0.5: a mix of 200 and 5xx" test "$codes" -ge 2
faults '{"error_rate":0,"rate_429":1,"retry_after_mode":"seconds","retry_after_s":7}'
get "/api/v2/tickets?$K"
check "429 with Retry-After seconds" test "$code:$(grep -i '^retry-after:' "$tmp/h" | tr -d '\r')" = "429:Retry-After: 7"
faults '{"retry_after_mode":"date"}'
get "/api/v2/tickets?$K"
check "429 with Retry-After HTTP date" grep -E -i '^retry-after: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT' "$tmp/h"
faults '{"retry_after_mode":"none"}'
get "/api/v2/tickets?$K"
check "429 without Retry-After" test "$code:$(grep -ci '^retry-after:' "$tmp/h")" = "429:0"
faults '{"rate_429":0,"throttle_next":1,"retry_after_mode":"mixed"}'
get "/api/v2/tickets?$K"
c1=$code
get "/api/v2/tickets?$K"
eq "throttle_next: one 429 then 200" "$c1,$code" "429,200"
faults '{"cut_next":1}'
curl -s -m 10 -o "$tmp/cut" "$B/api/v2/tickets?$K&per_page=50"
rc=$?
check "cut: the body stops short of Content-Length (curl exit 18)" test "$rc" = 18
get "/api/v2/tickets?$K"
check "cut: the next request is served whole" test "$code:$(jv length)" = "200:10"
faults '{"cut_rate":1}'
curl -s -m 10 -o /dev/null "$B/api/v2/tickets/$MT?$K"
rc=$?
faults '{"cut_rate":0}'
check "cut_rate 1: every body is cut" test "$rc" = 18
BAD=$(tq '.tickets[5].id')
WT=$(tq '.tickets[6].id')
faults "{\"malformed\":{\"tickets\":[$BAD]},\"wrong_type\":{\"tickets\":[$WT]}}"
get "/api/v2/tickets/$BAD?$K"
check "malformed: show of a chosen id is not JSON" test "$code" = 200 -a "$(jq . "$tmp/b" >/dev/null 2>&1; echo $?)" != 0
search "id:$BAD"
check "malformed: the record in lists holds invalid UTF-8" test "$(iconv -f UTF-8 -t UTF-8 "$tmp/b" >/dev/null 2>&1; echo $?)" != 0
get "/api/v2/tickets/$WT?$K"
check "wrong_type: status_id a string, updated_on a number" jb '(.status_id | type) == "string" and (.updated_on | type) == "number"'
truth
check "truth is never malformed" test "$(tq --argjson w "$WT" '.tickets[] | select(.id == $w) | .status_id | type')" = number
faults '{"malformed":{"tickets":[]},"wrong_type":{"tickets":[]}}'
get "/api/v2/tickets/$BAD?$K"
check "malformed cleared" jb ".id == $BAD"
# search index lag: search sees the ticket as it was, show sees it now
faults '{"search_lag_s":60}'
LT=$(tq '.tickets[7].id')
req PUT "$B/api/v2/tickets/$LT?$K" '{"title":"zzqlagmarker"}'
search "title:zzqlagmarker"
c1=$(jq length "$tmp/b")
search "id:$LT"
old_title=$(jv '.[0].title')
get "/api/v2/tickets/$LT?$K"
check "search lag: search has the old version, show the new" test "$c1:$old_title:$(jv .title)" = "0:$(tq '.tickets[7].title'):zzqlagmarker"
req POST "$B/_emu/clock" '{"advance":61}'
search "title:zzqlagmarker"
check "search lag: after the lag, search has it" jb "length == 1 and .[0].id == $LT"
faults '{"search_lag_s":0}'
# rows shifting between pages
faults '{"shift_pages":true}'
truth
search "updated_on:[1970-01-01T00:00:00Z TO *]" -d sf=updated_on -d per_page=10 -d page=1
p1=$(jv -c '[.[] | {id, updated_on}]')
search "updated_on:[1970-01-01T00:00:00Z TO *]" -d sf=updated_on -d per_page=10 -d page=2
req GET "$B/_emu/stats"
check "shift: a change lands between page 1 and page 2" jb '.shifts >= 1'
truth
moved=$(jq -n --argjson p "$p1" --slurpfile t "$tmp/truth" '[$p[] as $x | $t[0].tickets[] | select(.id == $x.id and .updated_on != $x.updated_on)] | length')
check "shift: a page-1 ticket moved to the end" test "$moved" -ge 1
get "/api/v2/tickets?$K&per_page=10&page=1"
l1=$(jv '[.[].id][0]')
get "/api/v2/tickets?$K&per_page=10&page=2"
check "shift (id desc list): a new ticket pushes the rows down" test "$(curl -s "$B/api/v2/tickets?$K&per_page=1" | jq '.[0].id')" -gt "$l1"
faults '{"reset":true}'
check "faults reset" jb '.shift_pages == false and .search_lag_s == 0 and .cut_rate == 0'
req POST "$B/_emu/faults" '{"nonsense":1}'
eq "faults: unknown setting 400" "$code" 400
req GET "$B/_emu/nope"
eq "control plane: unknown endpoint 404" "$code" 404

# ---- options: millis, clock offset, determinism, warts from flags -----------------------------------
P2=$(start_emu millis --tickets 20 --users 5 --millis --clock-offset -7200 --seed 3 --latency-ms 200 --search-lag 30)
B2="http://127.0.0.1:$P2"
curl -s "$B2/api/v2/tickets?access_key=0123abcd&per_page=20" >"$tmp/b"
check "--millis: dates with .123Z" jb "all(.[]; .updated_on | test(\"$MDATE_RE\"))"
now2=$(curl -s "$B2/_emu/clock" | jq -r .now)
off=$(($(date -u +%s) - $(date -u -d "$now2" +%s)))
check "--clock-offset -7200: the clock is two hours behind ($off s)" test "$off" -ge 7190 -a "$off" -le 7210
curl -s "$B2/_emu/faults" >"$tmp/b"
check "fault flags at start (--latency-ms, --search-lag)" jb '.latency_ms == 200 and .search_lag_s == 30'
P3=$(start_emu det1 --tickets 40 --seed 11 --base-time 1700000000)
P4=$(start_emu det2 --tickets 40 --seed 11 --base-time 1700000000)
P5=$(start_emu det3 --tickets 40 --seed 12 --base-time 1700000000)
h3=$(curl -s "http://127.0.0.1:$P3/_emu/truth" | jq -c 'del(.now)' | md5sum)
h4=$(curl -s "http://127.0.0.1:$P4/_emu/truth" | jq -c 'del(.now)' | md5sum)
h5=$(curl -s "http://127.0.0.1:$P5/_emu/truth" | jq -c 'del(.now)' | md5sum)
check "same seed, same data" test "$h3" = "$h4"
check "another seed, other data" test "$h3" != "$h5"
"$EMU" --tickets abc >/dev/null 2>&1
eq "a bad option exits 2" "$?" 2
t0=$(date +%s%N)
P6=$(start_emu big --tickets 100000 --comments-per-ticket 1 --users 2000)
t1=$(date +%s%N)
check "100,000 tickets generate in seconds ($(((t1 - t0) / 1000000)) ms)" test -n "$P6" -a $(((t1 - t0) / 1000000)) -lt 15000
get_big=$(curl -s "http://127.0.0.1:$P6/api/v2/tickets/search?access_key=0123abcd&query=updated_on:%5B2000-01-01T00:00:00Z%20TO%20*%5D&sf=updated_on&per_page=100&page=20" | jq length)
eq "big data set: search pages work" "$get_big" 100

echo "1..$n"
exit 0
