"""Who may call the API and how its lists are paged (the settings' defaults name these; kept
apart from the views, which DRF's settings would otherwise import while loading themselves)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import pagination, permissions

READ = "workflows.view_policyprocess"


class MayReadTheRecord(permissions.BasePermission):
    """Signed in (a token or a session) with a reader's role: the pages' own gate."""

    message = _("Your account may not read the record.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(READ))


class Cursor(pagination.CursorPagination):
    """Pages of 50 (at most 200), in the order of a unique field: a cursor page stays right while
    rows are added, and needs no count of the whole set."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "id"


def cursor_by(field: str) -> type[Cursor]:
    """Cursor pages ordered by ``field`` (unique)."""
    return type(f"CursorBy{field.strip('-').title()}", (Cursor,), {"ordering": field})
