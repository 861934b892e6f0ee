"""Address import benchmark: how long does a 50,000-row spreadsheet take, and how much memory?

Run on demand (it is not part of the test suite and asserts nothing about time):

    .venv/bin/python -m tests.benchmarks.bench_import [--rows N] [--engines sqlite,postgres] [--seed S]

A CSV of realistic buildings and their units is generated (Canadian and US cities, units
written the ways people write them: "Apt 4B", "#1203", "Unit 12", "Suite 210"), then imported
into a fresh SQLite file and a fresh PostgreSQL database (a throwaway cluster, as the tests use).
Each import runs in a fresh process, so its peak RSS is its own. The second run imports the same
file again: every row should be unchanged and nothing written. Target: 50,000 rows in ≤ 20 s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


from app.addresses.importing import import_addresses, read_sheet
from app.core import schema
from app.core.db import open_database
from app.core.permissions import Actor
from app.uow import UnitOfWork
from tests.benchmarks.databases import ENGINES, throwaway_database

TARGET_S = 20.0

CITIES = [  # city, region, country, postal prefix
    ("Toronto", "ON", "Canada", "M5V"), ("Ottawa", "ON", "CA", "K1P"), ("Montreal", "QC", "Canada", "H2X"),
    ("Halifax", "NS", "CA", "B3J"), ("Boston", "MA", "USA", "021"), ("Chicago", "IL", "US", "606"),
    ("Austin", "TX", "US", "787"), ("Portland", "OR", "United States", "972"),
]
STREETS = ["King Street West", "Queen St E", "Bloor Street", "Main Street", "Elm Avenue", "Harbour Road",
           "College St", "University Ave", "Lakeshore Blvd", "Spadina Avenue", "Dundas Street", "Front St",
           "Wellington Street", "Park Avenue", "Church Street", "Water Street", "Mill Road", "Market Street"]
NAMES = ["The Marlowe", "Cedar Court", "Harbour Lofts", "Maple Terrace", "The Alder", "Riverside Commons",
         "Union Flats", "Birch House", "The Foundry", "Lakeview Tower", "Parkside Residences", ""]
LETTERS = "ABCEGHJKLMNPRSTVWXYZ"


def say(text: str) -> None:
    print(text, flush=True)


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (peak if sys.platform == "darwin" else peak * 1024) / 1e6


# -- the file ----------------------------------------------------------------------------------

def unit_spelling(rng: random.Random, floor: int, number: int, letters: bool) -> str:
    unit = f"{floor}{'ABCDEFGH'[number - 1]}" if letters else f"{floor}{number:02d}"
    style = rng.random()
    if style < 0.4:
        return f"Apt {unit}"
    if style < 0.6:
        return f"#{unit.lower()}"
    if style < 0.75:
        return f"Unit {unit}"
    if style < 0.85:
        return f"Suite {unit}"
    return unit


def write_csv(path: Path, rows: int, seed: int) -> int:
    """Buildings of 20 to 240 units until ``rows`` rows; returns the number of buildings."""
    rng = random.Random(seed)
    lines = ["Building Name;Street Address;Apt;City;Province;Postal Code;Country;Available from"]
    used: set[tuple[str, str]] = set()
    buildings = 0
    while len(lines) - 1 < rows:
        city, region, country, prefix = rng.choice(CITIES)
        street = f"{rng.randint(1, 2000)} {rng.choice(STREETS)}"
        if (street, city) in used:
            continue
        used.add((street, city))
        buildings += 1
        name = rng.choice(NAMES)
        if country in ("Canada", "CA"):
            postal = f"{prefix} {rng.randint(0, 9)}{rng.choice(LETTERS)}{rng.randint(0, 9)}"
        else:
            postal = f"{prefix}{rng.randint(0, 99):02d}"
        ready = f"2026-{rng.randint(1, 12):02d}-01" if rng.random() < 0.1 else ""
        letters = rng.random() < 0.3
        floors, per_floor = rng.randint(4, 30), rng.randint(4, 8)
        for floor in range(1, floors + 1):
            for number in range(1, per_floor + 1):
                if len(lines) - 1 >= rows:
                    break
                unit = unit_spelling(rng, floor, number, letters)
                lines.append(f"{name};{street};{unit};{city};{region};{postal};{country};{ready}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return buildings


# -- databases ---------------------------------------------------------------------------------



# -- one import, in its own process ------------------------------------------------------------

def phase_prepare(url: str) -> None:
    db = open_database(url)
    try:
        schema.upgrade(db)
    finally:
        db.dispose()


def phase_import(url: str, path: str) -> dict:
    db = open_database(url)
    try:
        start = time.perf_counter()
        sheet = read_sheet(path)
        read_s = time.perf_counter() - start
        result = import_addresses(UnitOfWork(db), Actor.system("benchmark"), sheet)
        seconds = time.perf_counter() - start
    finally:
        db.dispose()
    return {"rows": result.rows, "seconds": seconds, "read_s": read_s, "imported": result.imported,
            "unchanged": result.unchanged, "rejected": len(result.rejected), "buildings": result.buildings,
            "peak_mb": peak_rss_mb()}


def in_fresh_process(fn, *args):  # noqa: ANN001, ANN202
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def run_engine(engine: str, path: Path) -> list[dict]:
    say(f"\n== {engine} ==")
    runs = []
    with throwaway_database(engine) as url:
        in_fresh_process(phase_prepare, url)
        for run in ("first import", "same file again"):
            result = in_fresh_process(phase_import, url, str(path))
            result |= {"engine": engine, "run": run}
            say(f"  {run}: {result['seconds']:.1f} s")
            runs.append(result)
    return runs


def print_table(results: list[dict]) -> None:
    header = ("engine", "run", "rows", "seconds", "(reading)", "rows/s", "peak MB", "imported", "unchanged",
              "rejected", "buildings", "≤ 20 s")
    rows = [(r["engine"], r["run"], f"{r['rows']:,}", f"{r['seconds']:.1f}", f"{r['read_s']:.1f}",
             f"{r['rows'] / r['seconds']:,.0f}", f"{r['peak_mb']:.0f}", f"{r['imported']:,}", f"{r['unchanged']:,}",
             f"{r['rejected']:,}", f"{r['buildings']:,}", "yes" if r["seconds"] <= TARGET_S else "NO")
            for r in results]
    widths = [max(len(str(x[i])) for x in [header, *rows]) for i in range(len(header))]
    say("")
    say(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    say("-+-".join("-" * w for w in widths))
    for row in rows:
        say(" | ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_import", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000, help="rows in the generated CSV (default 50000)")
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not engines or any(e not in ENGINES for e in engines):
        parser.error(f"--engines takes {', '.join(ENGINES)}")
    folder = Path(tempfile.mkdtemp(prefix="riser-bench-csv-"))
    try:
        path = folder / "addresses.csv"
        buildings = write_csv(path, args.rows, args.seed)
        say(f"Import benchmark: {args.rows:,} rows in {buildings:,} buildings ({path.stat().st_size / 1e6:.1f} MB CSV), "
            f"engines {', '.join(engines)}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
        results, failed = [], []
        for engine in engines:
            try:
                results += run_engine(engine, path)
            except Exception as exc:  # noqa: BLE001 - report it and still show the other engine
                say(f"  {engine} failed: {type(exc).__name__}: {exc}")
                failed.append(engine)
        print_table(results)
        if failed:
            raise SystemExit(f"\nno results for: {', '.join(failed)}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
