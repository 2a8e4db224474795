#!/usr/bin/env bash
# migrate: the schema of interface.md in full, idempotent, any schema name, two migrators at once.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

pg_start

# Every table and column interface.md names, with its type.
expect_columns() {
	local schema=$1 table=$2 spec=$3 col type got
	for pair in $spec; do
		col=${pair%%:*}
		type=${pair#*:}
		type=${type//_/ }
		got=$(psql_q "select data_type from information_schema.columns where table_schema = \$\$${schema}\$\$ and table_name = '$table' and column_name = '$col'")
		is "$got" "$type" "$table.$col is $type (schema $schema)"
	done
}

COMMON="id:bigint raw:jsonb synced_at:timestamp_with_time_zone deleted_at:timestamp_with_time_zone"
TS=timestamp_with_time_zone
check_schema() {
	local s=$1
	expect_columns "$s" tickets "$COMMON title:text description:text status_id:bigint priority_id:bigint
		ticket_queue_id:bigint ticket_type_id:bigint ticket_form_id:bigint user_id:bigint assigned_to_id:bigint
		company_id:bigint rating:bigint rated_on:$TS created_on:$TS updated_on:$TS status_changed_on:$TS
		solved_on:$TS assigned_on:$TS due_on:$TS scheduled_on:$TS cc:text custom_fields:jsonb"
	expect_columns "$s" comments "$COMMON ticket_id:bigint user_id:bigint body:text is_private:boolean
		time_spent:bigint created_on:$TS updated_on:$TS"
	expect_columns "$s" users "$COMMON email:text first_name:text last_name:text work_phone:text cell_phone:text
		home_phone:text user_notes:text company_id:bigint role_id:bigint is_active:boolean created_on:$TS updated_on:$TS"
	expect_columns "$s" ticket_queues "$COMMON name:text email_alias:text email_forward:text"
	expect_columns "$s" companies "$COMMON name:text primary_contact_id:bigint billing_contact_id:bigint
		support_level_id:bigint support_status_id:bigint support_start_date:date support_end_date:date
		support_info_url:text address:text address2:text city:text state:text zip:text country:text
		website_url:text notes:text"
	expect_columns "$s" sync_state "resource:text watermark:$TS last_success:$TS last_error:text"
	for t in tickets comments users ticket_queues companies; do
		is "$(psql_q "select is_nullable from information_schema.columns where table_schema = \$\$$s\$\$ and table_name = '$t' and column_name = 'raw'")" NO "$t.raw is not null ($s)"
		is "$(psql_q "select count(*) from information_schema.table_constraints where table_schema = \$\$$s\$\$ and table_name = '$t' and constraint_type = 'PRIMARY KEY'")" 1 "$t has a primary key ($s)"
	done
	is "$(psql_q "select string_agg(resource, ',' order by resource) from \"${s//\"/\"\"}\".sync_state")" \
		"comments,companies,ticket_queues,tickets,users" "sync_state has one row per resource ($s)"
	is "$(psql_q "select count(*) from \"${s//\"/\"\"}\".ticket_statuses")" 6 "six statuses seeded ($s)"
	is "$(psql_q "select name from \"${s//\"/\"\"}\".ticket_priorities where id = 10")" emergency "priorities seeded ($s)"
	is "$(psql_q "select name from \"${s//\"/\"\"}\".user_roles where id = 15")" "restricted technician" "roles seeded ($s)"
	is "$(psql_q "select name from \"${s//\"/\"\"}\".ticket_created_from where id = 4")" chat "created_from seeded ($s)"
	is "$(psql_q "select count(*) from information_schema.views where table_schema = \$\$$s\$\$ and table_name = 'ticket_details'")" 1 "ticket_details view exists ($s)"
	is "$(psql_q "select count(*) from information_schema.tables where table_schema = \$\$$s\$\$ and table_name = 'ticket_history'")" 1 "ticket_history exists ($s)"
}

write_config "$T_TMP/a.conf"
out=$("$MOJOSYNC" -c "$T_TMP/a.conf" migrate 2>&1); rc=$?
is "$rc" 0 "migrate exits 0"
like "$out" "migrated to version" "migrate says what it did"
check_schema mojo
snapshot() { psql_q "select table_name || '.' || column_name || ':' || data_type from information_schema.columns where table_schema = 'mojo' order by 1"; psql_q "select version, name, applied_at from mojo.schema_migrations order by 1"; }
before=$(snapshot)
out=$("$MOJOSYNC" -c "$T_TMP/a.conf" migrate 2>&1); rc=$?
is "$rc" 0 "second migrate exits 0"
like "$out" "is up to date" "second migrate: nothing to do"
is "$(snapshot)" "$before" "second migrate changes nothing"

# History: the trigger keeps every version, and unchanged writes add nothing.
psql_q "insert into mojo.tickets (id, updated_on, raw) values (7, '2024-01-01T00:00:00Z', '{\"v\":1}')"
psql_q "update mojo.tickets set updated_on = '2024-01-02T00:00:00Z', raw = '{\"v\":2}' where id = 7"
psql_q "update mojo.tickets set synced_at = now() where id = 7"
is "$(psql_q "select count(*) from mojo.ticket_history where ticket_id = 7")" 2 "history: one row per distinct version"
is "$(psql_q "select valid_to from mojo.ticket_history where ticket_id = 7 and raw->>'v' = '1'")" "2024-01-02 00:00:00+00" "history: older version closed at the newer one's updated_on"
is "$(psql_q "select count(*) from mojo.ticket_history where ticket_id = 7 and valid_to is null")" 1 "history: one current version"

# Nothing outside the configured schema.
is "$(psql_q "select count(*) from information_schema.tables where table_schema = 'public'")" 0 "nothing created in public"

# An odd schema name, quoted everywhere.
ODD='help "desk" ü'
SCHEMA=$ODD write_config "$T_TMP/odd.conf"
out=$("$MOJOSYNC" -c "$T_TMP/odd.conf" migrate 2>&1); rc=$?
is "$rc" 0 "migrate into an odd schema name exits 0"
check_schema "$ODD"
out=$("$MOJOSYNC" -c "$T_TMP/odd.conf" status 2>&1); rc=$?
is "$rc" 0 "status in the odd schema works"

# Two processes migrating at once: both succeed, each migration applied once.
for i in 1 2 3; do
	SCHEMA="race$i" write_config "$T_TMP/race$i.conf"
	"$MOJOSYNC" -c "$T_TMP/race$i.conf" migrate >"$T_TMP/r${i}a.log" 2>&1 &
	pa=$!
	"$MOJOSYNC" -c "$T_TMP/race$i.conf" migrate >"$T_TMP/r${i}b.log" 2>&1 &
	pb=$!
	wait $pa; ra=$?
	wait $pb; rb=$?
	is "$ra/$rb" "0/0" "race $i: both migrators exit 0"
	is "$(psql_q "select count(*) from race$i.schema_migrations")" "$(psql_q "select count(*) from mojo.schema_migrations")" "race $i: each migration recorded once"
	applied=$(cat "$T_TMP/r${i}a.log" "$T_TMP/r${i}b.log" | grep -c "applied migration")
	is "$applied" "$(psql_q "select count(*) from mojo.schema_migrations")" "race $i: each migration applied by one process only"
done

# A schema newer than this build is refused.
psql_q "insert into mojo.schema_migrations (version, name) values (9999, '9999_future')"
out=$("$MOJOSYNC" -c "$T_TMP/a.conf" migrate 2>&1); rc=$?
is "$rc" 1 "a newer schema: exit 1"
like "$out" "newer than this mojosync knows" "a newer schema: says so"

done_testing
