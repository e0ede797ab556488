"""A readable diff between two draft versions: for the contact's task-link page (what changed
since the version they saw) and the leader's comparison of any two versions.

Word by word, but not all words against all words: difflib's SequenceMatcher can take time
quadratic in the number of tokens (and more when a token repeats often), so a 4,000-word draft
took 30 s. The texts are compared by paragraph first, then sentence by sentence within the
paragraphs that changed, then word by word within the sentences that changed; a common start
and end are taken off before every comparison. No comparison may cover more than
MAX_COMPARED_PAIRS pairs of units: a block of changes larger than that (a text rewritten
from end to end) is shown as removed and added whole, at the finest level that fits.
"""

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

# Each keeps what follows a unit with it, so the units of a text join back into the text.
_PARAGRAPHS = re.compile(r".+?(?:\n[ \t]*\n\s*|\Z)", re.S)
_SENTENCES = re.compile(r".+?(?:[.!?;:]+(?=\s|\Z)\s*|\n\s*|\Z)", re.S)
_WORDS = re.compile(r"\S+\s*|\s+")
LEVELS = (_PARAGRAPHS, _SENTENCES, _WORDS)

# One comparison covers at most this many (old unit, new unit) pairs: ~0.1 s at worst.
MAX_COMPARED_PAIRS = 250_000

EQUAL, DELETE, INSERT = "equal", "delete", "insert"

# A draft's texts, in the order a reader meets them, with their headings.
DRAFT_SECTIONS = {
    "competition_section": _("Competition-law section"),
    "customer_section": _("Customer section"),
    "other_text": _("Other text"),
}


@dataclass(frozen=True)
class SectionDiff:
    title: str
    html: SafeString  # both versions in one text, removals and additions marked
    has_changes: bool
    old_html: SafeString = mark_safe("")  # noqa: S308  the earlier version, removals marked
    new_html: SafeString = mark_safe("")  # noqa: S308  the later version, additions marked


def _units(pattern: re.Pattern, text: str) -> list[str]:
    return [unit for unit in pattern.findall(text) if unit]


def diff_ops(old: str, new: str, level: int = 0) -> Iterator[tuple[str, str]]:
    """(EQUAL | DELETE | INSERT, text) pieces: the EQUAL and DELETE pieces make ``old``, the
    EQUAL and INSERT pieces make ``new``."""
    a, b = _units(LEVELS[level], old), _units(LEVELS[level], new)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    if start:
        yield EQUAL, "".join(a[:start])
    middle_a, middle_b = a[start : len(a) - end], b[start : len(b) - end]
    yield from _diff_middle(middle_a, middle_b, level)
    if end:
        yield EQUAL, "".join(a[len(a) - end :])


def _diff_middle(a: list[str], b: list[str], level: int) -> Iterator[tuple[str, str]]:
    if not a or not b:
        yield from _replaced(a, b)
        return
    if len(a) * len(b) > MAX_COMPARED_PAIRS:
        yield from _replaced(a, b)
        return
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            yield EQUAL, "".join(a[i1:i2])
        elif op == "replace" and level + 1 < len(LEVELS):
            # Only what changed is compared again, by smaller units.
            yield from diff_ops("".join(a[i1:i2]), "".join(b[j1:j2]), level + 1)
        else:
            yield from _replaced(a[i1:i2], b[j1:j2])


def _replaced(a: list[str], b: list[str]) -> Iterator[tuple[str, str]]:
    if a:
        yield DELETE, "".join(a)
    if b:
        yield INSERT, "".join(b)


def diff_html(old: str, new: str) -> tuple[SafeString, bool]:
    """Mark removed text with <del> and added text with <ins>; everything else escaped."""
    parts, changed = [], False
    for op, text in _merged(diff_ops(old, new)):
        if op == EQUAL:
            parts.append(escape(text))
            continue
        changed = True
        tag = "del" if op == DELETE else "ins"
        parts.append(f"<{tag}>{escape(text)}</{tag}>")
    return mark_safe("".join(parts).replace("\n", "<br>")), changed  # noqa: S308 (all escaped)


def diff_columns(old: str, new: str) -> tuple[SafeString, SafeString]:
    """The two versions side by side: the earlier with its removals in <del>, the later with
    its additions in <ins>; everything else escaped."""
    before, after = [], []
    for op, text in _merged(diff_ops(old, new)):
        if op != INSERT:
            before.append(escape(text) if op == EQUAL else f"<del>{escape(text)}</del>")
        if op != DELETE:
            after.append(escape(text) if op == EQUAL else f"<ins>{escape(text)}</ins>")
    return (
        mark_safe("".join(before).replace("\n", "<br>")),  # noqa: S308 (all escaped)
        mark_safe("".join(after).replace("\n", "<br>")),  # noqa: S308 (all escaped)
    )


def _merged(ops: Iterator[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """Adjacent pieces of one kind as one, removals before additions, for a calm display."""
    pending: dict[str, list[str]] = {DELETE: [], INSERT: []}
    for op, text in ops:
        if op == EQUAL:
            yield from _flush(pending)
            yield EQUAL, text
        else:
            pending[op].append(text)
    yield from _flush(pending)


def _flush(pending: dict[str, list[str]]) -> Iterator[tuple[str, str]]:
    for op in (DELETE, INSERT):
        if pending[op]:
            yield op, "".join(pending[op])
            pending[op].clear()


def draft_diff(old, new, titles: dict[str, str] = DRAFT_SECTIONS) -> list[SectionDiff]:
    sections = []
    for field, title in titles.items():
        before, after = getattr(old, field), getattr(new, field)
        html, changed = diff_html(before, after)
        old_html, new_html = diff_columns(before, after) if changed else ("", "")
        sections.append(
            SectionDiff(
                title=title,
                html=html,
                has_changes=changed,
                old_html=mark_safe(old_html),  # noqa: S308 (escaped by diff_columns)
                new_html=mark_safe(new_html),  # noqa: S308 (escaped by diff_columns)
            )
        )
    return sections
