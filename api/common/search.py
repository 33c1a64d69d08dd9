"""Full-text search in Chinese, shared by every module (posts now; mail, submissions next).

Docs: docs/publishing.md#search. A pure helper: no models, no app imports.

How a module uses it
--------------------
1. Its model has a ``search_text`` TextField holding the **search document**: the
   jieba tokens of the searchable text, joined by spaces (``search_document(...)``).
   The module fills it in its actions whenever the text changes.
2. A migration calls ``install(table)`` (``migrations.RunPython(installer(table),
   uninstaller(table))``). On PostgreSQL that adds a stored generated column
   ``search_tsv = to_tsvector('simple', search_text)`` with a GIN index — the 'simple'
   configuration keeps every jieba token as it is (no stemming, no stop words). On
   SQLite it creates an FTS5 table ``<table>_fts`` over ``search_text`` (external
   content, kept in step by triggers; unicode61 splits on the spaces, so one token is
   one jieba word).
3. Its selector calls ``matching(queryset, q, date_field=...)``: only the rows whose
   document has every query word, annotated with ``search_rank`` and ordered by
   relevance blended with age (``RECENCY_DAYS``), newest first on ties.

Why jieba and both "search" and "precise" cuts: Chinese has no spaces, so a word is
whatever the segmenter says. The document uses ``cut_for_search`` (a long word also
yields its dictionary sub-words: 防汛抗旱 → 防汛, 抗旱, 防汛抗旱) plus every
two-character piece of longer Chinese tokens, so a two-character query (安全, 防汛)
finds text where jieba kept it inside a longer word; the query uses the precise cut,
so 汛期安全 asks for 汛期 AND 安全.
"""

# SQL here is built from table and column names taken from model metadata (never from
# requests); every value a user typed is passed as a query parameter.
# ruff: noqa: S608, S610, S611

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.expressions import RawSQL

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 100
MAX_QUERY_TERMS = 8
MAX_DOCUMENT_CHARS = 200_000
# Relevance is computed for the newest CANDIDATES matches only: a word that is in half
# of 200k posts (安全) must not make every search rank 100k rows. Older matches than
# that would need very high relevance to beat the recency factor anyway.
CANDIDATES = 500
# Relevance is divided by (1 + age / RECENCY_DAYS): a month-old match needs about
# twice the relevance of today's to rank above it.
RECENCY_DAYS = 30.0

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[0-9a-z\u3400-\u9fff\uf900-\ufaff]+")
_lock = threading.Lock()
_jieba: Any = None


def _segmenter() -> Any:
    """jieba, initialised once per process (it builds its prefix dictionary on first
    use, from the cache file in the temporary directory after the first run)."""
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def _clean(tokens: Iterable[str]) -> list[str]:
    """Lower-cased word characters only; punctuation and spaces dropped."""
    words = []
    for token in tokens:
        words.extend(_WORD.findall(token.lower()))
    return words


def segment(text: str) -> list[str]:
    """The search-mode tokens of ``text`` plus the two-character pieces of longer
    Chinese tokens (so every dictionary-less 2-char word inside them is findable)."""
    text = (text or "")[:MAX_DOCUMENT_CHARS]
    if not text.strip():
        return []
    tokens = _clean(_segmenter().cut_for_search(text))
    extra: list[str] = []
    for token in tokens:
        if len(token) >= 3 and _CJK.match(token):
            extra.extend(token[i : i + 2] for i in range(len(token) - 1))
    return tokens + extra


def words(text: str) -> list[str]:
    """The precise cut of ``text`` with every character kept, in order
    (``"".join(words(t)) == t``): where a line may break without splitting a word
    (the renderer's titles and headings, docs/rendering.md#line-breaking)."""
    if not text:
        return []
    return [token for token in _segmenter().cut(text) if token]


def search_document(*parts: str) -> str:
    """The text to store in a ``search_text`` column: tokens separated by spaces."""
    tokens: list[str] = []
    for part in parts:
        tokens.extend(segment(part))
    return " ".join(tokens)


def query_terms(q: str) -> list[str]:
    """The distinct words a query asks for (precise cut), in order, at most
    ``MAX_QUERY_TERMS``. Empty when the query has no word characters."""
    q = (q or "")[:MAX_QUERY_CHARS]
    seen: list[str] = []
    for token in _clean(_segmenter().cut(q)):
        if token not in seen:
            seen.append(token)
    return seen[:MAX_QUERY_TERMS]


