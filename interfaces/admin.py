"""API tokens and calendar feeds in the admin: read-only lists, and revoking through the same
service as the integrations page (tokens are created there: its answer shows the key once)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.admin import ReadOnlyHistoryAdmin

from . import services
from .models import ApiToken, CalendarFeed


class ReadOnly(ReadOnlyHistoryAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnly):
    list_display = ("name", "user", "prefix", "created_at", "created_by", "last_used_at")
    list_display += ("revoked_at",)
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix", "user__username")
    exclude = ("key_hash",)
    actions = ["revoke"]

    @admin.action(description=_("Revoke the chosen tokens"), permissions=["manage"])
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            services.revoke_api_token(token=token, actor=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def has_manage_permission(self, request):
        return request.user.has_perm(services.MANAGE_TOKENS)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnly):
    list_display = ("user", "created_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username",)
    exclude = ("salt", "token_hash")
