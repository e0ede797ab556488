"""Administrators read the audit trail, its checkpoints and its verifications here; nothing can be
changed.

`ReadOnlyHistoryAdmin` is the base for admins of audited models: simple-history's history page
stays readable, but its form never saves (its POST would revert the record to an old version).
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from .models import AuditCheckpoint, AuditEvent, AuditVerification


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """A SimpleHistoryAdmin whose history can be read but never reverted."""

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(_ReadOnly):
    list_display = [
        "chain",
        "seq",
        "occurred_at",
        "kind",
        "actor_label",
        "municipality_name",
        "summary",
    ]
    list_filter = ["kind", "county_code"]
    search_fields = ["=process_id", "=object_id", "municipality_name"]
    show_full_result_count = False  # counting a million rows on every page is slow


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(_ReadOnly):
    list_display = ["seq", "created_at", "events", "hash"]


@admin.register(AuditVerification)
class AuditVerificationAdmin(_ReadOnly):
    list_display = [
        "finished_at",
        "is_ok",
        "is_full",
        "rows_checked",
        "head_seq",
        "first_bad_id",
        "source",
    ]
