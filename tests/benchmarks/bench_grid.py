"""Benchmark: opening a 500-unit building in the Addresses section, on SQLite and PostgreSQL.

    .venv/bin/python -m tests.benchmarks.bench_grid [--units 500] [--repeat 15] [--engines sqlite,postgres]

Target (issue 3): a 500-unit building draws in under 100 ms. Measured per run:
  query  — the service call that reads the building and every unit with its occupant;
  draw   — laying the grid out and painting it completely (into an image, offscreen);
  total  — both, i.e. from the click to a drawn building (the task runner's hop aside).
The database also holds 20 other buildings and about 5,000 accounts so the joins are realistic.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from app import demo  # noqa: E402
from app.accounts.models import Account, AccountStatus  # noqa: E402
from app.addresses import service  # noqa: E402
from app.addresses.models import ServiceableAddress  # noqa: E402
from app.addresses.normalise import match_key  # noqa: E402
from app.core import schema  # noqa: E402
from app.core.db import open_database  # noqa: E402
from app.core.permissions import Actor  # noqa: E402
from app.ui.addresses.grid import BuildingGridWidget  # noqa: E402
from app.uow import UnitOfWork  # noqa: E402
from tests.benchmarks.databases import throwaway_database  # noqa: E402
from tests.pgcluster import PgCluster  # noqa: E402


def make_tower(db, units: int) -> int:  # noqa: ANN001
    """A tower of ``units`` units, 20 to a floor, 90 % occupied with mixed statuses."""
    per_floor = 20
    with UnitOfWork(db) as uow:
        s = uow.session
        statuses = [st.id for st in s.query(AccountStatus).order_by(AccountStatus.sort_order)]
        street, city = "1 Tower Plaza", "Toronto"
        building = s.scalars(insert(ServiceableAddress).returning(ServiceableAddress.id), [dict(
            building="Benchmark Tower", street=street, unit="", city=city, country="CA",
            match_key=match_key("CA", street, city, ""), search_text="benchmark tower")]).one()
        rows = []
        for i in range(units):
            floor, n = divmod(i, per_floor)
            unit = f"{floor + 1}{n + 1:02d}"
            rows.append(dict(building="Benchmark Tower", street=street, unit=unit, floor=floor + 1, city=city,
                             country="CA", parent_id=building, match_key=match_key("CA", street, city, unit),
                             search_text=f"benchmark tower {unit}"))
        ids = s.scalars(insert(ServiceableAddress).returning(ServiceableAddress.id, sort_by_parameter_order=True),
                        rows).all()
        company = uow.companies.default().id
        accounts = [dict(number=f"T{i:05d}", name=f"Tenant {i}", account_type_id=1,
                         status_id=statuses[i % len(statuses)], company_id=company, address_id=addr,
                         search_text=f"tenant {i}")
                    for i, addr in enumerate(ids) if i % 10]
        s.execute(insert(Account), accounts)
        uow.commit()
        return building


def measure(url: str, units: int, repeat: int) -> dict[str, float]:
    db = open_database(url)
    schema.upgrade(db)
    demo.generate(UnitOfWork(db), Actor.system(), 5000, seed=3)
    building = make_tower(db, units)
    actor = Actor.system()
    widget = BuildingGridWidget()
    widget.resize(1100, 700)
    image = QImage(1100, 3000, QImage.Format.Format_ARGB32_Premultiplied)
    query_ms, draw_ms = [], []
    for _ in range(repeat + 2):
        t0 = time.perf_counter()
        grid = service.building_grid(UnitOfWork(db), actor, building)
        t1 = time.perf_counter()
        widget.set_units(grid.units, grid.today)
        widget.resize(1100, widget.sizeHint().height())
        widget.render(image)
        t2 = time.perf_counter()
        query_ms.append((t1 - t0) * 1000)
        draw_ms.append((t2 - t1) * 1000)
    assert len(grid.units) == units
    db.dispose()
    query_ms, draw_ms = query_ms[2:], draw_ms[2:]  # the first two warm caches
    totals = [q + d for q, d in zip(query_ms, draw_ms, strict=True)]
    return {"query": statistics.median(query_ms), "draw": statistics.median(draw_ms),
            "total": statistics.median(totals), "worst": max(totals)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--engines", default="sqlite,postgres")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    print(f"Building grid: {args.units} units, median of {args.repeat} runs (target: total < 100 ms)\n")
    print(f"{'engine':<10}{'query ms':>10}{'draw ms':>10}{'total ms':>10}{'worst ms':>10}")
    for engine in args.engines.split(","):
        if engine == "postgres" and not PgCluster.available():
            print(f"{engine:<10}  (PostgreSQL is not installed; skipped)")
            continue
        with throwaway_database(engine, "riser_grid") as url:
            r = measure(url, args.units, args.repeat)
        print(f"{engine:<10}{r['query']:>10.1f}{r['draw']:>10.1f}{r['total']:>10.1f}{r['worst']:>10.1f}")
    return 0 if app else 1


if __name__ == "__main__":
    raise SystemExit(main())
