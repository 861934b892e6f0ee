"""One task runner for all background work.

A job is two halves: ``op`` runs on a QThreadPool worker and returns a value; ``on_done(value)``
or ``on_error(exc)`` run later on the GUI thread, delivered by a queued signal. ``op`` never
touches a widget. A job submitted with a ``key`` makes older jobs with the same key stale: their
results are dropped, not painted (a newer search was typed, another account was opened). A job
whose ``owner`` widget was destroyed is dropped too.

On a single-writer database (SQLite) jobs marked ``writes=True`` go through a one-thread pool,
so writes happen one at a time; reads and network I/O run in parallel.
"""

from __future__ import annotations

import itertools
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside an op (by ``TaskContext.check``) when the user cancelled it."""


@dataclass
class TaskContext:
    """Given to ops that ask for it (``with_context=True``): report progress, notice cancel."""

    _runner_signals: _Signals
    task_id: int
    _cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def progress(self, done: int, total: int, text: str = "") -> None:
        self._runner_signals.progress.emit(self.task_id, done, total, text)


class _Signals(QObject):
    finished = Signal(int, object)  # task id, result
    failed = Signal(int, object)  # task id, exception
    progress = Signal(int, int, int, str)  # task id, done, total, text


@dataclass
class Task:
    id: int
    label: str
    key: str | None
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    owner: QObject | None
    context: TaskContext
    done: int = 0
    total: int = 0
    text: str = ""
    stale: bool = False

    def cancel(self) -> None:
        self.context._cancel.set()


class _Job(QRunnable):
    def __init__(self, task_id: int, op: Callable[..., Any], context: TaskContext | None, signals: _Signals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.task_id, self.op, self.context, self.signals = task_id, op, context, signals

    def run(self) -> None:  # worker thread: no widgets here
        try:
            result = self.op(self.context) if self.context is not None else self.op()
        except BaseException as exc:  # noqa: BLE001 - delivered to on_error on the GUI thread
            exc.__riser_traceback__ = traceback.format_exc()  # type: ignore[attr-defined]
            self.signals.failed.emit(self.task_id, exc)
        else:
            self.signals.finished.emit(self.task_id, result)


class TaskRunner(QObject):
    task_started = Signal(object)  # Task
    task_progress = Signal(object)  # Task
    task_ended = Signal(object)  # Task
    error = Signal(object)  # an exception no on_error handled

    def __init__(self, single_writer: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._signals = _Signals(self)  # lives on the GUI thread: emits from workers arrive queued
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)
        self._signals.progress.connect(self._on_progress)
        self._ids = itertools.count(1)
        self._tasks: dict[int, Task] = {}
        self._latest: dict[str, int] = {}
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max(4, QThreadPool.globalInstance().maxThreadCount()))
        self.write_pool = QThreadPool(self)
        self.write_pool.setMaxThreadCount(1 if single_writer else 4)

    # -- submitting ----------------------------------------------------------------------------
    def submit(
        self,
        op: Callable[..., Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        label: str = "",
        key: str | None = None,
        owner: QObject | None = None,
        writes: bool = False,
        with_context: bool = False,
    ) -> Task:
        task_id = next(self._ids)
        context = TaskContext(self._signals, task_id)
        task = Task(task_id, label, key, on_done, on_error, owner, context)
        if key is not None:
            older = self._latest.get(key)
            if older in self._tasks:
                self._tasks[older].stale = True
                self._tasks[older].cancel()
            self._latest[key] = task_id
        self._tasks[task_id] = task
        if label:
            self.task_started.emit(task)
        job = _Job(task_id, op, context if with_context else None, self._signals)
        (self.write_pool if writes else self.pool).start(job)
        return task

    def running(self) -> list[Task]:
        return [t for t in self._tasks.values() if t.label and not t.stale]

    def wait(self, msecs: int = 30000) -> bool:
        """Wait for every job (tests and shutdown). Results are still delivered by the event loop."""
        return self.pool.waitForDone(msecs) and self.write_pool.waitForDone(msecs)

    def shutdown(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self.wait(10000)

    # -- results, on the GUI thread ------------------------------------------------------------
    def _take(self, task_id: int) -> Task | None:
        task = self._tasks.pop(task_id, None)
        if task is None:
            return None
        if task.key is not None and self._latest.get(task.key) == task_id:
            del self._latest[task.key]
        if task.label:
            self.task_ended.emit(task)
        if task.stale or (task.owner is not None and not shiboken6.isValid(task.owner)):
            return None
        return task

    @Slot(int, object)
    def _on_finished(self, task_id: int, result: object) -> None:
        task = self._take(task_id)
        if task is not None and task.on_done is not None:
            task.on_done(result)

    @Slot(int, object)
    def _on_failed(self, task_id: int, exc: BaseException) -> None:
        task = self._take(task_id)
        if task is None or isinstance(exc, Cancelled):
            return
        if task.on_error is not None:
            task.on_error(exc)
        else:
            log.error("background task %r failed:\n%s", task.label, getattr(exc, "__riser_traceback__", exc))
            self.error.emit(exc)

    @Slot(int, int, int, str)
    def _on_progress(self, task_id: int, done: int, total: int, text: str) -> None:
        task = self._tasks.get(task_id)
        if task is None or task.stale:
            return
        task.done, task.total, task.text = done, total, text
        self.task_progress.emit(task)
