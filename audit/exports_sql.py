"""The audit trail's CSV written by PostgreSQL: each line of `exports.stream_csv` made in SQL.

On PostgreSQL the export's lines are built by the database, a block of events at a time: the
cells, the CSV quoting (as Python's `csv` writer quotes: a cell holding the delimiter, a quote
or a line break, quotes doubled), the people put back into the texts (``⟦p:ID⟧`` from the
event's personal part), the changes' JSON (keys sorted, as `json.dumps(..., sort_keys=True)`
writes it) and the readable column's structure (fields in the model's order, labels, ``–`` for
nothing, ``Label: old → new; …``). Python keeps what only it knows exactly, worked out once per
distinct value of a block rather than once per row: each value that needs a field's plan (a
name behind an id, a date or time in the reader's language and time zone, a choice, Yes/No, a
third-party field's title) comes back from a first query of the block as a distinct key, is
read by `audit.readable` itself, and goes into the block's query as a table (jsonb).

A line SQL cannot write exactly (a nested object or a fraction in the changes, a placeholder
inside the changes, a model the plans do not know) comes back empty and is written by the
reference path (`exports._csv_formatter`), in its place. `tests/audit/test_exports.py` holds
both paths byte for byte equal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.apps import apps
from django.db import connections, transaction
from django.db.models.expressions import RawSQL

from . import readable, upstream
from .models import Kind

# The quoting of Python's csv writer (QUOTE_MINIMAL, lineterminator "\r\n").
_QUOTE = """(CASE WHEN {v} ~ '[{d}"\r\n]' THEN '"' || replace({v}, '"', '""') || '"' ELSE {v} END)"""

# `personal.expand`: each ⟦p:ID⟧ / ⟦p:ID:email⟧ replaced by the person's name or email from
# the event's personal part, "–" for a person it does not hold.
_EXPAND = """(CASE WHEN strpos({v}, '⟦') = 0 THEN {v} ELSE (
    SELECT string_agg(m[1] || CASE WHEN m[2] IS NULL THEN '' ELSE coalesce(
        audit_auditevent.personal -> 'people' -> m[2]
            ->> CASE WHEN m[3] IS NULL THEN 'name' ELSE 'email' END, '–') END,
        '' ORDER BY n)
    FROM regexp_matches({v}, '(.*?)(?:⟦p:((?:user:)?[0-9]+)(:email)?⟧|$)', 'g')
        WITH ORDINALITY AS found(m, n)) END)"""

# A value Python reads (through the field's plan: a name behind an id, a date or time in the
# reader's language and time zone, a choice, Yes/No, a third-party field's title, a value that is
# not a text) is looked up in the block's table under its field's key (`fk`: the model label, the
# field's name and its length) and its JSON. NULL: one SQL writes itself ("–" for nothing, a
# text of a text field or of a field the model does not have).
_KEY = """(CASE
    WHEN {x} IS NULL OR {x} IN ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{{}}'::jsonb) THEN NULL
    WHEN jsonb_typeof({x}) = 'string' AND (pl IS NULL OR pl ->> 2 = 'p') THEN NULL
    ELSE fk || {x}::text
END)"""

_VALUE = """(CASE
    WHEN {x} IS NULL OR {x} IN ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{{}}'::jsonb) THEN '–'
    WHEN jsonb_typeof({x}) = 'string' AND (pl IS NULL OR pl ->> 2 = 'p') THEN {x} #>> '{{}}'
    ELSE r ->> (fk || {x}::text)
END)"""

# Each change of the event as (c.key, c.value, pl, fk, old, new): `pl` the field's plan
# ([order, label, "p" for a text field] from the export's plans; NULL: a field the model does
# not have; false: one it does not show), old and new as `readable_changes` splits the pair.
_CHANGES = """jsonb_each(CASE WHEN jsonb_typeof(audit_auditevent.changes) = 'object'
        THEN audit_auditevent.changes ELSE '{{}}'::jsonb END) AS c
    CROSS JOIN LATERAL (SELECT
        plans -> (audit_auditevent.model_label || '|' || c.key) AS pl,
        audit_auditevent.model_label || '|' || length(c.key) || '|' || c.key || '|' AS fk,
        CASE WHEN jsonb_typeof(c.value) = 'array' AND jsonb_array_length(c.value) = 2
            THEN c.value -> 0 END AS old,
        CASE WHEN jsonb_typeof(c.value) = 'array' AND jsonb_array_length(c.value) = 2
            THEN c.value -> 1 ELSE c.value END AS new) AS p"""

# Whether `json.dumps(..., sort_keys=True)` writes a change's value as jsonb does: no object
# inside (its keys would be sorted otherwise), no number but integers (a fraction reads back
# as a Python float, written its own way).
_PLAIN_JSON = """(c.value::text !~ '[{.eE]' OR NOT (
    c.value @? 'strict $.** ? (@.type() == "object")'
    OR EXISTS (SELECT FROM jsonb_path_query(c.value, 'strict $.** ? (@.type() == "number")') n
               WHERE n::text !~ '^-?[0-9]+$')))"""


def _keys_sql() -> str:
    """Per event, the keys of its values Python reads (see `_KEY`), its stage's (S|stage), and
    M|label for a model the export's plans do not hold yet."""
    old, new = _KEY.format(x="p.old"), _KEY.format(x="p.new")
    return f"""unnest(coalesce((
    SELECT array_agg(k_old) FILTER (WHERE k_old IS NOT NULL)
        || array_agg(k_new) FILTER (WHERE k_new IS NOT NULL)
    FROM (SELECT {old} AS k_old, {new} AS k_new
          FROM (SELECT %(plans)s::jsonb AS plans) AS m CROSS JOIN {_CHANGES.format()}
          WHERE pl IS DISTINCT FROM 'false'::jsonb OFFSET 0) AS keys
), '{{}}'::text[]) || ARRAY['S|' || audit_auditevent.stage,
    CASE WHEN %(plans)s::jsonb ? audit_auditevent.model_label THEN NULL
        ELSE 'M|' || audit_auditevent.model_label END])"""


