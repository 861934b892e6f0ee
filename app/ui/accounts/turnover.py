"""Turning a unit over: the tenant gives notice, the move-out is scheduled (disconnect and final
status on the date), and the next tenant is set up on the same unit — nothing personal carried
over. Also the plain Disconnect… dialog.

The move-out is saved first; the next tenant second. If the second step is refused (a taken
account number, say), the move-out stays scheduled and the wizard stays open on the tenant page
with the message beside the field, so fixing it and pressing Finish again only creates the
account.

Between the two, "Equipment to bring back" lists what is installed at the unit (skipped when
nothing is, or without ``inventory.view``). Scanning an item's barcode on that page (or selecting
it and pressing Mark returned) returns it to the chosen location at once, in its own
transaction — it is not undone by Cancel, just as the device is back on the shelf. Items still
out when the wizard finishes stay installed on the account until someone returns them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.accounts import service
from app.addresses.repository import AddressHit
from app.core.permissions import Permission
from app.inventory import service as inventory
from app.inventory.models import FAULTY
from app.inventory.service import ItemRow
from app.scheduling import service as scheduling
from app.ui.accounts.equipment_tab import (
    MUTED_COLOUR,
    OK_COLOUR,
    LocationCombo,
    StatusLine,
    error_text,
    identifier_text,
)
from app.ui.accounts.new_account import NewAccountForm
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError
from app.ui.widgets.scan import ScanListener

REASONS = ["Moving out", "Lease ended", "Transferring to another unit", "Non-payment", "Service cancelled"]


def _plain(code: str) -> str:
    """A code without separators or case, to notice the same item scanned twice."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


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


