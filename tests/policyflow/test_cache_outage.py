"""Pages keep working while the Redis cache is down: a cache that does not answer is a miss
(policyflow.cache). The cache is a redis-server of the test's own, stopped in the middle."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from policyflow.cache import cache_config
from tests.notifications.conftest import RedisServer
from tests.workflows.helpers import current_task, walk_to
from workflows import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_redis():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_cache(settings, own_redis):
    """The cache as production configures it (CACHE_URL=redis://...), on the test's own Redis."""
    settings.CACHES = {"default": cache_config(own_redis.url)}
    return own_redis


@pytest.fixture
def process(leader, vaxjo, vaxjo_contact):
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, vaxjo_contact, "decision")
    return process


def main_pages(process, task_pk: int) -> list[str]:
    """Every page a project leader or the steering group opens from the menu or a process."""
    return [
        reverse("home"),
        reverse("workflows:inbox"),
        reverse("workflows:processes"),
        reverse("workflows:process", args=[process.pk]),
        reverse("workflows:chart", args=[process.pk]),
        reverse("workflows:draft", args=[process.pk, 1]),
        reverse("workflows:step", args=[task_pk]),
        reverse("workflows:overview"),
        reverse("workflows:overview_chart", args=["progress"]),
        reverse("workflows:overview_chart", args=["stage-times"]),
        reverse("workflows:overview_municipality", args=[process.municipality.code]),
        reverse("audit:timeline"),
        reverse("audit:process", args=[process.pk]),
        reverse("audit:municipality", args=[process.municipality.pk]),
        reverse("audit:process_csv", args=[process.pk]),
        reverse("notifications:log"),
    ]


def test_every_main_page_loads_with_the_cache_down(redis_cache, process, leader, steering, caplog):

    urls = main_pages(process, current_task(process).pk)
    browsers = {"leader": Client(), "steering": Client()}
    browsers["leader"].force_login(leader)
    browsers["steering"].force_login(steering)

    # With the cache up: each page twice, so the second is served from the cache.
    before = {}
    for who, browser in browsers.items():
        for url in urls:
            browser.get(url)
            before[who, url] = browser.get(url).status_code
    assert all(status < 500 for status in before.values()), before
    assert before["leader", reverse("workflows:process", args=[process.pk])] == 200
    assert before["steering", reverse("workflows:overview")] == 200

    redis_cache.stop()
    with caplog.at_level(logging.WARNING, logger="policyflow.cache"):
        during = {(who, url): browsers[who].get(url).status_code for who, url in before}

    assert during == before
    assert any("cache did not answer" in r.getMessage() for r in caplog.records)
