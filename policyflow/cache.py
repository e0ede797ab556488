"""Django's Redis cache backend, where a cache that does not answer is a miss.

Everything this project keeps in the cache (whole pages, their main content through the
``{% cache %}`` tag, the overview's charts) can be computed again from the database, so a Redis
outage must only make pages slower. Django's backend raises on a refused or timed-out
connection, which turned every cached page into a 500 while Redis was down; wrapping the backend
is the one place that covers the page cache, the template tag and every other caller alike.
"""

from __future__ import annotations

import logging
import time

import environ
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

DJANGO_REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"


def cache_config(url: str) -> dict:
    """The ``CACHES`` entry of a cache URL (django-environ's forms): a Redis URL gets the
    fail-safe backend, and an unreachable host is given up on within a second."""
    config = environ.Env.cache_url_config(url)
    if config["BACKEND"] == DJANGO_REDIS_BACKEND:
        config["BACKEND"] = f"{__name__}.FailSafeRedisCache"
        options = config.setdefault("OPTIONS", {})
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 1.0)
    return config


# One warning per outage and process is enough to see it; a page reads the cache several times.
WARNING_INTERVAL_SECONDS = 60.0


class FailSafeRedisCache(RedisCache):
    """Reads that fail return the default (a miss); writes that fail keep nothing. Each
    failure is logged as a warning, at most once a minute per process. ``incr`` and ``clear``
    still raise: they have no answer that would be safe to make up (nothing here uses them)."""

    _last_warning = 0.0

    def _failed(self, operation: str, error: Exception) -> None:
        now = time.monotonic()
        if now - FailSafeRedisCache._last_warning >= WARNING_INTERVAL_SECONDS:
            FailSafeRedisCache._last_warning = now
            logger.warning(
                "The cache did not answer (%s: %s); pages are served without it.",
                operation,
                error,
            )

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as error:
            self._failed("get", error)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as error:
            self._failed("get_many", error)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except RedisError as error:
            self._failed("has_key", error)
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError as error:
            self._failed("add", error)
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError as error:
            self._failed("set", error)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError as error:
            self._failed("set_many", error)
            return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except RedisError as error:
            self._failed("touch", error)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as error:
            self._failed("delete", error)
            return False

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except RedisError as error:
            self._failed("delete_many", error)
