"""Personal data in events: kept apart from the hashed texts so that it can be pseudonymised.

A contact person's name or email in an event's texts is replaced by a placeholder (``⟦p:17⟧``,
``⟦p:17:email⟧``) and the value is kept in the event's `personal` part, under ``people``. Pages
and exports put the values back with `expand`.
"""

import re
import secrets
from typing import Any

from .registry import Person

# A contact person's (``⟦p:17⟧``) or a user account's (``⟦p:user:3⟧``): both kinds of key in
# `people`, so a contact and an account with the same id never meet.
PLACEHOLDER = re.compile(r"⟦p:((?:user:)?\d+)(:email)?⟧")
# Shorter names would match inside ordinary words.
MIN_NAME_LENGTH = 3


def _name_pattern(name: str) -> re.Pattern:
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")


def text_pattern(text: str) -> str:
    """How a person's name or email is found in a text (case ignored by the caller): an email
    anywhere, a name as whole words only ("Ann Li" is not inside "Johann Linde")."""
    escaped = re.escape(text)
    return escaped if "@" in text else rf"(?<!\w){escaped}(?!\w)"


class Scrubber:
    """Replaces known people's names and emails in texts; remembers whom it met."""

    def __init__(self, people: dict[int, Person]):
        self.people = people
        self.used: set[int] = set()
        replacements = []
        for pk, person in people.items():
            if person.email:
                replacements.append((person.email, f"⟦p:{pk}:email⟧", pk, True))
            if len(person.name.strip()) >= MIN_NAME_LENGTH:
                replacements.append((person.name.strip(), f"⟦p:{pk}⟧", pk, False))
        # Emails first (a name can be part of one), then the longest names first.
        replacements.sort(key=lambda r: (not r[3], -len(r[0])))
        self.replacements = [
            (
                re.compile(re.escape(value), re.IGNORECASE) if is_email else _name_pattern(value),
                token,
                pk,
            )
            for value, token, pk, is_email in replacements
        ]

    def text(self, value: str) -> str:
        if not value or not self.replacements:
            return value
        for pattern, token, pk in self.replacements:
            value, count = pattern.subn(token, value)
            if count:
                self.used.add(pk)
        return value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def mentions(self, value: Any) -> None:
        """Note the people ``value`` mentions, without replacing anything (personal values)."""
        if isinstance(value, str):
            for pattern, _token, pk in self.replacements:
                if pattern.search(value):
                    self.used.add(pk)
        elif isinstance(value, list | tuple):
            for v in value:
                self.mentions(v)
        elif isinstance(value, dict):
            for v in value.values():
                self.mentions(v)


def build_personal(people: dict[int, Person], changes: dict) -> dict:
    """The personal part of an event; empty when there is none. The salt makes its digest
    unguessable once the data is gone."""
    if not people and not changes:
        return {}
    personal: dict[str, Any] = {"salt": secrets.token_hex(16)}
    if people:
        personal["people"] = {
            str(pk): {"name": person.name, "email": person.email}
            for pk, person in sorted(people.items())
        }
    if changes:
        personal["changes"] = changes
    return personal


def account_personal(user) -> tuple[str, dict]:
    """A placeholder for a user account's name and the personal part holding it (events that
    name an account which is not the actor, such as a sign-in lockout)."""
    key = f"user:{user.pk}"
    personal = {
        "salt": secrets.token_hex(16),
        "people": {key: {"name": user.get_username(), "email": ""}},
    }
    return f"⟦p:{key}⟧", personal


def expand(text: str, personal: dict | None, *, missing: str = "–") -> str:
    """Put the people's names and emails back into ``text`` (``missing`` for a person the
    personal part does not hold)."""
    if not text or "⟦" not in text:
        return text
    people = (personal or {}).get("people", {})

    def replace(match: re.Match) -> str:
        person = people.get(match.group(1))
        if person is None:
            return missing
        return person["email"] if match.group(2) else person["name"]

    return PLACEHOLDER.sub(replace, text)


def expand_value(value: Any, personal: dict | None, *, missing: str = "–") -> Any:
    if isinstance(value, str):
        return expand(value, personal, missing=missing)
    if isinstance(value, list):
        return [expand_value(v, personal, missing=missing) for v in value]
    if isinstance(value, dict):
        return {k: expand_value(v, personal, missing=missing) for k, v in value.items()}
    return value


def replace_in(value: Any, replacements: list[tuple[str, str]]) -> Any:
    """``value`` with each old text replaced by its new text, in any letter case
    (pseudonymising personal parts)."""
    if isinstance(value, str):
        for old, new in replacements:
            if old:
                value = re.sub(text_pattern(old), lambda _match, new=new: new, value, flags=re.I)
        return value
    if isinstance(value, list):
        return [replace_in(v, replacements) for v in value]
    if isinstance(value, dict):
        return {k: replace_in(v, replacements) for k, v in value.items()}
    return value
