"""Accounts list benchmark: is the paged, database-backed list fast and lean at 100,000 accounts?

Run on demand (it is not part of the test suite and asserts nothing about time):

    .venv/bin/python -m tests.benchmarks.bench_accounts [--accounts N] [--engines sqlite,postgres] [--seed S]

For each engine a fresh database is filled with ``app.demo`` data. Then the calls the GUI makes
are timed through the services (first page, search-as-you-type, a deep page, a status filter),
the real ``PagedTableModel`` is driven through Qt (query → count signal, scrolling, rows held),
and the same search is done the naive way for comparison: every row in a QStandardItemModel
behind a QSortFilterProxyModel. Each phase runs in a fresh process, so its peak RSS is its own;
run with ``--accounts 10000`` and ``--accounts 100000`` to see which numbers grow with N.
The demo generator ends with ANALYZE, so both planners have statistics from the start.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports PySide6

import argparse  # noqa: E402
import gc  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from typing import Any  # noqa: E402

import psutil  # noqa: E402
from PySide6.QtCore import QEventLoop, QSortFilterProxyModel, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QStandardItemModel  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app import demo  # noqa: E402
from app.accounts import service  # noqa: E402
from app.accounts.repository import AccountQuery, AccountRow  # noqa: E402
from app.core import schema  # noqa: E402
from app.core.db import Database, open_database  # noqa: E402
from app.core.permissions import Actor  # noqa: E402
from app.core.secrets import SecretStore  # noqa: E402
from app.ui.accounts.view import COLUMNS, make_accounts_model  # noqa: E402
from app.ui.context import AppContext  # noqa: E402
from app.ui.tasks import TaskRunner  # noqa: E402
from app.ui.widgets.paged_model import PagedTableModel  # noqa: E402
from app.uow import UnitOfWork  # noqa: E402
from tests.benchmarks.databases import ENGINES, throwaway_database  # noqa: E402

PAGE_SIZE = 100  # what the accounts view asks for
WARM_RUNS = 20
DEEP_PAGE_RUNS = 3
SCROLL_PAGES = 120  # pages visited when "dragging the scroll bar" through the paged model
QT_TIMEOUT_MS = 120_000

# What people type into the search box, one first_page call per keystroke.
SEARCH_TERMS = ("tremblay", "abigail.ad", "5550142", "555-01", "king street", "1543")

FIRST_PAGE_TARGET_MS = 150
SEARCH_TARGET_MS = 50


# -- small helpers -----------------------------------------------------------------------------

def keystrokes(terms: tuple[str, ...] = SEARCH_TERMS) -> list[str]:
    """Every prefix of every term, as the search box sees it while someone types."""
    return [term[:i] for term in terms for i in range(1, len(term) + 1)]


def timed_ms(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(*args)
    return (time.perf_counter() - start) * 1000, result


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 1e6


def peak_rss_mb() -> float:
    """The process's high-water mark (never below the current RSS, which the kernel updates later)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_bytes = peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux
    return max(peak_bytes / 1e6, rss_mb())