def _line_sql(delimiter: str) -> str:
    def q(value: str) -> str:
        return _QUOTE.format(v=value, d=delimiter)

    old = _VALUE.format(x="p.old")
    new = _VALUE.format(x="p.new")
    cells = [
        "audit_auditevent.seq::text",
        "audit_auditevent.id::text",
        """to_char(audit_auditevent.occurred_at AT TIME ZONE 'UTC',
            'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""",
        q("coalesce(%(kinds)s::jsonb ->> audit_auditevent.kind, audit_auditevent.kind)"),
        q("t.actor"),
        q("audit_auditevent.county_code"),
        q("audit_auditevent.municipality_name"),
        "coalesce(audit_auditevent.process_id::text, '')",
        q("audit_auditevent.stage"),
        q("t.summary"),
        q("t.reason"),
        q("coalesce(x.json, '')"),
        q("audit_auditevent.model_label || ':' || audit_auditevent.object_id"),
        q("audit_auditevent.kind"),
        q("x.stage"),
        q(
            "replace(replace(replace(coalesce(x.readable, ''), E'\\r\\n', E'\\n'), "
            "E'\\r', E'\\n'), E'\\n', ' ↵ ')"
        ),
    ]
    line = f" || '{delimiter}' || ".join(cells) + " || E'\\r\\n'"
    model = "audit_auditevent.model_label"
    return f"""(SELECT CASE WHEN x.ok AND strpos(t.actor || t.summary || t.reason, '⟦') = 0
        THEN {line} END
    FROM (SELECT {_EXPAND.format(v="audit_auditevent.actor_label")} AS actor,
                 {_EXPAND.format(v="audit_auditevent.summary")} AS summary,
                 {_EXPAND.format(v="audit_auditevent.reason")} AS reason OFFSET 0) AS t,
    (SELECT
        bool_and(plans ? {model}) AND jsonb_typeof(audit_auditevent.changes) = 'object'
            AND strpos(audit_auditevent.changes::text, '⟦') = 0
            AND coalesce(bool_and({_PLAIN_JSON}
                AND (pl = 'false'::jsonb OR (ov || nv) IS NOT NULL)), true) AS ok,
        '{{' || string_agg(to_json(c.key)::text || ': ' || c.value::text, ', '
            ORDER BY c.key COLLATE "C") || '}}' AS json,
        string_agg(coalesce(pl ->> 1, c.key) || ': ' || ov || ' → ' || nv, '; '
            ORDER BY CASE WHEN pl IS NULL THEN (plans ->> {model})::int
                ELSE (pl ->> 0)::int END, c.key COLLATE "C")
            FILTER (WHERE pl IS DISTINCT FROM 'false'::jsonb) AS readable,
        min(r ->> ('S|' || audit_auditevent.stage)) AS stage
     FROM (SELECT %(plans)s::jsonb AS plans, %(rendered)s::jsonb AS r) AS m
     LEFT JOIN LATERAL (SELECT c.key, c.value, pl, {old} AS ov, {new} AS nv
                        FROM {_CHANGES.format()} OFFSET 0) AS c ON true
    ) AS x)"""


