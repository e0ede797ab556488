"""A readable, word-level diff between two draft versions, for the contact's task-link page."""

import difflib
import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class SectionDiff:
    title: str
    html: SafeString
    has_changes: bool


def diff_html(old: str, new: str) -> tuple[SafeString, bool]:
    """Mark removed words with <del> and added words with <ins>; everything else escaped."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    parts, changed = [], False
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape("".join(a[i1:i2])))
            continue
        changed = True
        if op in ("delete", "replace"):
            parts.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return mark_safe("".join(parts).replace("\n", "<br>")), changed  # noqa: S308 (all escaped)


def draft_diff(old, new, titles: dict[str, str]) -> list[SectionDiff]:
    sections = []
    for field, title in titles.items():
        html, changed = diff_html(getattr(old, field), getattr(new, field))
        sections.append(SectionDiff(title=title, html=html, has_changes=changed))
    return sections
