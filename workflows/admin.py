"""Administrators edit the policy template and the stage limits; the record itself is read in
the app, never edited here."""

from django.contrib import admin

from audit.admin import ReadOnlyHistoryAdmin

from .models import PolicyTemplate, StageLimit


@admin.register(PolicyTemplate)
class PolicyTemplateAdmin(ReadOnlyHistoryAdmin):
    list_display = ["name", "is_default"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StageLimit)
class StageLimitAdmin(ReadOnlyHistoryAdmin):
    list_display = ["stage", "days"]

    def has_delete_permission(self, request, obj=None):
        return False
