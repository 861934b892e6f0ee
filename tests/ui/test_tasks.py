"""The task runner: work in the pool, results on the GUI thread, stale results dropped."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, QThread
from PySide6.QtWidgets import QApplication

from app.ui.tasks import TaskRunner


def test_the_op_runs_in_a_worker_and_the_result_lands_on_the_gui_thread(qtbot) -> None:  # noqa: ANN001
    runner = TaskRunner()
    seen = {}

    def op() -> int:
        seen["op_thread"] = threading.current_thread() is threading.main_thread()
        return 42

    def done(value: int) -> None:
        seen["value"] = value
        seen["gui"] = QThread.currentThread() is QApplication.instance().thread()

    with qtbot.waitSignal(runner.task_ended, timeout=5000):
        runner.submit(op, done, label="answer")
    assert seen == {"op_thread": False, "value": 42, "gui": True}


def test_a_newer_job_with_the_same_key_drops_the_older_result(qtbot) -> None:  # noqa: ANN001
    runner = TaskRunner()
    results: list[str] = []
    slow_started = threading.Event()

    def slow() -> str:
        slow_started.set()
        time.sleep(0.3)
        return "old search"

    runner.submit(slow, results.append, key="search")
    slow_started.wait(2)
    runner.submit(lambda: "new search", results.append, key="search")
    runner.wait()
    qtbot.waitUntil(lambda: runner.running() == [] and len(results) >= 1, timeout=3000)
    qtbot.wait(50)
    assert results == ["new search"]


def test_errors_reach_on_error_on_the_gui_thread(qtbot) -> None:  # noqa: ANN001
    runner = TaskRunner()
    errors: list[BaseException] = []

    def boom() -> None:
        raise ValueError("no such tenant")

    runner.submit(boom, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=3000)
    assert str(errors[0]) == "no such tenant"


def test_an_error_without_a_handler_is_reported_once(qtbot) -> None:  # noqa: ANN001
    runner = TaskRunner()
    with qtbot.waitSignal(runner.error, timeout=3000) as blocker:
        runner.submit(lambda: 1 / 0)
    assert isinstance(blocker.args[0], ZeroDivisionError)


def test_progress_is_reported_and_cancel_stops_the_op(qtbot) -> None:  # noqa: ANN001
    runner = TaskRunner()
    progress: list[tuple[int, int]] = []
    runner.task_progress.connect(lambda t: progress.append((t.done, t.total)))
    finished: list[str] = []

    def op(ctx) -> str:  # noqa: ANN001
        for i in range(1, 4):
            ctx.progress(i, 3, "importing")
        return "done"

    runner.submit(op, finished.append, label="import", with_context=True)
    qtbot.waitUntil(lambda: finished == ["done"], timeout=3000)
    assert progress == [(1, 3), (2, 3), (3, 3)]

    cancelled: list[object] = []

    def endless(ctx) -> None:  # noqa: ANN001
        while True:
            ctx.check()
            time.sleep(0.01)

    task = runner.submit(endless, cancelled.append, cancelled.append, label="endless", with_context=True)
    task.cancel()
    runner.wait(3000)
    qtbot.wait(50)
    assert cancelled == []  # a cancelled job reports nothing
    assert runner.running() == []


def test_results_for_a_destroyed_owner_are_dropped(qtbot) -> None:  # noqa: ANN001
    runner = TaskRunner()
    owner = QObject()
    results: list[int] = []
    gate = threading.Event()
    runner.submit(lambda: gate.wait(2) and 7, results.append, owner=owner)
    import shiboken6

    shiboken6.delete(owner)
    gate.set()
    runner.wait()
    qtbot.wait(50)
    assert results == []