def in_fresh_process(fn: Callable[..., dict], *args: Any) -> dict:
    """Run one phase in a new interpreter, so its memory and its caches start from nothing."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def say(text: str) -> None:
    print(text, flush=True)




# -- phase 1: generate -------------------------------------------------------------------------

def phase_generate(url: str, accounts: int, seed: int) -> dict:
    db = open_database(url)
    try:
        schema.upgrade(db)
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if time.monotonic() - last[0] > 5:
                last[0] = time.monotonic()
                say(f"    … {done:,} / {total:,} accounts")

        start = time.perf_counter()
        summary = demo.generate(UnitOfWork(db), Actor.system(), accounts, seed, progress)
        seconds = time.perf_counter() - start
        say(f"  generated {summary.accounts:,} accounts, {summary.contacts:,} contacts in "
            f"{summary.buildings:,} buildings in {seconds:.1f} s")
    finally:
        db.dispose()
    return {"generate_s": seconds, "accounts": summary.accounts, "contacts": summary.contacts}


# -- phase 2: the database path (services, then the real Qt model) -----------------------------

def phase_database_path(url: str, scroll_pages: int) -> dict:
    # Opened after the migration ran, so Capabilities.trigram_index sees pg_trgm on Postgres.
    db = open_database(url)
    actor = Actor.system()
    try:
        result = {"describe": db.describe(), "trigram_index": db.capabilities.trigram_index,
                  "rss_start_mb": rss_mb()}
        result |= measure_services(db, actor)
        result |= measure_paged_model(db, actor, scroll_pages)
        result["rss_end_mb"] = rss_mb()
        result["peak_rss_mb"] = peak_rss_mb()
        return result
    finally:
        db.dispose()


def measure_services(db: Database, actor: Actor) -> dict:
    def first_page(query: AccountQuery) -> float:
        ms, _ = timed_ms(service.first_page, UnitOfWork(db), actor, query, PAGE_SIZE)
        return ms

    cold_ms = first_page(AccountQuery())
    warm = [first_page(AccountQuery()) for _ in range(WARM_RUNS)]
    typed = keystrokes()
    search = [first_page(AccountQuery(text=k)) for k in typed]
    slowest = max(range(len(search)), key=search.__getitem__)

    total = service.count_accounts(UnitOfWork(db), actor, AccountQuery())
    deep_offset = int(total * 0.9)
    deep = [timed_ms(service.list_accounts, UnitOfWork(db), actor, AccountQuery(), deep_offset, PAGE_SIZE)[0]
            for _ in range(DEEP_PAGE_RUNS)]

    lookups = service.lookups(UnitOfWork(db), actor)
    delinquent = next(s.id for s in lookups.statuses if s.name == "Delinquent")
    status_ms = [first_page(AccountQuery(status_id=delinquent)) for _ in range(DEEP_PAGE_RUNS)]
    return {
        "total": total,
        "first_cold_ms": cold_ms,
        "first_warm_median_ms": statistics.median(warm),
        "search_median_ms": statistics.median(search),
        "search_p95_ms": p95(search),
        "search_max_ms": search[slowest],
        "search_max_text": typed[slowest],
        "search_slowest": sorted(zip(search, typed, strict=True), reverse=True)[:5],
        "keystrokes": len(typed),
        "deep_offset": deep_offset,
        "deep_ms": statistics.median(deep),
        "status_ms": statistics.median(status_ms),
        "rss_after_services_mb": rss_mb(),
    }


def measure_paged_model(db: Database, actor: Actor, scroll_pages: int) -> dict:
    app = QApplication.instance() or QApplication([])
    runner = TaskRunner(single_writer=db.capabilities.single_writer)
    model = make_accounts_model(AppContext(db, actor, runner, SecretStore()))
    try:
        rss_before = rss_mb()
        first_ms = query_to_count_ms(model, AccountQuery())
        typed = [query_to_count_ms(model, AccountQuery(text=k)) for k in keystrokes()]
        query_to_count_ms(model, AccountQuery())  # back to everything before scrolling
        scroll = scroll_through(app, runner, model, scroll_pages)
        return {
            "qt_first_ms": first_ms,
            "qt_search_median_ms": statistics.median(typed),
            "qt_search_p95_ms": p95(typed),
            **scroll,
            "rows_held": model.loaded_rows(),
            "rows_limit": model.max_pages * model.page_size,
            "qt_rss_growth_mb": rss_mb() - rss_before,
        }
    finally:
        runner.shutdown()
        app.processEvents()


def query_to_count_ms(model: PagedTableModel, query: AccountQuery) -> float:
    """From set_query(query) to the model's count_changed signal, with the event loop running."""
    loop, timer = QEventLoop(), QTimer()
    arrived: list[float] = []
    failed: list[BaseException] = []

    def on_count(_count: int) -> None:
        arrived.append(time.perf_counter())
        loop.quit()

    def on_failed(exc: BaseException) -> None:
        failed.append(exc)
        loop.quit()

    model.count_changed.connect(on_count)
    model.load_failed.connect(on_failed)
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(QT_TIMEOUT_MS)
    start = time.perf_counter()
    try:
        model.set_query(query)
        loop.exec()
    finally:
        timer.stop()
        model.count_changed.disconnect(on_count)
        model.load_failed.disconnect(on_failed)
    if failed:
        raise RuntimeError(f"the model could not load {query}") from failed[0]
    if not arrived:
        raise TimeoutError(f"no count_changed within {QT_TIMEOUT_MS} ms for {query}")
    return (arrived[0] - start) * 1000


