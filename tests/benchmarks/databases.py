"""Throwaway databases for the benchmarks: a SQLite file in a temporary folder, or a private
PostgreSQL cluster on a loopback port (tests/pgcluster.py), removed when the block ends."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg

from app.core.db import sqlite_url
from tests.pgcluster import PgCluster

ENGINES = ("sqlite", "postgres")


@contextlib.contextmanager
def throwaway_database(engine: str, name: str = "riser_bench") -> Iterator[str]:
    """A URL for an empty database on ``engine`` ("sqlite" or "postgres")."""
    if engine == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="riser-bench-"))
        try:
            yield sqlite_url(folder / f"{name}.sqlite")
        finally:
            shutil.rmtree(folder, ignore_errors=True)  # the file and its -wal/-shm
        return
    if engine != "postgres":
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    if not PgCluster.available():
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql); leave it out with --engines sqlite")
    cluster = PgCluster()
    try:
        print("  starting a throwaway PostgreSQL cluster …", flush=True)
        admin = cluster.start()
        with psycopg.connect(admin.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        yield cluster.admin_url(name)
    finally:
        cluster.stop()
