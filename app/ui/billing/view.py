"""The Billing section: one tab per job of the billing office.

- **Bill runs** — preview who will be invoiced, run, and the history of runs.
- **Invoices** — find, open, print, e-mail, void, export.
- **Payments** — take one or a batch, reverse a bounced check, refund credit.
- **Delinquency** — who is behind, since when, and what happens next.
- **Catalogue** — services, packages, discounts, taxes and usage policies.
- **Settings** — the company's bill day, due/grace days, late fee and invoice look.

Each tab loads when it is first shown and again on F5; a change in one (a payment, a void, a
run) marks the others stale so they reload the next time they are shown.
"""

from __future__ import annotations

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from app.core.permissions import Permission
from app.ui.billing.catalogue import CataloguePanel
from app.ui.billing.delinquency import DelinquencyPanel
from app.ui.billing.invoices import InvoicesPanel
from app.ui.billing.payments import PaymentsPanel
from app.ui.billing.runs import BillRunsPanel
from app.ui.billing.settings import BillingSettingsPanel
from app.ui.context import AppContext
from app.ui.widgets.common import EmptyState


class BillingView(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        if not ctx.actor.can(Permission.BILLING_VIEW):
            layout.addWidget(EmptyState("Billing is not open to you",
                                        f"{ctx.actor.username} ({ctx.actor.role}) may not see billing."))
            self.tabs = None
            return
        self.runs = BillRunsPanel(ctx)
        self.invoices = InvoicesPanel(ctx)
        self.payments = PaymentsPanel(ctx)
        self.delinquency = DelinquencyPanel(ctx)
        self.catalogue = CataloguePanel(ctx)
        self.settings = BillingSettingsPanel(ctx)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for panel, title in ((self.runs, "Bill runs"), (self.invoices, "Invoices"), (self.payments, "Payments"),
                             (self.delinquency, "Delinquency"), (self.catalogue, "Catalogue"),
                             (self.settings, "Settings")):
            self.tabs.addTab(panel, title)
        layout.addWidget(self.tabs)
        self._loaded: set[int] = set()
        self.tabs.currentChanged.connect(self._show)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self, activated=self.refresh)
        for n in range(self.tabs.count()):
            QShortcut(QKeySequence(f"Alt+{n + 1}"), self, activated=lambda n=n: self.tabs.setCurrentIndex(n))
        # What one tab changes, the others show when they are next opened.
        for signal_owner in (self.runs, self.payments, self.invoices, self.delinquency, self.catalogue):
            for name in ("changed", "ran", "saved"):
                signal = getattr(signal_owner, name, None)
                if signal is not None and hasattr(signal, "connect"):
                    signal.connect(lambda *_args, owner=signal_owner: self._stale(owner))

    def showEvent(self, event) -> None:  # noqa: ANN001, N802
        super().showEvent(event)
        if self.tabs is not None:
            self._show(self.tabs.currentIndex())

    def _show(self, index: int) -> None:
        if index < 0 or index in self._loaded:
            return
        self._loaded.add(index)
        self.tabs.widget(index).refresh()

    def _stale(self, changed: QWidget) -> None:
        current = self.tabs.currentIndex()
        self._loaded = {i for i in self._loaded if self.tabs.widget(i) is changed or i == current}

    def refresh(self) -> None:
        """F5: reload the tab in view; the others reload when next shown."""
        if self.tabs is None:
            return
        current = self.tabs.currentIndex()
        self._loaded = {current}
        self.tabs.widget(current).refresh()