def _raw(sql: str, values: dict) -> RawSQL:
    """``sql`` with its %(name)s parameters in the positional form Django's RawSQL takes."""
    params = []

    class Named(dict):
        def __missing__(self, name):
            raise KeyError(name)

        def __getitem__(self, name):
            params.append(values[name])
            return "%s"

    return RawSQL(sql % Named(), params)


class _Plans:
    """Each model's field plans as the SQL reads them, in the active language: under a model
    label the order of a field it does not have; under "label|field" [order, label, "p" for a
    text field] or false (not shown)."""

    def __init__(self, context) -> None:
        self.context = context
        self.table: dict[str, object] = {}
        for model in apps.get_models():
            if upstream.is_audited(model):
                self.add(model._meta.label_lower)

    def add(self, model_label: str) -> None:
        plans = readable.model_plan(model_label, self.context)
        self.table[model_label] = len(plans)
        for name, plan in plans.items():
            if plan is None:
                self.table[f"{model_label}|{name}"] = False
                continue
            text = plan.related is None and plan.choices is None and plan.kind == "text"
            self.table[f"{model_label}|{name}"] = [plan.order, plan.label] + (["p"] if text else [])


def _render(keys: list[str], context, stage_label) -> dict:
    """Python's reading of each key of a block: S|stage, or a value's (see `_KEY`)."""
    resolver = readable.Resolver()
    values = {}
    for key in keys:
        if key.startswith("S|"):
            continue
        model_label, rest = key.split("|", 1)
        length, rest = rest.split("|", 1)
        field, value = rest[: int(length)], json.loads(rest[int(length) + 1 :])
        values[key] = (model_label, field, value)
        resolver.want(model_label, {field: [None, value]})
    resolver.fetch_all()
    rendered = {key: stage_label(key[2:]) for key in keys if key.startswith("S|")}
    for key, (model_label, field, value) in values.items():
        rendered[key] = readable.field_value_text(model_label, field, value, resolver, context)
    return rendered


def _block_keys(chunk, plans: _Plans) -> list:
    """The distinct keys of the block's values, the plans of any model new to the export
    added first."""
    while True:
        table = json.dumps(plans.table, ensure_ascii=False)
        found = chunk.annotate(
            k=_raw(_keys_sql(), {"plans": table})
        )
        items = [k for k in found.values_list("k", flat=True).distinct() if k is not None]
        new = [item[2:] for item in items if item.startswith("M|")]
        if not new:
            return items
        for label in new:
            plans.add(label)


def stream_lines(queryset, *, delimiter: str, block: int, fallback) -> Iterator[str]:
    """The CSV lines of ``queryset``'s events (no header), in id order, ``block`` events at a
    time, each block as one text. ``fallback(ids)``: the reference path's lines of the events
    ``ids`` (in id order), for the lines SQL leaves to Python."""
    base = queryset.order_by()
    plans = _Plans(readable.reading_context())
    kinds = json.dumps({value: str(label) for value, label in Kind.choices}, ensure_ascii=False)
    line_sql = _line_sql(delimiter)
    # The events there are when the export starts: one appended meanwhile is not in it.
    top = base.order_by("-id").values_list("id", flat=True).first()
    last = None
    while top is not None:
        rows = base.filter(id__lte=top) if last is None else base.filter(id__gt=last, id__lte=top)
        bound = rows.order_by("id").values_list("id", flat=True)[block - 1 : block].first()
        chunk = rows if bound is None else rows.filter(id__lte=bound)
        with transaction.atomic(using=base.db):  # not held while the caller writes
            with connections[base.db].cursor() as cursor:
                # Compiling these expressions took longer than running them on a block.
                cursor.execute("SET LOCAL jit = off")
            text = _block(chunk, plans, line_sql, kinds, fallback)
        if text:
            yield text
        if bound is None:
            break
        last = bound


def _block(chunk, plans: _Plans, line_sql: str, kinds: str, fallback) -> str:
    from .exports import _stage_label

    items = _block_keys(chunk, plans)
    rendered = _render(items, plans.context, _stage_label)
    values = {
        "plans": json.dumps(plans.table, ensure_ascii=False),
        "rendered": json.dumps(rendered, ensure_ascii=False),
        "kinds": kinds,
    }
    lines = chunk.annotate(line=_raw(line_sql, values)).order_by("id")
    out, missing = [], []
    for event_id, line in lines.values_list("id", "line"):
        if line is None:
            missing.append((len(out), event_id))
        out.append(line)
    if missing:
        written = fallback([event_id for _i, event_id in missing])
        for (i, _event_id), text in zip(missing, written, strict=True):
            out[i] = text
    return "".join(out)