def scroll_through(app: QApplication, runner: TaskRunner, model: PagedTableModel, pages: int) -> dict:
    """Scroll from top to bottom in steps: at each stop the view asks for the rows on screen
    (as its data() calls would) and waits until they have landed, like a person who scrolls,
    looks, and scrolls on. Reports how many stops there were, how many pages the model fetched,
    and the median wait at a stop."""
    count, size = model.rowCount(), model.page_size
    total_pages = max(1, math.ceil(count / size))
    stops = list(range(0, total_pages, max(1, total_pages // pages)))
    fetched = [0]
    model.dataChanged.connect(lambda *_: fetched.__setitem__(0, fetched[0] + 1))  # once per fetched page
    most_held, waits = 0, []
    start = time.perf_counter()
    for number in stops:
        rows = range(number * size + size // 3, min(number * size + size // 3 + 40, count))  # one screenful
        began = time.perf_counter()
        deadline = began + QT_TIMEOUT_MS / 1000
        while any(model.row(r) is None for r in rows) and time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.002)
        waits.append((time.perf_counter() - began) * 1000)
        most_held = max(most_held, model.loaded_rows())
    settle(app, runner)
    return {"scroll_pages": len(stops), "scroll_landed": fetched[0], "scroll_s": time.perf_counter() - start,
            "scroll_wait_median_ms": statistics.median(waits),
            "most_held": max(most_held, model.loaded_rows())}


def settle(app: QApplication, runner: TaskRunner) -> None:
    """Let every submitted job finish and deliver its result on this (the GUI) thread."""
    runner.wait(QT_TIMEOUT_MS)
    for _ in range(3):
        app.processEvents()


# -- phase 3: the naive path (every row in memory, filtered by a proxy model) ------------------

def phase_naive_path(url: str) -> dict:
    _app = QApplication.instance() or QApplication([])  # kept alive while the models live
    db = open_database(url)
    actor = Actor.system()
    try:
        total = service.count_accounts(UnitOfWork(db), actor, AccountQuery())
        rss_before = rss_mb()
        start = time.perf_counter()
        rows = service.list_accounts(UnitOfWork(db), actor, AccountQuery(), 0, total)
        fetch_s = time.perf_counter() - start
        source = standard_item_model(rows)
        del rows
        proxy = QSortFilterProxyModel()
        proxy.setSourceModel(source)
        proxy.setFilterKeyColumn(-1)
        proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        proxy.rowCount()  # maps every row, as a view showing the proxy would
        load_s = time.perf_counter() - start
        rss_loaded = rss_mb()
        typed = [filter_ms(proxy, k) for k in keystrokes()]
        return {
            "proxy_fetch_s": fetch_s,
            "proxy_load_s": load_s,
            "proxy_rss_growth_mb": rss_loaded - rss_before,
            "proxy_search_median_ms": statistics.median(typed),
            "proxy_search_p95_ms": p95(typed),
            "proxy_peak_rss_mb": peak_rss_mb(),
        }
    finally:
        db.dispose()


def standard_item_model(rows: list[AccountRow]) -> QStandardItemModel:
    """The rows as the accounts table shows them, one QStandardItem per cell."""
    # setData, not setItem/appendRow: in PySide6 6.12 on Python 3.11 those two drop a reference
    # to None on every call, and a few hundred thousand calls crash the interpreter.
    model = QStandardItemModel(len(rows), len(COLUMNS))
    model.setHorizontalHeaderLabels([c.title for c in COLUMNS])
    for r, row in enumerate(rows):
        for c, column in enumerate(COLUMNS):
            model.setData(model.index(r, c), str(column.value(row)))
    return model


def filter_ms(proxy: QSortFilterProxyModel, text: str) -> float:
    """One keystroke: set the filter and ask for the row count, as the view does at once (the
    proxy filters lazily until someone asks)."""
    start = time.perf_counter()
    proxy.setFilterFixedString(text)
    proxy.rowCount()
    return (time.perf_counter() - start) * 1000


# -- the report --------------------------------------------------------------------------------

def verdict(value: float, target: float) -> str:
    return "yes" if value <= target else "NO"


def report_rows(n: int, r: dict) -> list[tuple[str, str, str, str]]:
    """(what, value, target, meets target) for one engine."""
    def ms(key: str, target: float | None = None) -> tuple[str, str, str]:
        value = r[key]
        if target is None:
            return f"{value:,.1f}", "", ""
        return f"{value:,.1f}", f"≤ {target}", verdict(value, target)

    rows = [
        (f"generate {n:,} accounts (s)", f"{r['generate_s']:.1f}", "", ""),
        ("first page cold (ms)", *ms("first_cold_ms", FIRST_PAGE_TARGET_MS)),
        (f"first page warm median of {WARM_RUNS} (ms)", *ms("first_warm_median_ms", FIRST_PAGE_TARGET_MS)),
        (f"search keystroke median, {r['keystrokes']} keys (ms)", *ms("search_median_ms", SEARCH_TARGET_MS)),
        ("search keystroke p95 (ms)", *ms("search_p95_ms")),
        (f"search slowest keystroke '{r['search_max_text']}' (ms)", *ms("search_max_ms")),
        (f"deep page at 90% (offset {r['deep_offset']:,}) (ms)", *ms("deep_ms")),
        ("status filter first page (ms)", *ms("status_ms", FIRST_PAGE_TARGET_MS)),
        ("Qt model query→count signal, first (ms)", *ms("qt_first_ms", FIRST_PAGE_TARGET_MS)),
        ("Qt model query→count signal median (ms)", *ms("qt_search_median_ms", SEARCH_TARGET_MS)),
        ("Qt model query→count signal p95 (ms)", *ms("qt_search_p95_ms")),
        (f"Qt model scroll: {r['scroll_pages']} stops, {r['scroll_landed']} pages fetched (s)",
         f"{r['scroll_s']:.1f}", "", ""),
        ("Qt model scroll: median wait for a screenful (ms)", f"{r['scroll_wait_median_ms']:.1f}", "", ""),
        ("rows held by model after scroll (most seen)", f"{r['rows_held']:,} ({r['most_held']:,})",
         f"≤ {r['rows_limit']:,}", verdict(r["most_held"], r["rows_limit"])),
        ("RSS growth for the Qt model (MB)", f"{r['qt_rss_growth_mb']:.1f}", "", ""),
        ("RSS at start / after services / at end (MB)",
         f"{r['rss_start_mb']:.0f} / {r['rss_after_services_mb']:.0f} / {r['rss_end_mb']:.0f}", "", ""),
        ("peak RSS, database path (MB)", f"{r['peak_rss_mb']:.1f}", "", ""),
        ("proxy: load all rows (s)", f"{r['proxy_load_s']:.2f} (fetch {r['proxy_fetch_s']:.2f})", "", ""),
        ("proxy: RSS increase to load all rows (MB)", f"{r['proxy_rss_growth_mb']:.1f}", "", ""),
        ("proxy: keystroke median / p95 (ms)",
         f"{r['proxy_search_median_ms']:,.1f} / {r['proxy_search_p95_ms']:,.1f}", f"≤ {SEARCH_TARGET_MS}",
         verdict(r["proxy_search_median_ms"], SEARCH_TARGET_MS)),
        ("peak RSS, proxy path (MB)", f"{r['proxy_peak_rss_mb']:.1f}", "", ""),
    ]
    return rows


def print_table(engine: str, n: int, r: dict) -> None:
    rows = report_rows(n, r)
    header = ("measurement", "value", "target", "meets")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(4)]
    line = "-+-".join("-" * w for w in widths)
    say("")
    say(f"{engine}: {r['describe']}  —  {r['total']:,} accounts, {r['contacts']:,} contacts, "
        f"trigram index: {'yes' if r['trigram_index'] else 'no'}")
    say(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    say(line)
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2]), row[3].ljust(widths[3])]
        say(" | ".join(cells))
    slowest = ", ".join(f"'{text}' {ms:.0f}" for ms, text in r["search_slowest"])
    say(f"slowest search keystrokes (ms): {slowest}")