# --- schema ---------------------------------------------------------------------------


def _fts(table: str) -> str:
    return f"{table}_fts"


def install_sql(table: str, vendor: str, column: str = "search_text") -> list[str]:
    """DDL that makes ``table.column`` searchable on ``vendor``."""
    if vendor == "postgresql":
        return [
            f"ALTER TABLE {table} ADD COLUMN search_tsv tsvector "
            f"GENERATED ALWAYS AS (to_tsvector('simple', coalesce({column}, ''))) STORED",
            f"CREATE INDEX {table}_search_gin ON {table} USING gin (search_tsv)",
        ]
    if vendor == "sqlite":
        fts = _fts(table)
        return [
            f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content='{table}', "
            f"content_rowid='id', tokenize='unicode61')",
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END",
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); "
            "END",
            f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {column} ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); "
            f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END",
            f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
        ]
    raise NotImplementedError(f"full-text search is not supported on {vendor}")


def uninstall_sql(table: str, vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_tsv"]
    fts = _fts(table)
    return [
        *(f"DROP TRIGGER IF EXISTS {fts}_{suffix}" for suffix in ("ai", "ad", "au")),
        f"DROP TABLE IF EXISTS {fts}",
    ]


def installer(table: str, column: str = "search_text") -> Callable[[Any, Any], None]:
    """For ``migrations.RunPython``: run ``install_sql`` on the migration's database."""

    def run(apps: Any, schema_editor: Any) -> None:
        for statement in install_sql(table, schema_editor.connection.vendor, column):
            schema_editor.execute(statement)

    return run


def uninstaller(table: str) -> Callable[[Any, Any], None]:
    def run(apps: Any, schema_editor: Any) -> None:
        for statement in uninstall_sql(table, schema_editor.connection.vendor):
            schema_editor.execute(statement)

    return run


# --- querying -------------------------------------------------------------------------


def _quoted_fts(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _age_days_sql(column: str, vendor: str) -> str:
    if vendor == "postgresql":
        return f"GREATEST(EXTRACT(EPOCH FROM (now() - {column})) / 86400.0, 0)"
    return f"MAX(julianday('now') - julianday({column}), 0)"


def matching(queryset: QuerySet, q: str, *, date_field: str) -> QuerySet:
    """Rows of ``queryset`` whose search document holds every word of ``q``, annotated
    with ``search_rank`` (relevance ÷ (1 + age / RECENCY_DAYS)) and ordered by it, then
    by ``date_field`` and id, newest first; ranked among the newest ``CANDIDATES``
    matches. No words in ``q``: no rows."""
    terms = query_terms(q)
    if not terms:
        return queryset.none()
    model = queryset.model
    table = model._meta.db_table
    date_column = f"{table}.{model._meta.get_field(date_field).column}"
    vendor = connection.vendor
    age = _age_days_sql(date_column, vendor)
    if vendor == "postgresql":
        tsquery = " & ".join("'" + term.replace("'", "''") + "'" for term in terms)
        where = f"{table}.search_tsv @@ to_tsquery('simple', %s)"
        params: list[Any] = [tsquery]
        relevance = f"ts_rank({table}.search_tsv, to_tsquery('simple', %s))"
        rank = RawSQL(f"{relevance} / (1 + {age} / %s)", (tsquery, RECENCY_DAYS))
    else:
        fts = _fts(table)
        match = " AND ".join(_quoted_fts(term) for term in terms)
        where = f"{table}.id IN (SELECT rowid FROM {fts} WHERE {fts} MATCH %s)"
        params = [match]
        # bm25 is lower for better matches (negative): flip it.
        relevance = f"(SELECT -bm25({fts}) FROM {fts} WHERE {fts} MATCH %s AND rowid = {table}.id)"
        rank = RawSQL(f"{relevance} / (1 + {age} / %s)", (match, RECENCY_DAYS))
    # The newest CANDIDATES matches (narrow: ids only), then rank those. Two queries on
    # purpose: the raw SQL names the table, which inside a subquery of the same table
    # would point at the outer row (Django re-aliases the inner one).
    candidates = list(
        queryset.extra(where=[where], params=params)
        .order_by(f"-{date_field}", "-pk")
        .values_list("pk", flat=True)[:CANDIDATES]
    )
    queryset = queryset.filter(pk__in=candidates)
    return queryset.annotate(search_rank=rank).order_by(
        F("search_rank").desc(nulls_last=True), f"-{date_field}", "-id"
    )