class EquipmentReturnPage(QWizardPage):
    """The checklist of what is installed at the unit. A scan while the page is shown (or Mark
    returned on the selected rows) returns the item to the chosen location at once and ticks it;
    a code for something not on the list is flagged in red. Next is always allowed: whatever is
    still out stays on the account, and the page says so.

    The wizard owns the scan listener (``MoveOutWizard.scan_listener``, on the whole wizard so a
    reader's Enter never presses Next) and hands this page the codes while it is current."""

    HEADERS = ("Tag", "Model", "MAC / Serial", "Status")

    def __init__(self, ctx: AppContext, detail: service.AccountDetail) -> None:
        super().__init__()
        self.ctx, self.account_id = ctx, detail.id
        self.setObjectName("EquipmentReturnPage")
        self.setTitle("Equipment to bring back")
        self.setSubTitle("Scan each item's barcode as it comes back, or select it and press Mark returned: it goes "
                         "into the location below at once. Anything not brought back stays on the account.")
        self.items: list[ItemRow] = []
        self.returned: dict[int, ItemRow] = {}  # item id → the item as it is now (at the location)
        self.pending = 0
        self.editable = ctx.actor.can(Permission.INVENTORY_EDIT) and not ctx.read_only

        self.location = LocationCombo(ctx)
        self.faulty = QCheckBox("Faulty")
        self.faulty.setToolTip("The next item scanned or marked goes back as faulty (then this clears itself)")
        self.mark_button = QPushButton("Mark returned")
        self.mark_button.setObjectName("MarkReturned")
        self.mark_button.setToolTip("Return the selected items without scanning them")
        self.mark_button.clicked.connect(self.mark_selected)
        where = QHBoxLayout()
        where.addWidget(QLabel("Return to"))
        where.addWidget(self.location, 1)
        where.addWidget(self.faulty)
        where.addWidget(self.mark_button)

        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setObjectName("EquipmentChecklist")
        self.table.setHorizontalHeaderLabels(list(self.HEADERS))
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(True)  # "✓ returned to Main warehouse › Returns" takes two lines if need be
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for col in (0, 1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update)

        self.progress = QLabel("")
        self.progress.setObjectName("ReturnProgress")
        self.progress.setStyleSheet("font-weight: 600;")
        self.status = StatusLine()
        self.warning = QLabel("")
        self.warning.setObjectName("StillOut")
        self.warning.setWordWrap(True)

        if not self.editable:
            reason = ctx.db.read_only_reason or f"{ctx.actor.role} users cannot return equipment."
            for widget in (self.location, self.faulty, self.mark_button):
                widget.setEnabled(False)
                widget.setToolTip(reason)
            self.setSubTitle(f"What is installed at the unit, to bring back. {reason}")
        layout = QVBoxLayout(self)
        layout.addLayout(where)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.warning)
        self._update()

    # -- the list ------------------------------------------------------------------------------
    @property
    def has_items(self) -> bool:
        return bool(self.items)

    def load(self) -> None:
        ctx, account_id = self.ctx, self.account_id
        ctx.runner.submit(lambda: inventory.equipment_at(ctx.uow(), ctx.actor, account_id), self.set_items,
                          lambda exc: self.status.error(f"The equipment could not be loaded: {error_text(exc)}"),
                          label="Loading equipment", key=f"move-out-equipment:{id(self)}", owner=self)

    def set_items(self, rows: Sequence[ItemRow]) -> None:
        """What is installed now; anything already returned on this page stays on the list, ticked.
        Rows keep their places (a refresh must not move the row the user selected)."""
        fresh = {r.id: r for r in rows}
        kept = [fresh.get(r.id, r) for r in self.items if r.id in fresh or r.id in self.returned]
        known = {r.id for r in kept}
        self.items = kept + [r for r in rows if r.id not in known]
        self._fill()

    def _fill(self) -> None:
        self.table.setRowCount(len(self.items))
        bold = QFont()
        bold.setBold(True)
        for r, item in enumerate(self.items):
            back = self.returned.get(item.id)
            status = f"✓ {self._status(back)}" if back is not None else "At the unit"
            cells = [item.tag, item.model, identifier_text(item), status]
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, item.id)
                if col == 3:
                    cell.setForeground(QBrush(QColor(OK_COLOUR if back else MUTED_COLOUR)))
                    if back is not None:
                        cell.setFont(bold)
                        cell.setToolTip(status)
                self.table.setItem(r, col, cell)
        self._update()

    def still_out(self) -> list[ItemRow]:
        return [r for r in self.items if r.id not in self.returned]

    def selected(self) -> list[ItemRow]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.items[r] for r in rows if 0 <= r < len(self.items)]

    def _update(self) -> None:
        total, out = len(self.items), len(self.still_out())
        self.progress.setText(f"{total - out} of {total} returned")
        if out:
            self.warning.setText(f"{out} item is still at the unit; it stays on the account until returned." if out == 1
                                 else f"{out} items are still at the unit; they stay on the account until returned.")
        else:
            self.warning.setText("Everything is back." if total else "")
        colour = "#8a5a00" if out else OK_COLOUR
        self.warning.setStyleSheet(f"QLabel#StillOut {{ color: {colour}; }}")
        self.warning.setVisible(bool(self.warning.text()))
        if self.editable:
            self.mark_button.setEnabled(any(r.id not in self.returned for r in self.selected()))

    # -- returning -----------------------------------------------------------------------------
    def return_code(self, code: str, *, faulty: bool | None = None) -> None:
        """Return the item with this tag, MAC or serial from the unit to the chosen location
        (faulty if the Faulty box is ticked, or as ``faulty`` says)."""
        code = code.strip()
        if not code or not self.editable:
            return
        back = self._returned_here(code)
        if back is not None:
            self.status.note(f"{back.tag} is already back: {self._status(back)}.")
            return
        location_id = self.location.location_id()
        if location_id is None:
            self.status.error(f"{code}: choose where returned items go first.")
            return
        self.location.remember()
        ctx, account_id = self.ctx, self.account_id
        if faulty is None:
            faulty = self.faulty.isChecked()
            self.faulty.setChecked(False)  # one faulty item does not make the next one faulty
        self.pending += 1
        self.status.note(f"Returning {code}…")
        ctx.runner.submit(
            lambda: inventory.return_by_code(ctx.uow(), ctx.actor, account_id, code, location_id, faulty=faulty),
            self._returned, self._refused, label=f"Returning {code}", writes=True, owner=self)

    def _returned_here(self, code: str) -> ItemRow | None:
        """The item returned on this page that the code names (scanned twice), if any."""
        wanted = _plain(code)
        for row in self.returned.values():
            if wanted == _plain(row.tag) or any(wanted == _plain(i.value) for i in row.identifiers):
                return row
        return None

    @staticmethod
    def _status(back: ItemRow) -> str:
        return f"returned to {back.holder}{' (faulty)' if back.state == FAULTY else ''}"

    def mark_selected(self) -> None:
        """Mark returned: the same service call as a scan, with the item's tag as the code. The
        Faulty box applies to every row selected."""
        faulty = self.faulty.isChecked()
        self.faulty.setChecked(False)
        for row in self.selected():
            if row.id not in self.returned:
                self.return_code(row.tag, faulty=faulty)

    def _returned(self, row: ItemRow) -> None:
        self.pending -= 1
        self.returned[row.id] = row
        if all(r.id != row.id for r in self.items):  # installed after the list was loaded
            self.items.append(row)
        self._fill()
        state = " (faulty)" if row.state == FAULTY else ""
        self.status.ok(f"{row.tag} {row.model} returned to {row.holder}{state}")

    def _refused(self, exc: BaseException) -> None:
        self.pending -= 1
        self.status.error(error_text(exc))
        self.load()  # if someone else returned or moved it meanwhile, the list shows it


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
                 parent: QWidget | None = None, *, equipment: Sequence[ItemRow] | None = None,
                 scan_clock: Callable[[], float] = time.monotonic) -> None:
        """``equipment``: what the account page knows is installed (it decides at once whether the
        equipment page is needed); the wizard loads the current list either way. ``scan_clock``:
        what the scan listener measures key gaps with (tests pass a fake one)."""
        super().__init__(parent)
        self.ctx, self.detail = ctx, detail
        self.setObjectName("MoveOutWizard")
        self.setWindowTitle("Move out / move in")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setMinimumSize(720, 640)
        self.move_out = MoveOutPage(detail, lookups)
        self.equipment = EquipmentReturnPage(ctx, detail)
        self.next_tenant = NextTenantPage(ctx, detail)
        self.addPage(self.move_out)
        self._equipment_id = self.addPage(self.equipment)
        self._tenant_id = self.addPage(self.next_tenant)
        self.currentIdChanged.connect(self._on_page)
        self.scheduled: scheduling.Disconnection | None = None
        # A reader's burst is heard anywhere in the wizard, but only while the equipment page is
        # shown; its Enter is consumed, so it never presses Next.
        self.scan_listener = ScanListener(self, clock=scan_clock)
        self.scan_listener.set_enabled(False)
        self.scan_listener.scanned.connect(self.equipment.return_code)
        if ctx.actor.can(Permission.INVENTORY_VIEW):
            if equipment is not None:
                self.equipment.set_items(equipment)
            self.equipment.load()

    def nextId(self) -> int:
        """The equipment page only when something is installed (as far as is known by then)."""
        if self.currentPage() is self.move_out:
            return self._equipment_id if self.equipment.has_items else self._tenant_id
        return super().nextId()

    def _on_page(self, page_id: int) -> None:
        self.scan_listener.set_enabled(self.page(page_id) is self.equipment and self.equipment.editable)
        if self.page(page_id) is self.next_tenant:
            self.next_tenant.form.set_starts_on(_date(self.move_out.fields.on))

    def validateCurrentPage(self) -> bool:
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
        while self.currentPage() is not self.move_out and len(self.visitedIds()) > 1:
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
