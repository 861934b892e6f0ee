"""Bill run benchmark: 10,000 accounts on SQLite and on PostgreSQL (target ≤ 10 s each).

Run on demand (not part of the test suite; it asserts nothing about time):

    .venv/bin/python -m tests.benchmarks.bench_bill_run [--accounts N] [--engines sqlite,postgres]
        [--profile]

Each engine gets a throwaway database with ``N`` accounts made in bulk by
tests/integration/bill_run_worker.py (2–3 services each starting on different days, so most
invoices carry prorated stubs; stacked taxes, one zoned; a percentage discount on 40 % of one
tier; paper-invoice fees; children rolled into parents; some accounts inactive, suspended or
disconnected). It times:

- **preview**: ``bill_run.preview`` for the whole date (bulk loading, rating, nothing written);
- **run**: ``bill_run.run`` (chunks of 200 accounts per transaction: load, rate, post with
  ``invoicing.post_invoices``, move ``next_bill_on`` on, heartbeat), invoices per second;
- **again**: the same date a second time (finds nobody due);
- **raw executemany**: the very invoice, line and ledger rows the run wrote, inserted again with
  the driver's own ``executemany`` on a raw connection (three statements, no SQLAlchemy, no
  rating, no reads) and rolled back — the floor for writing those rows; on Postgres also by
  ``COPY`` (how the run writes them there). ``run/raw`` divides the run by the faster of the two.

``--profile`` prints the run's top functions (cProfile, cumulative).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import sys
import time
from datetime import date

from sqlalchemy import select

from app.billing import bill_run
from app.billing.models import Invoice, InvoiceLine, LedgerEntry
from app.core import schema
from app.core.db import Database, open_database
from app.core.permissions import Actor
from app.uow import UnitOfWork
from tests.benchmarks.databases import ENGINES, throwaway_database
from tests.integration.bill_run_worker import RUN_DATE, populate

TARGET_S = 10.0


def _raw_executemany(db: Database) -> tuple[float, float | None, int]:
    """Insert again (then roll back) the invoices, lines and ledger entries the run wrote, with
    the DBAPI's ``executemany``: the cost of the writes alone. Returns (seconds, rows)."""
    invoices_t, lines_t, ledger_t = Invoice.__table__, InvoiceLine.__table__, LedgerEntry.__table__
    with db.engine.connect() as conn:
        invoices = [dict(r._mapping) for r in conn.execute(select(invoices_t))]
        lines = [dict(r._mapping) for r in conn.execute(select(lines_t))]
        ledger = [dict(r._mapping) for r in conn.execute(select(ledger_t))]
    offset = max(i["id"] for i in invoices) + 1
    line_offset = max(ln["id"] for ln in lines) + 1
    entry_offset = max(e["id"] for e in ledger) + 1
    for i in invoices:
        i["id"] += offset
        i["number"] = f"R{i['number']}"
        i["billing_key"] = f"R{i['billing_key']}" if i["billing_key"] else None
    for ln in lines:
        ln["id"] += line_offset
        ln["invoice_id"] += offset
    for e in ledger:
        e["id"] += entry_offset
        e["invoice_id"] = e["invoice_id"] + offset if e["invoice_id"] else None

    dialect = db.engine.dialect
    statements = []
    for table, rows in ((invoices_t, invoices), (lines_t, lines), (ledger_t, ledger)):
        keys = list(rows[0])
        compiled = table.insert().compile(dialect=dialect, column_keys=keys)
        names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
        procs = [(n, table.c[n].type._cached_bind_processor(dialect)) for n in names]
        # Values converted the way the driver needs them (JSON text, SQLite dates) before the clock starts.
        if compiled.positional:
            params = [tuple(p(r[n]) if p and r[n] is not None else r[n] for n, p in procs) for r in rows]
        else:
            params = [{n: (p(r[n]) if p and r[n] is not None else r[n]) for n, p in procs} for r in rows]
        statements.append((compiled.string, params))

    raw = db.engine.raw_connection()
    copy_s = None
    try:
        cursor = raw.cursor()
        if db.is_sqlite:
            cursor.execute("BEGIN")
        start = time.perf_counter()
        for sql, params in statements:
            cursor.executemany(sql, params)
        seconds = time.perf_counter() - start
        raw.rollback()
        if hasattr(cursor, "copy"):  # psycopg: the same rows by COPY, as the run writes them there
            start = time.perf_counter()
            for (table, rows), (sql, params) in zip(
                    ((invoices_t, invoices), (lines_t, lines), (ledger_t, ledger)), statements, strict=True):
                names = list(params[0]) if isinstance(params[0], dict) else list(rows[0])
                with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                    for p in params:
                        copy.write_row([p[n] for n in names] if isinstance(p, dict) else p)
            copy_s = time.perf_counter() - start
            raw.rollback()
    finally:
        raw.close()
    return seconds, copy_s, len(invoices) + len(lines) + len(ledger)


def bench(engine: str, accounts: int, profile: bool) -> dict:
    with throwaway_database(engine) as url:
        db = open_database(url)
        try:
            schema.upgrade(db)
            start = time.perf_counter()
            populate(db, accounts, seed=1)
            setup = time.perf_counter() - start
            factory, actor = (lambda: UnitOfWork(db)), Actor.system("bench")

            start = time.perf_counter()
            preview = bill_run.preview(factory(), actor, RUN_DATE)
            preview_s = time.perf_counter() - start

            profiler = cProfile.Profile() if profile else None
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            result = bill_run.run(factory, actor, RUN_DATE)
            if profiler:
                profiler.disable()
            run_s = time.perf_counter() - start
            assert (result.invoices, result.total) == (preview.invoices, preview.total), "the preview promised otherwise"

            start = time.perf_counter()
            again = bill_run.run(factory, actor, RUN_DATE)
            again_s = time.perf_counter() - start
            assert again.invoices == 0

            raw_s, copy_s, rows = _raw_executemany(db)
            if profiler:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
                print(out.getvalue())
        finally:
            db.dispose()
    return {"engine": engine, "accounts": accounts, "setup": setup, "preview": preview_s, "run": run_s,
            "invoices": result.invoices, "skipped": result.skipped, "again": again_s, "raw": raw_s, "copy": copy_s,
            "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    results = []
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        print(f"{engine}: building {args.accounts:,} accounts …", flush=True)
        results.append(bench(engine, args.accounts, args.profile))
    print()
    print(f"Bill run for {RUN_DATE.isoformat()} (target ≤ {TARGET_S:.0f} s), {date.today().isoformat()}")
    print(f"{'engine':<10}{'accounts':>9}{'invoices':>9}{'skipped':>8}{'preview s':>10}{'run s':>8}{'inv/s':>7}"
          f"{'again s':>8}{'rows':>8}{'raw em s':>9}{'raw COPY s':>11}{'run/raw':>8}  target")
    for r in results:
        copy_text = f"{r['copy']:.2f}" if r["copy"] is not None else "—"
        print(f"{r['engine']:<10}{r['accounts']:>9,}{r['invoices']:>9,}{r['skipped']:>8,}{r['preview']:>10.2f}"
              f"{r['run']:>8.2f}{r['invoices'] / r['run']:>7.0f}{r['again']:>8.2f}{r['rows']:>8,}{r['raw']:>9.2f}"
              f"{copy_text:>11}{r['run'] / min(r['raw'], r['copy'] or r['raw']):>8.1f}"
              f"  {'ok' if r['run'] <= TARGET_S else 'MISSED'}")
    setups = ", ".join(f"{r['engine']} {r['setup']:.1f} s" for r in results)
    print(f"(setup: {setups}; "
          f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
