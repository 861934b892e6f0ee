"""One account on a page: a header (number, name, status, address, pinned notes) and tabs —
Overview, Contacts, Notes & calls, Scheduled events, Billing (with ``billing.view``), Equipment
(with ``inventory.view``; its title counts what is installed: "Equipment (2)"), History. Alt+1…
switch tabs.

Actions: Edit (name, status, contacts), Move out… (the turnover wizard), Disconnect….
Alt+Left or the Back button returns to the list.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.accounts import notes as notes_service
from app.accounts import service
from app.addresses import service as addresses
from app.core.permissions import Permission
from app.inventory import service as inventory
from app.inventory.service import ItemRow
from app.ui.accounts.billing_tab import BillingTab
from app.ui.accounts.equipment_tab import EquipmentTab
from app.ui.accounts.events_tab import ScheduledEventsTab
from app.ui.accounts.history_tab import HistoryTab
from app.ui.accounts.notes_tab import NotesTab
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError

E = html.escape  # every user-typed value that goes into rich text

CONTACT_HEADERS = ["Name", "E-mail", "Phone", "Mobile", "Role", "Receives"]


@dataclass(frozen=True)
class AccountPageData:
    detail: service.AccountDetail
    pinned: list[notes_service.NoteRow]
    tenants: list[addresses.TenantRow]  # everyone who has lived at this unit
    lookups: service.Lookups
    leaving_on: date | None  # a move-out is scheduled for this day
    equipment: list[ItemRow] | None = None  # installed at the unit; None without inventory.view


def load_page(ctx: AppContext, account_id: int) -> AccountPageData:
    uow, actor = ctx.uow, ctx.actor
    detail = service.get_account(uow(), actor, account_id)
    pinned = notes_service.pinned_notes(uow(), actor, account_id)
    tenants = addresses.tenants(uow(), actor, detail.address_id) if detail.address_id else []
    leaving = service.leaving_on(uow(), actor, account_id) if detail.disconnected_on is None else None
    equipment = inventory.equipment_at(uow(), actor, account_id) if actor.can(Permission.INVENTORY_VIEW) else None
    return AccountPageData(detail, pinned, tenants, service.lookups(uow(), actor), leaving, equipment)


def _pill(text: str, colour: str) -> str:
    return (f"<span style='background:{colour}; color:white; font-weight:600'>&nbsp;{text}&nbsp;</span>")


class AccountPage(QWidget):
    back = Signal()
    changed = Signal(int)  # account id: the list should refresh

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("AccountPage")
        self.data: AccountPageData | None = None
        self._pending_id: int | None = None  # the account being shown (set before its data arrives)
        self._loaded_tabs: set[int] = set()  # tabs filled for it, each when first shown
        self.editable = ctx.actor.can(Permission.ACCOUNTS_EDIT) and not ctx.read_only

        self.back_button = QPushButton("← Accounts")
        self.back_button.setToolTip("Back to the list (Alt+Left)")
        self.back_button.clicked.connect(self.back.emit)
        self.title = QLabel("")
        self.title.setObjectName("AccountTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("AccountSubtitle")
        self.subtitle.setOpenExternalLinks(False)
        self.subtitle.linkActivated.connect(self._on_link)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setToolTip("Name, status and contacts (Ctrl+E)")
        self.edit_button.clicked.connect(self.edit)
        self.move_out_button = QPushButton("Move out…")
        self.move_out_button.setToolTip("Schedule the move-out and set up the next tenant")
        self.move_out_button.clicked.connect(self.move_out)
        self.disconnect_button = QPushButton("Disconnect…")
        self.disconnect_button.clicked.connect(self.disconnect_account)
        self.groups_button = QPushButton("Groups…")
        self.groups_button.setToolTip("Tag the account with groups, usable as a filter in the list")
        self.groups_button.clicked.connect(self.edit_groups)
        for b in (self.edit_button, self.move_out_button, self.disconnect_button, self.groups_button):
            b.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(self.back_button)
        titles = QVBoxLayout()
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        top.addLayout(titles, 1)
        top.addWidget(self.edit_button)
        top.addWidget(self.groups_button)
        top.addWidget(self.move_out_button)
        top.addWidget(self.disconnect_button)

        self.pinned = QLabel("")
        self.pinned.setObjectName("PinnedNotes")
        self.pinned.setWordWrap(True)
        self.pinned.setStyleSheet("QLabel#PinnedNotes { background: #fff6d6; border: 1px solid #e8d48a; "
                                  "border-radius: 4px; padding: 6px 10px; color: #3d3420; }")
        self.pinned.hide()

        self.tabs = QTabWidget()
        self.tabs.setObjectName("AccountTabs")
        self.overview = QWidget()
        self.overview_form = QFormLayout(self.overview)
        self.overview_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.contacts = QTableWidget(0, len(CONTACT_HEADERS))
        self.contacts.setObjectName("AccountContacts")
        self.contacts.setHorizontalHeaderLabels(CONTACT_HEADERS)
        self.contacts.verticalHeader().hide()
        self.contacts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.contacts.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.contacts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.contacts.horizontalHeader().setStretchLastSection(True)
        self.contacts.doubleClicked.connect(lambda _i: self.edit())
        contacts_page = QWidget()
        cv = QVBoxLayout(contacts_page)
        self.contacts_hint = QLabel("Financial contacts receive the invoices. Double-click or Edit… to change.")
        self.contacts_hint.setObjectName("CountLabel")
        cv.addWidget(self.contacts, 1)
        cv.addWidget(self.contacts_hint)
        self.notes_tab = NotesTab(ctx)
        self.notes_tab.changed.connect(self.reload_header)
        self.events_tab = ScheduledEventsTab(ctx)
        self.events_tab.changed.connect(self.reload)
        self.history_tab = HistoryTab(ctx)
        # Billing: only for those who may see billing.
        self.billing_tab: BillingTab | None = None
        # Equipment: only for those who may see inventory.
        self.equipment_tab: EquipmentTab | None = None
        self.equipment: list[ItemRow] | None = None  # what is installed, for the title and the move-out
        self.tabs.addTab(self.overview, "Overview")
        self.tabs.addTab(contacts_page, "Contacts")
        self.tabs.addTab(self.notes_tab, "Notes && calls")
        self.tabs.addTab(self.events_tab, "Scheduled events")
        if ctx.actor.can(Permission.BILLING_VIEW):
            self.billing_tab = BillingTab(ctx)
            self.billing_tab.changed.connect(self._billing_changed)
            self.tabs.addTab(self.billing_tab, "Billing")
        if ctx.actor.can(Permission.INVENTORY_VIEW):
            self.equipment_tab = EquipmentTab(ctx)
            self.equipment_tab.loaded.connect(self._set_equipment)
            self.equipment_tab.changed.connect(self._equipment_changed)
            self.tabs.addTab(self.equipment_tab, "Equipment")
        self.tabs.addTab(self.history_tab, "History")
        self.tabs.currentChanged.connect(self._on_tab)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.addLayout(top)
        layout.addWidget(self.pinned)
        layout.addWidget(self.tabs, 1)
        QShortcut(QKeySequence("Alt+Left"), self, self.back.emit)
        QShortcut(QKeySequence("Ctrl+E"), self, self.edit)
        for i in range(self.tabs.count()):
            QShortcut(QKeySequence(f"Alt+{i + 1}"), self, lambda i=i: self.tabs.setCurrentIndex(i))

    @property
    def account_id(self) -> int | None:
        return self.data.detail.id if self.data else None

    # -- loading -------------------------------------------------------------------------------
    def load(self, account_id: int) -> None:
        if self.account_id != account_id:
            self.data = None
            self.title.setText("Loading…")
            self.subtitle.setText("")
            self.pinned.hide()
            self.tabs.setCurrentIndex(0)
            self.equipment = None
            if self.equipment_tab is not None:
                self.tabs.setTabText(self.tabs.indexOf(self.equipment_tab), "Equipment")
        ctx = self.ctx
        ctx.runner.submit(lambda: load_page(ctx, account_id), self._show, self._failed,
                          label="Opening account", key="account-page", owner=self)
        self._loaded_tabs: set[int] = set()
        self._pending_id = account_id
        self._on_tab(self.tabs.currentIndex())

    def reload(self) -> None:
        if self.account_id is not None:
            self.load(self.account_id)
            self.changed.emit(self.account_id)

    def reload_header(self) -> None:
        if self.account_id is not None:
            ctx, account_id = self.ctx, self.account_id
            ctx.runner.submit(lambda: load_page(ctx, account_id), self._show, self._failed,
                              label="Refreshing account", key="account-page", owner=self)

    def _on_tab(self, index: int) -> None:
        """Tabs load when first shown (and again after the account is reloaded)."""
        account_id = self._pending_id
        if account_id is None or index in self._loaded_tabs:
            return
        tab = self.tabs.widget(index)
        if any(tab is t for t in (self.notes_tab, self.events_tab, self.billing_tab, self.equipment_tab,
                                  self.history_tab)):
            tab.load(account_id)
        self._loaded_tabs.add(index)

    def _set_equipment(self, rows: list[ItemRow]) -> None:
        """What is installed, from the page load or the Equipment tab: its title counts it."""
        self.equipment = list(rows)
        if self.equipment_tab is not None:
            n = len(rows)
            self.tabs.setTabText(self.tabs.indexOf(self.equipment_tab), f"Equipment ({n})" if n else "Equipment")

    def _equipment_changed(self) -> None:
        # The history tab lists installs and returns: refill it when it is shown next.
        self._loaded_tabs.discard(self.tabs.indexOf(self.history_tab))

    def _billing_changed(self) -> None:
        """Something was sold, ended, scheduled or paid: the history lists it, a scheduled change
        shows under Scheduled events, and a payment may have restored the status in the header."""
        for tab in (self.history_tab, self.events_tab):
            self._loaded_tabs.discard(self.tabs.indexOf(tab))
        self.reload_header()

    def _show(self, data: AccountPageData) -> None:
        self.data = data
        d = data.detail
        gone = f" · disconnected {d.disconnected_on.isoformat()}" if d.disconnected_on else (
            f" · <b>moving out {data.leaving_on.isoformat()}</b>" if data.leaving_on else "")
        self.title.setText(f"<span style='font-size:18px'><b>{E(d.number)}</b> · {E(d.name)}</span>&nbsp;&nbsp;"
                           f"{_pill(E(d.status), d.status_colour or '#607d8b')}")
        address = (f"<a href='building:{d.building_id}:{d.address_id}'>{E(d.address)}</a>" if d.address_id
                   else "no address")
        shell = f" · shell account, paid by <a href='account:{d.parent_id}'>{E(d.parent)}</a>" if d.is_shell and d.parent_id else (
            f" · child of <a href='account:{d.parent_id}'>{E(d.parent)}</a>" if d.parent_id else "")
        self.subtitle.setText(f"{E(d.account_type)} · {address}{shell}{gone}")
        if data.pinned:
            lines = [f"<b>Pinned</b> · {html.escape(n.body)} <span style='color:#7a6a3a'>— {html.escape(n.created_by)}, "
                     f"{n.created_at:%Y-%m-%d}</span>" for n in data.pinned[:3]]
            if len(data.pinned) > 3:
                lines.append(f"… and {len(data.pinned) - 3} more pinned notes under Notes &amp; calls")
            self.pinned.setText("<br>".join(lines))
            self.pinned.show()
        else:
            self.pinned.hide()
        self._fill_overview(data)
        self._fill_contacts(d)
        if data.equipment is not None:
            self._set_equipment(data.equipment)
        live = d.disconnected_on is None and data.leaving_on is None  # nothing to disconnect twice
        self.edit_button.setEnabled(self.editable)
        self.groups_button.setEnabled(self.editable and bool(data.lookups.groups))
        self.groups_button.setToolTip("Tag the account with groups, usable as a filter in the list" if data.lookups.groups
                                      else "No groups yet: add them in Settings → Groups")
        self.move_out_button.setEnabled(self.editable and live and d.address_id is not None)
        self.disconnect_button.setEnabled(self.editable and live)
        if data.leaving_on is not None:
            why = (f"A move-out is already scheduled for {data.leaving_on.isoformat()} "
                   "(Scheduled events tab to cancel it)")
            self.move_out_button.setToolTip(why)
            self.disconnect_button.setToolTip(why)
        else:
            self.move_out_button.setToolTip("Schedule the move-out and set up the next tenant")
            self.disconnect_button.setToolTip("")

    def _fill_overview(self, data: AccountPageData) -> None:
        d = data.detail
        while self.overview_form.rowCount():
            self.overview_form.removeRow(0)

        def row(label: str, text: str) -> None:
            value = QLabel(text)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
            value.linkActivated.connect(self._on_link)
            value.setWordWrap(True)
            self.overview_form.addRow(f"<span style='color:#5b6673'>{label}</span>", value)

        row("Account number", E(d.number))
        primary = next((c for c in d.contacts if c.is_primary), None)
        if primary is not None:
            reach = " · ".join(html.escape(x) for x in (primary.email, primary.phone or primary.mobile) if x)
            row("Primary contact", f"{html.escape(primary.name)}{' — ' + reach if reach else ''}")
        payers = [c.name for c in d.contacts if c.is_financial and not c.is_primary]
        if payers:
            row("Invoices go to", html.escape(", ".join(payers)))
        row("Status", f"{E(d.status)}{' (billed, counts as active)' if d.activates else ''}")
        row("Type", E(d.account_type))
        row("Company", E(d.company))
        row("Address", f"<a href='building:{d.building_id}:{d.address_id}'>{E(d.address)}</a>" if d.address_id else "—")
        if d.parent_id:
            row("Paid by" if d.is_shell else "Parent", f"<a href='account:{d.parent_id}'>{E(d.parent)}</a>")
        if d.children:
            row("Child accounts", f"{d.children:,}")
        row("Shell account", "yes — no payment details; paid through its parent" if d.is_shell else "no")
        row("Groups", E(", ".join(d.groups)) or "—")
        if d.disconnected_on:
            row("Disconnected", f"{d.disconnected_on.isoformat()} — {E(d.disconnect_reason) or 'no reason given'}")
        past = [t for t in data.tenants if t.account_id != d.id]
        if past:
            row("Also at this unit", "<br>".join(
                f"<a href='account:{t.account_id}'>{E(t.number)} {E(t.name)}</a> — "
                f"{'current' if t.current else 'left ' + (t.disconnected_on.isoformat() if t.disconnected_on else '')}"
                for t in past[:6]))
        row("Last changed", f"{d.updated_at[:16].replace('T', ' ')} UTC by {E(d.updated_by or 'the system')}")

    def _fill_contacts(self, d: service.AccountDetail) -> None:
        self.contacts.setRowCount(0)
        for c in d.contacts:
            r = self.contacts.rowCount()
            self.contacts.insertRow(r)
            role = ", ".join(x for x, on in (("primary", c.is_primary), ("financial", c.is_financial)) if on) or "—"
            notices = ", ".join(x for x, on in (("billing", c.notify_billing), ("outages", c.notify_outages),
                                                ("jobs", c.notify_jobs), ("general", c.notify_general)) if on) or "none"
            for col, value in enumerate([c.name, c.email, c.phone, c.mobile, role, notices]):
                self.contacts.setItem(r, col, QTableWidgetItem(value))
        if not d.contacts:
            self.contacts_hint.setText("No contacts yet — Edit… adds one. Financial contacts receive the invoices.")

    def _failed(self, exc: BaseException) -> None:
        self.title.setText("This account could not be opened")
        self.subtitle.setText(str(exc))

    def _on_link(self, link: str) -> None:
        kind, _, rest = link.partition(":")
        if kind == "account":
            self.ctx.nav.open_account(int(rest))
        elif kind == "building":
            building, _, unit = rest.partition(":")
            if building not in ("", "None"):
                self.ctx.nav.open_building(int(building), int(unit) if unit not in ("", "None") else 0)

    # -- actions -------------------------------------------------------------------------------
    def edit(self) -> None:
        if self.data is None:
            return
        from app.ui.accounts.form import AccountForm

        form = AccountForm(self.ctx, self.data.detail, self.data.lookups, self.editable, self)
        form.saved.connect(lambda _d: self.reload())
        form.open()
        self.dialog = form

    def move_out(self) -> None:
        if self.data is None:
            return
        from app.ui.accounts.turnover import MoveOutWizard

        wizard = MoveOutWizard(self.ctx, self.data.detail, self.data.lookups, self, equipment=self.equipment)
        wizard.done_moving.connect(self._after_move)
        wizard.open()
        self.dialog = wizard

    def _after_move(self, new_account_id: int | None) -> None:
        self.reload()
        if new_account_id:
            self.changed.emit(new_account_id)

    def edit_groups(self) -> None:
        if self.data is None:
            return
        dialog = GroupsDialog(self.ctx, self.data.detail, self.data.lookups, self)
        dialog.accepted.connect(self.reload)
        dialog.open()
        self.dialog = dialog

    def disconnect_account(self) -> None:
        if self.data is None:
            return
        from app.ui.accounts.turnover import DisconnectDialog

        dialog = DisconnectDialog(self.ctx, self.data.detail, self.data.lookups, self)
        dialog.accepted.connect(self.reload)
        dialog.open()
        self.dialog = dialog


class GroupsDialog(QDialog):
    """Tick the groups the account belongs to."""

    def __init__(self, ctx: AppContext, detail: service.AccountDetail, lookups: service.Lookups,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.detail = ctx, detail
        self.setObjectName("GroupsDialog")
        self.setWindowTitle(f"Groups — {detail.number} {detail.name}")
        self.list = QListWidget()
        for g in lookups.groups:
            item = QListWidgetItem(g.name)
            item.setData(Qt.ItemDataRole.UserRole, g.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if g.name in detail.groups else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.error = FieldError()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def checked(self) -> list[int]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def save(self) -> None:
        from app.accounts import lookups as lookups_service

        ctx, account_id, ids = self.ctx, self.detail.id, self.checked()
        ctx.runner.submit(lambda: lookups_service.set_account_groups(ctx.uow(), ctx.actor, account_id, ids),
                          lambda _r: self.accept(), lambda exc: self.error.show_message(str(exc)),
                          label="Saving groups", writes=True, owner=self)
