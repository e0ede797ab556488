"""Tokens are masked in log lines; ordinary paths stay readable."""

import logging

import pytest

from policyflow.logs import RedactTokens, redact

TOKEN = "q3Vx-7_Lp0ZrT9aK2mWc8sYb4NdE6hJuFgQiOoRtS1U"  # like secrets.token_urlsafe(32)


@pytest.mark.parametrize(
    "path",
    [
        f"/l/{TOKEN}/",
        f"/l/{TOKEN}",
        f"https://policyflow.example.se/l/{TOKEN}/?utm=mail",
        f"/reset/MQ/{TOKEN}/",
    ],
)
def test_a_token_in_a_path_is_masked(path):
    assert TOKEN not in redact(path)
    assert "/[redacted]" in redact(path)


@pytest.mark.parametrize(
    "path",
    [
        "/processes/12/drafts/3/",
        "/static/viewflow/fonts/roboto/Roboto-BoldItalic.woff2",
        "/processes/start-county/",
        "/accounts/login/",
    ],
)
def test_ordinary_paths_are_left_alone(path):
    assert redact(path) == path


def test_django_request_log_records_are_masked():
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "%s: %s",
        ("Not Found", f"/l/{TOKEN}/"),
        None,
    )

    RedactTokens().filter(record)

    assert record.getMessage() == "Not Found: /l/[redacted]/"
