"""A PostgreSQL function that takes the audit chain's lock and then reads its head, in one round
trip (audit.services.held_chain). Being VOLATILE, its query runs on a snapshot taken after the
lock was granted, so it sees every event committed before: a single plain statement would read
with the snapshot of its start, from before its wait for the lock."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_lock_chain_and_read_head(lock_key bigint, for_process bigint)
RETURNS TABLE (
    o_txid text, o_seq bigint, o_hash text, o_occurred_at timestamptz,
    o_municipality_id bigint, o_municipality_name text, o_county_code text, o_stage text
)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN QUERY
    SELECT pg_current_xact_id()::text, h.seq, h.hash::text, h.occurred_at,
           c.municipality_id, c.municipality_name::text, c.county_code::text, c.stage::text
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (
        SELECT e.seq, e.hash, e.occurred_at FROM audit_auditevent AS e ORDER BY e.seq DESC LIMIT 1
    ) AS h ON true
    LEFT JOIN LATERAL (
        SELECT e.municipality_id, e.municipality_name, e.county_code, e.stage
        FROM audit_auditevent AS e WHERE e.process_id = for_process ORDER BY e.id DESC LIMIT 1
    ) AS c ON true;
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS audit_lock_chain_and_read_head(bigint, bigint);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_fewer_indexes")]

    operations = [migrations.RunPython(create, drop)]
