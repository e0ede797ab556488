"""The database refuses UPDATE and DELETE on the audit table and every history table; no admin
page reverts history."""

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse
from simple_history.models import HistoricalChanges

from audit import upstream
from audit.models import AuditEvent, AuditVerification
from audit.verification import triggers_missing
from workflows.models import PolicyTemplate

pytestmark = pytest.mark.django_db


def history_tables():
    """(table, primary key column) of every simple-history table."""
    return sorted(
        (m._meta.db_table, m._meta.pk.column)
        for m in apps.get_models()
        if issubclass(m, HistoricalChanges)
    )


def refused(sql: str) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    except DatabaseError as error:
        assert "pgtrigger: Cannot" in str(error)
        return True
    return False


def count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed names)
        return cursor.fetchone()[0]


def test_the_record_cannot_be_truncated(vaxjo_story):
    """TRUNCATE fires no row trigger: a statement-level one refuses it on every record table,
    empty or not, so neither the chain nor a history table can be wiped and restarted."""
    from django.core.management import call_command

    call_command("verify_audit", stdout=__import__("io").StringIO())
    tables = ["audit_auditevent", "audit_auditverification"]
    tables += [table for table, _pk in history_tables()]
    before = {table: count(table) for table in tables}
    with connection.cursor() as cursor:
        # The test's own transaction holds deferred foreign-key checks, which PostgreSQL would
        # name instead of the trigger.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table in tables:
        assert refused(f"TRUNCATE {table} CASCADE"), table
    assert {table: count(table) for table in tables} == before
    assert before["audit_auditevent"] > 0 and before["workflows_historicalpolicydraft"] > 0


def test_every_history_table_is_protected(vaxjo_story):
    tables = history_tables()
    names = {table for table, _pk in tables}
    assert {"workflows_historicaltask", "municipalities_historicalcontact"} <= names
    assert "workflows_historicalpolicyprocess_approvers" in names
    assert triggers_missing() == []
    checked = 0
    for table, pk in tables:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed names)
            if not cursor.fetchone()[0]:
                continue  # a trigger only fires on rows; triggers_missing() covers the table
        # Fixed table names from the model registry.
        assert refused(f"UPDATE {table} SET {pk} = {pk}"), table  # noqa: S608
        assert refused(f"DELETE FROM {table}"), table  # noqa: S608
        checked += 1
    assert checked >= 12


def test_audit_rows_cannot_be_updated_or_deleted(vaxjo_story):
    assert refused("UPDATE audit_auditevent SET summary = 'forged'")
    assert refused("UPDATE audit_auditevent SET personal = '{}'")
    assert refused("DELETE FROM audit_auditevent")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(process_id=vaxjo_story.process.pk).delete()
    assert AuditEvent.objects.filter(process_id=vaxjo_story.process.pk).exists()


def test_verifications_are_append_only(vaxjo_story):
    from django.core.management import call_command

    call_command("verify_audit", stdout=__import__("io").StringIO())
    assert AuditVerification.objects.exists()
    assert refused("UPDATE audit_auditverification SET is_ok = false")
    assert refused("DELETE FROM audit_auditverification")


def test_even_a_lifted_append_only_trigger_keeps_hashed_columns(vaxjo_story):

    with upstream.ignoring_triggers("audit.AuditEvent:append_only"):
        assert refused("UPDATE audit_auditevent SET summary = 'forged'")


def test_history_page_in_the_admin_cannot_revert(admin_client):
    template = PolicyTemplate.objects.get(is_default=True)
    template.save()
    record = template.history.first()
    url = reverse(
        "admin:workflows_policytemplate_simple_history", args=[template.pk, record.history_id]
    )
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"name": "Reverted", "competition_section": "x"})
    assert response.status_code == 403
    assert PolicyTemplate.objects.get(pk=template.pk).name == template.name
