"""A user's permissions and county roles, kept in the cache between requests.

Every page asks who the user is allowed to be: Django's model backend reads the user's own and
their groups' permissions (two queries) and `scoping` reads their county roles (one more), on
every request. Here the three are read once and kept in the cache per user, under two versions
that any change of access replaces (see docs/decisions/access-cache.md):

- the user's own version: their groups, their own permissions, their memberships, their row
  (``is_superuser``, deletion);
- everyone's version: a group's permissions, a group, a permission, a county or its project, a
  municipality (which county a process belongs to is kept under it too: `county_fact`).

A version is replaced when the change commits (`transaction.on_commit`), so the very next
request reads the new access from the database. An entry counts only when both versions it was
read under are still the current ones: a missing version (never set, evicted, Redis down) is a
miss, and the database answers. Inside a transaction nothing is read from or written to the
cache: the transaction may see its own uncommitted change, or be rolled back. Nor with a cache
of each process's own (local memory): another process's change would never reach it.

A write that sends no model signals (``bulk_create``, ``QuerySet.update``, raw SQL, a restored
database) must call `forget_everyone` after it commits.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import County, CountyProject, Membership, Municipality

logger = logging.getLogger(__name__)

EVERYONE_KEY = "access:everyone"
# The backend that signed a session in is stored in it (BACKEND_SESSION_KEY): sessions signed in
# before this backend existed name Django's, which `policyflow.middleware` renames.
BACKEND = "municipalities.access.CachedModelBackend"


@dataclass(frozen=True)
class Access:
    """What a user may do: Django's permission names and {county id: role}, {county id: code}."""

    user_permissions: frozenset[str]
    group_permissions: frozenset[str]
    roles: dict[int, str]
    codes: dict[int, str]


# An entry is a tuple of built-in types (not a class of ours, whose pickles a later release could
# not load): (format, versions, identity, user permissions, group permissions, roles, codes). The
# identity says whose it is: a user id alone could name another person in a restored database.
_FORMAT = "access-1"


# What `county_fact` keeps: built-in types only (ids, codes, names, lists and tuples of them).
Fact = TypeVar("Fact")


def _user_key(user_id) -> str:
    return f"access:user:{user_id}"


def _entry_key(user_id) -> str:
    return f"access:entry:{user_id}"


def _identity(user) -> tuple:
    return (user.pk, getattr(user, "date_joined", None), user.is_superuser)


def access_of(user) -> Access | None:
    """``user``'s permissions and roles, kept on the user object for the request: from the cache
    when its entry is current, else from the database (three queries). None inside a
    transaction, or without a cache that every process shares, where the caller reads only what
    it needs from the database, as before."""
    access = getattr(user, "_access", None)
    if access is None and not connection.in_atomic_block and _is_shared(caches["default"]):
        access = user._access = _cached_or_read(user)
    return access


def _is_shared(backend) -> bool:
    """A process's own memory (the quick start's default) would never hear of a change another
    process commits (a management command, a Celery task): only a shared cache keeps access."""
    return not isinstance(backend, LocMemCache | DummyCache)


def county_roles(user) -> tuple[dict[int, str], dict[int, str]]:
    """({county id: role}, {county id: county code}) of ``user``."""
    access = access_of(user)
    return (access.roles, access.codes) if access is not None else _read_roles(user)


def _cached_or_read(user) -> Access:
    keys = (EVERYONE_KEY, _user_key(user.pk))
    found = cache.get_many([*keys, _entry_key(user.pk)])
    versions = tuple(found.get(key) for key in keys)
    entry = found.get(_entry_key(user.pk))
    if (
        None not in versions
        and isinstance(entry, tuple)
        and len(entry) == 7
        and entry[:3] == (_FORMAT, versions, _identity(user))
    ):
        return Access(*entry[3:])
    if None in versions:
        # A version is started before the database is read: a change committed after this
        # point replaces it, so what is read below is never kept under the new one.
        for key, version in zip(keys, versions, strict=True):
            if version is None:
                cache.add(key, _new_version(), timeout=None)
        found = cache.get_many(keys)
        versions = tuple(found.get(key) for key in keys)
    access = _read(user)
    if None not in versions:
        entry = (
            _FORMAT,
            versions,
            _identity(user),
            access.user_permissions,
            access.group_permissions,
            access.roles,
            access.codes,
        )
        cache.set(_entry_key(user.pk), entry, settings.ACCESS_CACHE_SECONDS)
    return access