# -- main --------------------------------------------------------------------------------------

def run_engine(engine: str, args: argparse.Namespace) -> dict:
    say(f"\n== {engine} ==")
    with throwaway_database(engine) as url:
        result = in_fresh_process(phase_generate, url, args.accounts, args.seed)
        say("  timing the database path (services, then the Qt model) …")
        result |= in_fresh_process(phase_database_path, url, args.scroll_pages)
        say("  timing the naive path (all rows behind a QSortFilterProxyModel) …")
        result |= in_fresh_process(phase_naive_path, url)
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_accounts", description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000, help="accounts to generate (default 100000)")
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--seed", type=int, default=1, help="demo data seed (default 1)")
    parser.add_argument("--scroll-pages", type=int, default=SCROLL_PAGES,
                        help=f"stops while scrolling through the Qt model (default {SCROLL_PAGES})")
    args = parser.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in args.engines if e not in ENGINES]
    if unknown or not args.engines:
        parser.error(f"--engines takes {', '.join(ENGINES)} (got {', '.join(unknown) or 'nothing'})")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    say(f"Accounts benchmark: {args.accounts:,} accounts, seed {args.seed}, engines {', '.join(args.engines)}, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    results, failed = {}, []
    for engine in args.engines:
        try:
            results[engine] = run_engine(engine, args)
        except Exception as exc:  # noqa: BLE001 - report it and still show the other engine's table
            say(f"  {engine} failed: {type(exc).__name__}: {exc}")
            failed.append(engine)
    for engine, result in results.items():
        print_table(engine, args.accounts, result)
    if failed:
        raise SystemExit(f"\nno results for: {', '.join(failed)}")


if __name__ == "__main__":
    main()
