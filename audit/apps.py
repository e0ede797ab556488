"""The audit trail: one append-only, hash-chained timeline of everything that happens.

On start, this app
- records an audit event for every django-simple-history record (same transaction), and
- registers django-pgtrigger triggers refusing UPDATE and DELETE (row level) and TRUNCATE
  (statement level) on every history table, including those created later (viewflow's Task
  history is registered in workflows' ready()). pgtrigger installs them after every `migrate`
  (PGTRIGGER_INSTALL_ON_MIGRATE); they are not in migrations because the history tables belong
  to other apps. On SQLite, `audit.sqlite` installs equivalent UPDATE/DELETE triggers after
  every `migrate`.
"""

import pgtrigger
from django.apps import AppConfig
from django.db.models.signals import class_prepared
from django.utils.translation import gettext_lazy as _

HISTORY_TRIGGER = "append_only"

_protected: dict[str, type] = {}


def _is_history_model(model) -> bool:
    from simple_history.models import HistoricalChanges

    return isinstance(model, type) and issubclass(model, HistoricalChanges)


def protect_history_model(model) -> None:
    """Refuse UPDATE, DELETE and TRUNCATE on ``model``'s table (a simple-history table)."""
    from .models import no_truncate

    if model._meta.abstract or model._meta.proxy or model._meta.label in _protected:
        return
    pgtrigger.Protect(name=HISTORY_TRIGGER, operation=pgtrigger.Update | pgtrigger.Delete).register(
        model
    )
    no_truncate().register(model)
    _protected[model._meta.label] = model


def history_trigger_uris() -> list[str]:
    return [f"{label}:{HISTORY_TRIGGER}" for label in sorted(_protected)]


def protected_history_models() -> list[type]:
    return [_protected[label] for label in sorted(_protected)]


def _on_class_prepared(sender, **kwargs) -> None:
    from django.apps import apps

    # Only the project's models: migrations render their own copies in other registries.
    if _is_history_model(sender) and sender._meta.apps is apps:
        protect_history_model(sender)


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from django.apps import apps
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate
        from simple_history.signals import (
            post_create_historical_m2m_records,
            post_create_historical_record,
        )

        from . import sqlite
        from .recording import on_history_record, on_m2m_history

        post_create_historical_record.connect(on_history_record, dispatch_uid="audit.record")
        post_create_historical_m2m_records.connect(on_m2m_history, dispatch_uid="audit.m2m")
        connection_created.connect(sqlite.register_functions, dispatch_uid="audit.sqlite")
        post_migrate.connect(sqlite.install_on_migrate, sender=self, dispatch_uid="audit.sqlite")
        from axes.signals import user_locked_out

        from .signin import on_user_locked_out

        user_locked_out.connect(on_user_locked_out, dispatch_uid="audit.signin_locked")
        for model in apps.get_models():
            if _is_history_model(model):
                protect_history_model(model)
        # History models registered later (e.g. viewflow's Task in workflows' ready()).
        class_prepared.connect(_on_class_prepared, dispatch_uid="audit.protect_history")
