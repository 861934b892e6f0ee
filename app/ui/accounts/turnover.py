"""Turning a unit over: the tenant gives notice, the move-out is scheduled (disconnect and final
status on the date), and the next tenant is set up on the same unit — nothing personal carried
over. Also the plain Disconnect… dialog.

The move-out is saved first; the next tenant second. If the second step is refused (a taken
account number, say), the move-out stays scheduled and the wizard stays open on the tenant page
with the message beside the field, so fixing it and pressing Finish again only creates the
account.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget,
    QWizard, QWizardPage,
)

from app.accounts import service
from app.addresses.repository import AddressHit
from app.scheduling import service as scheduling
from app.ui.accounts.new_account import NewAccountForm
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError

REASONS = ["Moving out", "Lease ended", "Transferring to another unit", "Non-payment", "Service cancelled"]


def _date(edit: QDateEdit) -> date:
    q = edit.date()
    return date(q.year(), q.month(), q.day())


class DisconnectFields(QWidget):
    """Date, reason and final status — shared by the wizard and the Disconnect dialog."""

    def __init__(self, lookups: service.Lookups, when_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.on = QDateEdit(QDate.currentDate())
        self.on.setCalendarPopup(True)
        self.on.setDisplayFormat("yyyy-MM-dd")
        self.reason = QComboBox()
        self.reason.setEditable(True)
        self.reason.addItems(REASONS)
        self.final_status = QComboBox()
        for s in lookups.statuses:
            if not s.activates:
                self.final_status.addItem(s.name, s.id)
        inactive = self.final_status.findText("Inactive")
        self.final_status.setCurrentIndex(max(0, inactive))
        self.errors = {k: FieldError() for k in ("on", "reason", "final_status", "form")}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(when_label, self.on)
        form.addRow("", self.errors["on"])
        form.addRow("Reason", self.reason)
        form.addRow("", self.errors["reason"])
        form.addRow("Status afterwards", self.final_status)
        form.addRow("", self.errors["final_status"])
        form.addRow("", self.errors["form"])

    def show_error(self, exc: BaseException) -> None:
        field = getattr(exc, "field", None) or "form"
        field = {"due_on": "on", "date": "on", "status": "final_status", "final_status_id": "final_status"}.get(field, field)
        self.errors.get(field, self.errors["form"]).show_message(str(exc))

    def clear(self) -> None:
        for e in self.errors.values():
            e.clear_message()


class MoveOutPage(QWizardPage):
    def __init__(self, detail: service.AccountDetail, lookups: service.Lookups) -> None:
        super().__init__()
        self.setTitle(f"Move out — {detail.number} {detail.name}")
        self.setSubTitle(f"{detail.address}. On the move-out date the account is disconnected, takes the "
                         "status below, and the unit becomes vacant.")
        self.fields = DisconnectFields(lookups, "Move-out date")
        layout = QVBoxLayout(self)
        layout.addWidget(self.fields)


class NextTenantPage(QWizardPage):
    def __init__(self, ctx: AppContext, detail: service.AccountDetail) -> None:
        super().__init__()
        self.setTitle("The next tenant")
        self.setSubTitle("Optional: set up who moves in. They start on the move-out date (or later) as a Lead "
                         "and become Active on their move-in date. Nothing of the previous tenant is copied.")
        self.enabled = QCheckBox("Set up the next tenant now")
        self.enabled.setChecked(False)
        self.form = NewAccountForm(ctx)
        unit = AddressHit(detail.address_id or 0, detail.address, "", detail.building_id, False, "")
        self.form.set_unit_fixed(unit)
        self.form.setEnabled(False)
        self.enabled.toggled.connect(self.form.setEnabled)
        self.enabled.toggled.connect(lambda on: on and self.form.name.setFocus())
        layout = QVBoxLayout(self)
        layout.addWidget(self.enabled)
        layout.addWidget(self.form)


class MoveOutWizard(QWizard):
    done_moving = Signal(object)  # the new tenant's account id, or None

    def __init__(self, ctx: AppContext, detail: service.AccountDetail, lookups: service.Lookups,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.detail = ctx, detail
        self.setObjectName("MoveOutWizard")
        self.setWindowTitle("Move out / move in")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setMinimumSize(720, 640)
        self.move_out = MoveOutPage(detail, lookups)
        self.next_tenant = NextTenantPage(ctx, detail)
        self.addPage(self.move_out)
        self.addPage(self.next_tenant)
        self.currentIdChanged.connect(self._on_page)
        self.scheduled: scheduling.Disconnection | None = None

    def _on_page(self, page_id: int) -> None:
        if self.page(page_id) is self.next_tenant:
            self.next_tenant.form.set_starts_on(_date(self.move_out.fields.on))

    def validateCurrentPage(self) -> bool:  # noqa: N802
        if self.currentPage() is self.move_out:
            fields = self.move_out.fields
            fields.clear()
            if not fields.reason.currentText().strip():
                fields.errors["reason"].show_message("Give a reason (it goes in the account's history).")
                return False
            return True
        return super().validateCurrentPage()

    def accept(self) -> None:
        """Finish: schedule the move-out (once), then create the next tenant if asked."""
        ctx, account_id = self.ctx, self.detail.id
        fields = self.move_out.fields
        on, reason, final = _date(fields.on), fields.reason.currentText(), fields.final_status.currentData()
        want_tenant = self.next_tenant.enabled.isChecked()
        new = self.next_tenant.form.collect() if want_tenant else None
        already = self.scheduled

        def op() -> tuple[scheduling.Disconnection, service.AccountDetail | None, BaseException | None]:
            done = already or scheduling.schedule_move_out(ctx.uow(), ctx.actor, account_id, on, reason, final,
                                                           date.today())
            if new is None:
                return done, None, None
            try:
                return done, service.create_account(ctx.uow(), ctx.actor, new), None
            except Exception as exc:  # noqa: BLE001 - reported beside the field; the move-out stands
                return done, None, exc

        self.next_tenant.form.clear_errors()
        fields.clear()
        self.button(QWizard.WizardButton.FinishButton).setEnabled(False)
        ctx.runner.submit(op, self._finished, self._failed, label="Scheduling the move-out", writes=True, owner=self)

    def _finished(self, result: tuple) -> None:
        done, account, error = result
        self.scheduled = done
        self.button(QWizard.WizardButton.FinishButton).setEnabled(True)
        if error is not None:
            # The move-out is saved: its page can no longer be changed from here (the events tab can
            # cancel it), so the tenant's move-in date and the saved move-out date stay in step.
            self.move_out.fields.setEnabled(False)
            self.move_out.setSubTitle(f"Saved: {done.description} on {done.on.isoformat()}.")
            self.next_tenant.form.show_error(error)
            self.next_tenant.form.errors["form"].show_message(
                f"The move-out is saved ({done.description}, {done.on.isoformat()}); the new account was not "
                f"created: {error}" if getattr(error, "field", None) in (None, "form") else
                f"The move-out is saved ({done.on.isoformat()}). Fix the field above and press Finish again.")
            return
        self.done_moving.emit(account.id if account else None)
        super().accept()

    def _failed(self, exc: BaseException) -> None:
        self.button(QWizard.WizardButton.FinishButton).setEnabled(True)
        if self.currentPage() is not self.move_out:
            self.back()
        self.move_out.fields.show_error(exc)


class DisconnectDialog(QDialog):
    """Disconnect now or on a date: reason, date and final status; the unit is freed."""

    def __init__(self, ctx: AppContext, detail: service.AccountDetail, lookups: service.Lookups,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.detail = ctx, detail
        self.setObjectName("DisconnectDialog")
        self.setWindowTitle(f"Disconnect {detail.number} {detail.name}")
        self.setMinimumWidth(460)
        intro = QLabel("The account stops occupying its unit on this date and takes the status below. "
                       "A future date is scheduled; today or earlier happens now.")
        intro.setWordWrap(True)
        self.fields = DisconnectFields(lookups, "Disconnect on")
        self.fields.reason.setCurrentText("Service cancelled")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.addButton("Disconnect", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.fields)
        layout.addWidget(self.buttons)

    def submit(self) -> None:
        f, ctx, account_id = self.fields, self.ctx, self.detail.id
        f.clear()
        on, reason, final = _date(f.on), f.reason.currentText(), f.final_status.currentData()
        self.ok.setEnabled(False)
        ctx.runner.submit(
            lambda: scheduling.disconnect_account(ctx.uow(), ctx.actor, account_id, on, reason, final, date.today()),
            self._done, self._failed, label="Disconnecting", writes=True, owner=self)

    def _done(self, _result: scheduling.Disconnection) -> None:
        self.ok.setEnabled(True)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.ok.setEnabled(True)
        self.fields.show_error(exc)
