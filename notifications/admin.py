"""Read-only admin for the outbox: rows are written by services only, never by hand."""

from django.contrib import admin

from audit.admin import ReadOnlyHistoryAdmin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyHistoryAdmin):
    list_display = ("created_at", "event", "recipient_email", "status", "attempts", "topic")
    list_filter = ("status", "event", "language")
    search_fields = ("recipient_email", "topic", "subject", "idempotency_key")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
