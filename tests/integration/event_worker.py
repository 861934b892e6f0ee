"""A worker process for the exactly-once tests: opens the database and runs the due events.

    python -m tests.integration.event_worker URL --today YYYY-MM-DD --worker NAME
        [--sleep-ms N]        sleep this long just before each commit (holding the claim), so
                              concurrent workers genuinely overlap
        [--ready FILE --go FILE]  write FILE when connected, then wait for GO before running
                              (both workers start running at the same moment)
        [--stall-after N --stall-file FILE]  after N commits, stall inside the next event's
                              transaction (changes made and flushed, not committed), writing
                              FILE first, until the test kills the process

Prints the RunSummary as JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from app.core.db import open_database
from app.core.permissions import Actor
from app.scheduling import service
from app.uow import UnitOfWork


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--today", type=date.fromisoformat, required=True)
    p.add_argument("--worker", required=True)
    p.add_argument("--sleep-ms", type=int, default=0)
    p.add_argument("--ready", type=Path)
    p.add_argument("--go", type=Path)
    p.add_argument("--stall-after", type=int)
    p.add_argument("--stall-file", type=Path)
    args = p.parse_args()

    db = open_database(args.url)
    if args.ready:
        args.ready.write_text("ready")
    if args.go:
        while not args.go.exists():
            time.sleep(0.005)
    commits = 0

    def before_commit() -> None:
        nonlocal commits
        if args.stall_after is not None and commits == args.stall_after:
            args.stall_file.write_text("stalled")
            time.sleep(600)  # mid-transaction until killed
        time.sleep(args.sleep_ms / 1000)
        commits += 1

    summary = service.run_due_events(lambda: UnitOfWork(db), Actor.system("worker"), args.today, args.worker,
                                     before_commit=before_commit)
    db.dispose()
    print(json.dumps({"ran": summary.ran, "failed": summary.failed, "skipped": summary.skipped,
                      "errors": list(summary.errors)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