def county_fact(name: str, read: Callable[[], Fact | None]) -> Fact | None:
    """A fact of the county structure that only an administrator changes, e.g. the county of a
    process (its municipality is set when it starts and never changes; a municipality's county
    only by an administrator), or the counties and municipalities with their names:
    ``read()`` once, then kept in the cache under everyone's version, which a change of a
    county, its project or a municipality replaces when it commits. The same rules as a user's
    access: a missing version is a miss, nothing is kept inside a transaction or in a cache of
    each process's own, and nothing is kept for None (what does not exist yet may exist at the
    next request). A fact is of built-in types, as an entry is."""
    if connection.in_atomic_block or not _is_shared(caches["default"]):
        return read()
    key = f"access:fact:{name}"
    found = cache.get_many([EVERYONE_KEY, key])
    version, entry = found.get(EVERYONE_KEY), found.get(key)
    if version is not None and isinstance(entry, tuple) and len(entry) == 2 and entry[0] == version:
        return entry[1]
    if version is None:
        cache.add(EVERYONE_KEY, _new_version(), timeout=None)
        version = cache.get(EVERYONE_KEY)
    value = read()
    if version is not None and value is not None:
        cache.set(key, (version, value), settings.ACCESS_CACHE_SECONDS)
    return value


def _read(user) -> Access:
    backend = ModelBackend()
    return Access(
        frozenset(backend.get_user_permissions(user)),
        frozenset(backend.get_group_permissions(user)),
        *_read_roles(user),
    )


def _read_roles(user) -> tuple[dict[int, str], dict[int, str]]:
    rows = Membership.objects.filter(user_id=user.pk).values_list(
        "project__county_id", "project__county__code", "role"
    )
    roles, codes = {}, {}
    for county_id, code, role in rows:
        roles[county_id], codes[county_id] = role, code
    return roles, codes


def _new_version() -> str:
    return secrets.token_hex(8)


class CachedModelBackend(ModelBackend):
    """Django's model backend, whose permissions come from `access_of` (the cache when current)."""

    def get_user_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        access = access_of(user_obj)
        if access is None:
            return super().get_user_permissions(user_obj)
        return set(access.user_permissions)

    def get_group_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        access = access_of(user_obj)
        if access is None:
            return super().get_group_permissions(user_obj)
        return set(access.group_permissions)


def _replace(key: str) -> None:
    version = _new_version()
    cache.set(key, version, timeout=None)
    # The fail-safe cache keeps nothing when Redis does not answer: say so loudly, an entry
    # read before the change then stays valid until it expires (ACCESS_CACHE_SECONDS).
    if cache.get(key) != version:
        logger.error(
            "The cache did not take a new access version (%s): a changed permission or role "
            "may take up to %s s to apply.",
            key,
            settings.ACCESS_CACHE_SECONDS,
        )


def forget_user(user_id) -> None:
    """After the current transaction commits, ``user_id``'s access is read from the database."""
    transaction.on_commit(lambda: _replace(_user_key(user_id)))


def forget_everyone() -> None:
    """After the current transaction commits, everyone's access is read from the database."""
    transaction.on_commit(lambda: _replace(EVERYONE_KEY))


def _user_changed(sender, instance, **kwargs):
    forget_user(instance.pk)


def _membership_changed(sender, instance, **kwargs):
    forget_user(instance.user_id)


def _everyone_changed(sender, **kwargs):
    forget_everyone()


def _user_relation_changed(sender, instance, action, reverse, **kwargs):
    if not action.startswith("post_"):
        return
    if reverse:  # group.user_set.add(...), permission.user_set.clear(): rare, from the admin
        forget_everyone()
    else:
        forget_user(instance.pk)


def _group_permissions_changed(sender, action, **kwargs):
    if action.startswith("post_"):
        forget_everyone()


def connect_signals() -> None:
    """Called by the app's ``ready()``."""
    user_model = get_user_model()
    uid = "municipalities.access"
    for signal in (post_save, post_delete):
        signal.connect(_user_changed, sender=user_model, dispatch_uid=f"{uid}.user")
        signal.connect(_membership_changed, sender=Membership, dispatch_uid=f"{uid}.membership")
        for model in (Group, Permission, County, CountyProject, Municipality):
            signal.connect(
                _everyone_changed, sender=model, dispatch_uid=f"{uid}.{model._meta.label}"
            )
    for relation in (user_model.groups.through, user_model.user_permissions.through):
        m2m_changed.connect(
            _user_relation_changed, sender=relation, dispatch_uid=f"{uid}.{relation._meta.label}"
        )
    m2m_changed.connect(
        _group_permissions_changed,
        sender=Group.permissions.through,
        dispatch_uid=f"{uid}.group_permissions",
    )
