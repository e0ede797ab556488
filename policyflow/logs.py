"""Keeping tokens out of the logs, in gunicorn's access and error lines and in Django's records.

Task links carry their token in the query string (/l/open/?t=<token>), which no log line writes.
Tokens can also travel in a URL path (Django's password-reset links, /reset/<uid>/<token>/), so
every path segment that looks like a token is masked before a line is written: 20 or more
URL-safe characters between slashes.
"""

import logging
import re

from gunicorn.glogging import Logger

_TOKEN_SEGMENT = re.compile(r"(?<=/)[A-Za-z0-9_-]{20,}(?=[/?#\s\"']|$)")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with every token-like URL path segment masked."""
    return _TOKEN_SEGMENT.sub(REDACTED, text)


def _redact_arg(value):
    return redact(value) if isinstance(value, str) else value


class RedactTokens(logging.Filter):
    """Masks token-like path segments in a record's message and arguments (Django's
    "Not Found: <path>" and "Internal Server Error: <path>" lines name the request path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_arg(arg) for key, arg in record.args.items()}
        return True


class TokenFreeGunicornLogger(Logger):
    """Gunicorn's logger with paths masked and query strings and referrers never written, whatever
    the access-log format says."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact(environ.get("PATH_INFO") or "")
        method, protocol = environ.get("REQUEST_METHOD"), environ.get("SERVER_PROTOCOL")
        atoms.update(U=path, r=f"{method} {path} {protocol}", q="", f="-")
        atoms.update({"{path_info}e": path, "{query_string}e": "", "{raw_uri}e": path})
        atoms.update({"{referer}i": "-", "{http_referer}e": "-"})
        return atoms

    def exception(self, msg, *args, **kwargs):
        # "Error handling request <uri>" names the full request URI, query string included.
        args = tuple(redact(arg.split("?", 1)[0]) if isinstance(arg, str) else arg for arg in args)
        super().exception(msg, *args, **kwargs)
