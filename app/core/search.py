"""Substring search ("contains") served by an index where the database has one.

Postgres: a pg_trgm GIN index on the column serves ``LIKE '%term%'`` as it is. SQLite: an FTS5
table with the trigram tokenizer, kept beside the source table by triggers, serves the same
``LIKE`` for terms of three characters or more; shorter terms scan the column. The text is
stored lower-cased and terms are lower-cased by the caller.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, column, select, table

from app.core.db import Capabilities

_WILDCARDS = ("%", "_", "\\")


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(
    caps: Capabilities, text_column: ColumnElement, term: str, *, key: ColumnElement, fts_table: str,
    use_index: bool = True,
) -> ColumnElement[bool]:
    """``text_column`` contains ``term``; ``key`` is the row id the FTS table's rowid mirrors.

    An FTS table finds the rows of a rare term at once but checks every candidate of a common
    one; pass ``use_index=False`` when the term is known to be common, to scan the column.
    """
    if (use_index and fts_table in caps.fts_trigram_tables and len(term) >= 3
            and not any(w in term for w in _WILDCARDS)):
        fts = table(fts_table, column("rowid"), column(text_column.key))
        return key.in_(select(fts.c.rowid).where(fts.c[text_column.key].like(f"%{term}%")))
    return text_column.like(f"%{_escape(term)}%", escape="\\")


def indexed_terms(caps: Capabilities, terms: list[str], fts_table: str) -> list[str]:
    """The terms an FTS trigram table can answer (three characters or more, no wildcards)."""
    if fts_table not in caps.fts_trigram_tables:
        return []
    return [t for t in terms if len(t) >= 3 and not any(w in t for w in _WILDCARDS)]


def index_probe(caps: Capabilities, terms: list[str], *, fts_table: str, text_column: str, limit: int):  # noqa: ANN201
    """Row ids of up to ``limit`` rows whose text contains every indexable term, straight from
    the FTS table (it stops at ``limit``; wrapped in IN (…) it would not). None without FTS."""
    usable = indexed_terms(caps, terms, fts_table)
    if not usable:
        return None
    fts = table(fts_table, column("rowid"), column(text_column))
    stmt = select(fts.c.rowid)
    for term in usable:
        stmt = stmt.where(fts.c[text_column].like(f"%{term}%"))
    return stmt.limit(limit)
