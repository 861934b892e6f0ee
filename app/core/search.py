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
    caps: Capabilities, text_column: ColumnElement, term: str, *, key: ColumnElement, fts_table: str
) -> ColumnElement[bool]:
    """``text_column`` contains ``term``; ``key`` is the row id the FTS table's rowid mirrors."""
    if fts_table in caps.fts_trigram_tables and len(term) >= 3 and not any(w in term for w in _WILDCARDS):
        fts = table(fts_table, column("rowid"), column(text_column.key))
        return key.in_(select(fts.c.rowid).where(fts.c[text_column.key].like(f"%{term}%")))
    return text_column.like(f"%{_escape(term)}%", escape="\\")
