"""Django's model authentication backend, with a user's permissions read in one statement.

`ModelBackend.get_all_permissions` reads the user's own permissions and their groups'
permissions with two ORM queries on every request that checks one (every page here does);
composing them cost four times the database's work. This backend reads the same two sets in one
fixed statement, and keeps them on the user object for the request, exactly as Django does:
nothing is kept across requests, so a revoked permission applies at the next request.
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router


class OneQueryModelBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.values_list("content_type__app_label", "codename")
            else:
                using = router.db_for_read(Permission)
                with connections[using].cursor() as cursor:
                    cursor.execute(_permissions_sql(using), [user_obj.pk, user_obj.pk])
                    rows = cursor.fetchall()
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache


@functools.cache
def _permissions_sql(using: str) -> str:
    """The user's own permissions and their groups' (Django's two queries), as one statement;
    every name comes from the models' options."""
    quote = connections[using].ops.quote_name
    User = get_user_model()
    own = User._meta.get_field("user_permissions").remote_field.through._meta
    member = User._meta.get_field("groups").remote_field.through._meta
    granted = Group._meta.get_field("permissions").remote_field.through._meta
    permission, content_type = Permission._meta, ContentType._meta

    def column(meta, name: str) -> str:
        return quote(meta.get_field(name).column)

    # Identifiers from the models' options, quoted; the user is a parameter.
    return (
        f"SELECT ct.{column(content_type, 'app_label')}, p.{column(permission, 'codename')} "  # noqa: S608
        f"FROM {quote(permission.db_table)} p "
        f"JOIN {quote(content_type.db_table)} ct "
        f"ON ct.{column(content_type, 'id')} = p.{column(permission, 'content_type')} "
        f"WHERE p.{column(permission, 'id')} IN ("
        f"SELECT o.{column(own, 'permission')} FROM {quote(own.db_table)} o "
        f"WHERE o.{column(own, 'user')} = %s "
        "UNION "
        f"SELECT g.{column(granted, 'permission')} FROM {quote(granted.db_table)} g "
        f"JOIN {quote(member.db_table)} m "
        f"ON m.{column(member, 'group')} = g.{column(granted, 'group')} "
        f"WHERE m.{column(member, 'user')} = %s)"
    )
