"""Secrets an email carries but the database must not keep: a task link's URL holds its token.

The outbox row stores the email with a placeholder where the secret goes and the secret itself
encrypted (Fernet, from the `cryptography` package: authenticated AES with a maintained
implementation) under a key derived from SECRET_KEY, which is not in the database. Delivery puts
the secret in, and the transaction that marks the row sent erases it: a database dump, the
history, the audit trail and a personal-data export then hold no working link, and a retry after
an SMTP failure or a killed worker still has it. SECRET_KEY_FALLBACKS open what an older key
sealed, so a key rotation does not break the emails waiting in the outbox.
"""

import base64
import json
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.html import escape

_SALT = "policyflow.notifications.sealing"


class Unsealable(Exception):
    """The sealed secret cannot be opened (SECRET_KEY changed without a fallback, or tampering)."""


def _fernet(secret: str) -> Fernet:
    key = salted_hmac(_SALT, "fernet-key", secret=secret, algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _keys() -> MultiFernet:
    return MultiFernet(
        [_fernet(settings.SECRET_KEY)]
        + [_fernet(key) for key in getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    )


def placeholders(names) -> dict[str, str]:
    """A placeholder per context key, what the stored email shows instead of the secret.

    The random part keeps a placeholder from matching anything else the email says; the
    characters survive HTML escaping and the plain-text templates unchanged.
    """
    nonce = secrets.token_hex(6)
    return {name: f"⟦sealed:{name}:{nonce}⟧" for name in names}


def seal(replacements: dict[str, str]) -> str:
    """Encrypt {placeholder: secret} for the row; empty when there is nothing to seal."""
    if not replacements:
        return ""
    return _keys().encrypt(json.dumps(replacements).encode()).decode()


def unseal(sealed: str) -> dict[str, str]:
    if not sealed:
        return {}
    try:
        return json.loads(_keys().decrypt(sealed.encode()))
    except (InvalidToken, ValueError) as error:
        raise Unsealable(
            "The sealed task link could not be decrypted with SECRET_KEY or any of "
            "SECRET_KEY_FALLBACKS (was SECRET_KEY changed without keeping the old key as a "
            "fallback?); the email was not sent."
        ) from error


def fill(sealed: str, *, text: str, html: str) -> tuple[str, str]:
    """The email's plain text and HTML with each placeholder replaced by its secret."""
    for placeholder, value in unseal(sealed).items():
        text = text.replace(placeholder, value)
        html = html.replace(placeholder, escape(value))
    return text, html
