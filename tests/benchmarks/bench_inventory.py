"""Scan lookup benchmark: how long does finding a scanned code take among 200,000 items?

Run on demand (it is not part of the test suite and asserts nothing about time):

    .venv/bin/python -m tests.benchmarks.bench_inventory [--items N] [--samples N] [--engines sqlite,postgres]

Into a fresh SQLite file and a fresh PostgreSQL database (a throwaway cluster, as the tests
use), ``--items`` serialized items are bulk-inserted, each with a MAC and a serial number (so
twice as many identifier rows). Then ``service.find_code`` — what a scan runs: a new unit of
work, the lookup over every identifier and tag, the location codes, and the rows built for the
screen — is timed for existing MACs typed in varied formats (``aa:bb:…``, ``AA-BB-…``,
``aabb.ccdd.eeff``, bare), existing serials, and codes nobody has. The repository query alone
(``items_matching`` in an open session) is timed too. Target: ≤ 20 ms median.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable

from sqlalchemy import select, text

from app.core import schema
from app.core.clock import utcnow
from app.core.db import Database, open_database
from app.core.permissions import Actor
from app.inventory import catalogue, service
from app.inventory import identifiers as ids
from app.inventory.catalogue import FieldSpec, LocationInput, ModelInput
from app.inventory.models import Item, ItemIdentifier
from app.uow import UnitOfWork
from tests.benchmarks.databases import ENGINES, throwaway_database

TARGET_MS = 20.0
CHUNK = 10_000
ACTOR = Actor.system("benchmark")


def say(line: str) -> None:
    print(line, flush=True)


def mac_text(rng: random.Random, lookup: str) -> str:
    """A MAC the way people and readers write it: colons, dashes, Cisco dots, bare; any case."""
    pairs = [lookup[i:i + 2] for i in range(0, 12, 2)]
    style = rng.randrange(5)
    if style == 0:
        shown = ":".join(pairs)
    elif style == 1:
        shown = "-".join(pairs)
    elif style == 2:
        shown = ".".join(lookup[i:i + 4] for i in range(0, 12, 4))
    elif style == 3:
        shown = lookup
    else:
        shown = " ".join(pairs)
    return shown.lower() if rng.random() < 0.5 else shown


def build(db: Database, count: int, seed: int) -> tuple[list[str], list[str]]:
    """``count`` items (two models, one location) with a MAC and a serial each, bulk-inserted;
    returns the MAC and serial lookups."""
    uow = lambda: UnitOfWork(db)  # noqa: E731
    mac, serial = FieldSpec("mac", "MAC address", "mac", True), FieldSpec("serial", "Serial number", "serial", True)
    models = [catalogue.save_model(uow(), ACTOR, ModelInput(maker, "Router", name, fields=(mac, serial))).id
              for maker, name in (("Ubiquiti", "UniFi Express"), ("TP-Link", "Archer AX55"))]
    location = catalogue.save_location(uow(), ACTOR, LocationInput("Main warehouse", "warehouse")).id
    rng = random.Random(seed)
    now = utcnow()
    macs = [f"{n:012X}" for n in rng.sample(range(0x245A4C000000, 0x245A4CFFFFFF), count)]
    serials = [f"SN{rng.randrange(36 ** 6):06X}{n:07d}" for n in range(count)]
    started = time.perf_counter()
    with uow() as u:
        s = u.session
        for start in range(0, count, CHUNK):
            s.execute(Item.__table__.insert(), [
                dict(model_id=models[n % 2], tag=f"I-{n + 1:06d}", state="in_stock", location_id=location,
                     account_id=None, staff_id=None, notes="", version=1, created_at=now, updated_at=now,
                     updated_by_id=None)
                for n in range(start, min(start + CHUNK, count))
            ])
        by_tag = dict(s.execute(select(Item.tag, Item.id)).all())
        for start in range(0, count, CHUNK):
            rows = []
            for n in range(start, min(start + CHUNK, count)):
                item_id, model_id = by_tag[f"I-{n + 1:06d}"], models[n % 2]
                value, lookup = ids.normalise(ids.MAC, macs[n])
                rows.append(dict(item_id=item_id, model_id=model_id, key="mac", kind=ids.MAC, value=value,
                                 lookup=lookup))
                rows.append(dict(item_id=item_id, model_id=model_id, key="serial", kind=ids.SERIAL,
                                 value=serials[n], lookup=serials[n].upper()))
            s.execute(ItemIdentifier.__table__.insert(), rows)
        u.commit()
    with uow() as u:
        u.session.execute(text("ANALYZE"))
        u.commit()
    say(f"  {count:,} items and {2 * count:,} identifiers inserted in {time.perf_counter() - started:.1f} s")
    return macs, serials


def timed(codes: list[str], lookup: Callable[[str], object]) -> list[float]:
    times = []
    for code in codes:
        start = time.perf_counter()
        lookup(code)
        times.append((time.perf_counter() - start) * 1000)
    return times


def run_engine(engine: str, count: int, samples: int, seed: int) -> list[dict]:
    say(f"\n== {engine} ==")
    results = []
    with throwaway_database(engine) as url:
        db = open_database(url)
        try:
            schema.upgrade(db)
            macs, serials = build(db, count, seed)
            rng = random.Random(seed + 1)
            sets = {
                "MAC, varied formats": [mac_text(rng, m) for m in rng.sample(macs, samples)],
                "serial": rng.sample(serials, samples),
                "unknown code": [f"ZZ{rng.randrange(10 ** 9):09d}" for _ in range(samples)],
            }
            for kind, codes in sets.items():
                def find(code: str, expect: bool = kind != "unknown code") -> None:
                    match = service.find_code(UnitOfWork(db), ACTOR, code)
                    assert bool(match.items) == expect, code
                find(codes[0])  # warm the pool and the statement cache
                results.append(dict(engine=engine, kind=f"find_code: {kind}", times=timed(codes, find)))
            with UnitOfWork(db) as u:  # the repository query alone, in one open session
                repo = u.inventory
                for kind, codes in sets.items():
                    def raw(code: str) -> list[int]:
                        return repo.items_matching(ids.lookup_candidates(code))
                    raw(codes[0])
                    results.append(dict(engine=engine, kind=f"query only: {kind}", times=timed(codes, raw)))
        finally:
            db.dispose()
    for r in results:
        say(f"  {r['kind']}: median {statistics.median(r['times']):.2f} ms")
    return results


def print_table(results: list[dict], count: int) -> None:
    header = ("engine", "lookup", "n", "median ms", "p95 ms", "max ms", f"≤ {TARGET_MS:.0f} ms")
    rows = []
    for r in results:
        t = sorted(r["times"])
        median = statistics.median(t)
        p95 = t[min(len(t) - 1, round(0.95 * (len(t) - 1)))]
        rows.append((r["engine"], r["kind"], str(len(t)), f"{median:.2f}", f"{p95:.2f}", f"{t[-1]:.2f}",
                     "yes" if median <= TARGET_MS else "NO"))
    widths = [max(len(x[i]) for x in [header, *rows]) for i in range(len(header))]
    say(f"\nLooking up a scanned code among {count:,} items ({2 * count:,} identifiers):")
    say(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    say("-+-".join("-" * w for w in widths))
    for row in rows:
        say(" | ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_inventory",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=200_000, help="serialized items (default 200000)")
    parser.add_argument("--samples", type=int, default=300, help="lookups per kind of code (default 300)")
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not engines or any(e not in ENGINES for e in engines):
        parser.error(f"--engines takes {', '.join(ENGINES)}")
    if args.samples > args.items:
        parser.error("--samples cannot be more than --items")
    say(f"Scan lookup benchmark: {args.items:,} items, {args.samples} lookups per kind, engines {', '.join(engines)}, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    results, failed = [], []
    for engine in engines:
        try:
            results += run_engine(engine, args.items, args.samples, args.seed)
        except Exception as exc:  # noqa: BLE001 - report it and still show the other engine
            say(f"  {engine} failed: {type(exc).__name__}: {exc}")
            failed.append(engine)
    print_table(results, args.items)
    if failed:
        raise SystemExit(f"\nno results for: {', '.join(failed)}")


if __name__ == "__main__":
    main()
