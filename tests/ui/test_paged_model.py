"""The paged model's own logic, against a fake page source (no database)."""

from __future__ import annotations

import dataclasses
import threading
import time

from app.ui.tasks import TaskRunner
from app.ui.widgets.paged_model import Column, PagedTableModel


@dataclasses.dataclass(frozen=True)
class Q:
    text: str = ""
    sort: str = "n"
    descending: bool = False


class FakeSource:
    def __init__(self, rows: int = 10_000) -> None:
        self.rows = rows
        self.first_calls: list[str] = []
        self.page_calls: list[int] = []
        self.fail_next_page = False
        self.lock = threading.Lock()

    def first(self, q: Q, limit: int) -> tuple[int, list[int]]:
        with self.lock:
            self.first_calls.append(q.text)
        time.sleep(0.02)
        return self.rows, list(range(min(limit, self.rows)))

    def page(self, q: Q, offset: int, limit: int, total: int) -> list[int]:
        with self.lock:
            self.page_calls.append(offset)
            if self.fail_next_page:
                self.fail_next_page = False
                raise ConnectionError("server went away")
        return list(range(offset, min(offset + limit, self.rows)))


def _model(source: FakeSource) -> PagedTableModel:
    return PagedTableModel(TaskRunner(), [Column("n", lambda r: r, "n")], source.first, source.page, Q(),
                           page_size=100, max_pages=5)


def test_a_page_that_failed_is_fetched_again_when_asked_for(qtbot) -> None:  # noqa: ANN001
    source = FakeSource()
    model = _model(source)
    with qtbot.waitSignal(model.count_changed):
        model.reload()
    source.fail_next_page = True
    with qtbot.waitSignal(model.load_failed, timeout=3000):
        model.row(5000)
    qtbot.waitUntil(lambda: model.row(5000) == 5000, timeout=3000)
    assert source.page_calls.count(5000) == 2


def test_dragging_through_every_row_fetches_only_a_few_pages(qtbot) -> None:  # noqa: ANN001
    source = FakeSource(100_000)
    model = _model(source)
    with qtbot.waitSignal(model.count_changed):
        model.reload()
    for row in range(0, 100_000, 250):  # a fast drag: the view asks for rows all the way down
        model.row(row)
    qtbot.waitUntil(lambda: model.row(99_999) == 99_999, timeout=3000)
    assert len(source.page_calls) <= 4, source.page_calls


def test_typing_fast_runs_the_last_search_and_skips_superseded_ones(qtbot) -> None:  # noqa: ANN001
    source = FakeSource()
    model = _model(source)
    model.runner.pool.setMaxThreadCount(1)  # as on a busy machine: searches queue up
    counts: list[int] = []
    model.count_changed.connect(counts.append)
    for text in ["t", "tr", "tre", "trem", "tremb", "trembl", "tremblay"]:
        model.set_query(Q(text=text))
    qtbot.waitUntil(lambda: bool(counts), timeout=3000)
    qtbot.wait(100)
    assert model.query.text == "tremblay"
    assert source.first_calls[-1] == "tremblay"
    assert len(counts) == 1  # only the newest result was shown
    assert len(source.first_calls) <= 2  # the queued, superseded ones never ran
