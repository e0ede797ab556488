"""Who may give and take work: the county's project leaders (roles per county are
`municipalities.selectors`' business; this module only asks it)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from municipalities import scoping


def leads(user, county) -> bool:
    """Whether ``user`` is an active project leader of ``county``."""
    return bool(user and user.is_authenticated and user.is_active) and scoping.can_lead(
        user, county
    )


def require_lead(user, county) -> None:
    if not leads(user, county):
        raise PermissionDenied(_("Only project leaders of this county can do this."))


def can_take_work(user, county) -> bool:
    """Whether work of ``county`` may be handed to ``user`` (an active leader there)."""
    return leads(user, county)


def may_hand_over(user, county) -> bool:
    """Whether ``user`` may give ``county``'s work to someone: its project leaders, and an
    administrator (who deactivates a leader and then reassigns their open work)."""
    return bool(user and user.is_active and user.is_superuser) or leads(user, county)


def require_may_hand_over(user, county) -> None:
    if not may_hand_over(user, county):
        raise PermissionDenied(_("Only project leaders of this county can do this."))
