"""Who did it and why: attach the actor and the reason to what django-simple-history records."""

from typing import Any


def stamp(obj: Any, *, user: Any = None, reason: str) -> Any:
    """Mark the next save of ``obj`` in the history with its actor and reason."""
    obj._history_user = user
    obj._change_reason = str(reason)[:100]
    return obj
