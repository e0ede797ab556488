"""The first cells of the audit trail's CSV lines, written by PostgreSQL.

On PostgreSQL the export's first eleven cells (sequence, id, time, event, actor, county,
municipality, process, stage, what, why) come joined and quoted from the database, the people
put back into the texts (``⟦p:ID⟧`` from the event's personal part, as `personal.expand`
does): what Python's csv writer would write for them (QUOTE_MINIMAL: a cell holding the
delimiter, a quote or a line break is quoted, its quotes doubled). The cells that need the
changes decoded (their JSON, the readable column) stay Python's (`exports._csv_formatter`).
A text SQL cannot expand as Python does (a placeholder left after expanding) comes back NULL,
and its whole line is written by Python.
"""

from __future__ import annotations

import json

from django.db.models import TextField
from django.db.models.expressions import RawSQL

from .models import Kind

# The quoting of Python's csv writer (QUOTE_MINIMAL, lineterminator "\r\n").
_QUOTE = (
    """(CASE WHEN {v} ~ '[{d}"\r\n]' THEN '"' || replace({v}, '"', '""') || '"' ELSE {v} END)"""
)

# `personal.expand`: each ⟦p:ID⟧ / ⟦p:ID:email⟧ replaced by the person's name or email from
# the event's personal part, "–" for a person it does not hold.
_EXPAND = """(CASE WHEN strpos({v}, '⟦') = 0 THEN {v} ELSE (
    SELECT string_agg(m[1] || CASE WHEN m[2] IS NULL THEN '' ELSE coalesce(
        audit_auditevent.personal -> 'people' -> m[2]
            ->> CASE WHEN m[3] IS NULL THEN 'name' ELSE 'email' END, '–') END,
        '' ORDER BY n)
    FROM regexp_matches({v}, '(.*?)(?:⟦p:((?:user:)?[0-9]+)(:email)?⟧|$)', 'g')
        WITH ORDINALITY AS found(m, n)) END)"""


def head(delimiter: str) -> RawSQL:
    """The first eleven cells of the event's line, joined by ``delimiter`` (NULL: Python
    writes the line)."""
    if delimiter not in (",", ";"):
        raise ValueError(delimiter)

    def q(value: str) -> str:
        return _QUOTE.format(v=value, d=delimiter)

    cells = [
        "audit_auditevent.seq::text",
        "audit_auditevent.id::text",
        """to_char(audit_auditevent.occurred_at AT TIME ZONE 'UTC',
            'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""",
        q("t.kind"),
        q("t.actor"),
        q("audit_auditevent.county_code"),
        q("audit_auditevent.municipality_name"),
        "coalesce(audit_auditevent.process_id::text, '')",
        q("audit_auditevent.stage"),
        q("t.summary"),
        q("t.reason"),
    ]
    # The delimiter is one of two characters (checked above), every other part a constant.
    sql = f"""(SELECT CASE WHEN strpos(t.actor || t.summary || t.reason, '⟦') = 0
            THEN {f" || '{delimiter}' || ".join(cells)} END
        FROM (SELECT coalesce(%s::jsonb ->> audit_auditevent.kind, audit_auditevent.kind) AS kind,
                     {_EXPAND.format(v="audit_auditevent.actor_label")} AS actor,
                     {_EXPAND.format(v="audit_auditevent.summary")} AS summary,
                     {_EXPAND.format(v="audit_auditevent.reason")} AS reason
              OFFSET 0) AS t)"""  # noqa: S608 (OFFSET 0: each text expanded once, not per mention)
    kinds = {value: str(label) for value, label in Kind.choices}
    kinds_json = json.dumps(kinds, ensure_ascii=False)
    return RawSQL(sql, [kinds_json], output_field=TextField())  # noqa: S611 (see above)


def changes_cell(delimiter: str) -> RawSQL:
    """The changes' cell as `json.dumps(changes, ensure_ascii=False, sort_keys=True)` writes it
    (jsonb writes values as Python's json does: ", " and ": ", the same escapes), quoted; NULL
    for no changes. Exact where no value holds an object (its keys are sorted only at the top
    here) or a fraction (Python writes a float its own way): the caller checks."""
    if delimiter not in (",", ";"):
        raise ValueError(delimiter)
    text = """(SELECT '{' || string_agg(to_json(c.key)::text || ': ' || c.value::text, ', '
            ORDER BY c.key COLLATE "C") || '}'
        FROM jsonb_each(CASE WHEN jsonb_typeof(audit_auditevent.changes) = 'object'
            THEN audit_auditevent.changes END) AS c)"""
    cell = _QUOTE.format(v=text, d=delimiter)  # the delimiter: one of two characters
    return RawSQL(cell, [], output_field=TextField())  # noqa: S611
