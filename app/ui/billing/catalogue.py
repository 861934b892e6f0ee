"""Billing → Catalogue: what the company sells, and on what terms.

Five tabs, each a table with New… and Edit… (or a double-click): **Services** (kind, price,
how often, taxes, speeds), **Packages** (their services and quantities, how many accounts have
them), **Discounts**, **Taxes** and **Usage policies**. Each dialog saves on the task runner and
shows the service's refusal next to the field it is about — a price typed with too many
decimals says "… has more decimals than USD allows" under the price.

A package that is on an account keeps its contents: its dialog says so and locks the service
list, and the Packages tab offers "Duplicate as new package…" and Disable instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTime,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableView,
    QTableWidget,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app.billing import catalogue as cat
from app.billing import models as m
from app.billing.catalogue import (
    CompanyRow,
    DiscountInput,
    DiscountRow,
    FreePeriodRow,
    PackageInput,
    PackageRow,
    ServiceInput,
    ServiceRow,
    TaxInput,
    TaxRow,
    UsagePolicyInput,
    UsagePolicyRow,
)
from app.core import money
from app.core.errors import ConflictError, ValidationError
from app.core.permissions import Permission
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError

IdRole = Qt.ItemDataRole.UserRole + 1
DISABLED_COLOUR = QColor("#9aa3ad")
MUTED_COLOUR = QColor("#5b6673")
CREDIT_COLOUR = QColor("#2e7d32")


def can_edit(ctx: AppContext) -> bool:
    return ctx.actor.can(Permission.BILLING_EDIT) and not ctx.read_only


# -- data ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CatalogueData:
    """Everything the tabs and dialogs show, loaded in one job."""

    companies: list[CompanyRow]
    services: list[ServiceRow]
    packages: list[PackageRow]
    discounts: list[DiscountRow]
    taxes: list[TaxRow]
    policies: list[UsagePolicyRow]

    def currency(self, company_id: int | None) -> str:
        company = next((c for c in self.companies if c.id == company_id), self.companies[0] if self.companies else None)
        return company.currency if company else "USD"


def load_catalogue(ctx: AppContext) -> CatalogueData:
    """Runs on a worker thread."""
    u, a = ctx.uow, ctx.actor
    return CatalogueData(cat.companies(u(), a), cat.list_services(u(), a), cat.list_packages(u(), a),
                         cat.list_discounts(u(), a), cat.list_taxes(u(), a), cat.list_usage_policies(u(), a))


# -- a table of rows -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[Any], str]
    right: bool = False  # numbers and amounts
    stretch: bool = False
    tip: str = ""
    price: bool = False  # a credit's price shows in green


class RowsModel(QAbstractTableModel):
    """Frozen rows shown through a list of ``Column``s. A row whose ``enabled`` is False is
    greyed; credits show in green."""

    def __init__(self, columns: Sequence[Column], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Any | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def row_of(self, row_id: int) -> int:
        return next((n for n, r in enumerate(self.rows) if r.id == row_id), -1)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.ToolTipRole and column.tip:
            return column.tip
        if role == Qt.ItemDataRole.TextAlignmentRole and column.right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.row_at(index.row())
        if row is None:
            return None
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == IdRole:
            return row.id
        if role == Qt.ItemDataRole.TextAlignmentRole and column.right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if getattr(row, "enabled", True) is False:
                return QBrush(DISABLED_COLOUR)
            if getattr(row, "is_credit", False) and column.price:
                return QBrush(CREDIT_COLOUR)
        if role == Qt.ItemDataRole.ToolTipRole and getattr(row, "enabled", True) is False:
            return "Disabled: not sold anew (accounts that have it keep it)"
        return None


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


SERVICE_COLUMNS = (
    Column("Service", lambda r: r.name),
    Column("Kind", lambda r: r.kind_label),
    Column("Price", lambda r: f"−{r.price_text}" if r.is_credit else r.price_text, right=True,
           tip="Per period; credits reduce the invoice", price=True),
    Column("Billed", lambda r: r.frequency_text),
    Column("Speed (down / up)", lambda r: r.speed_text or "—"),
    Column("Taxes", lambda r: r.taxes or "—", stretch=True),
    Column("On accounts", lambda r: f"{r.accounts:,}", right=True),
    Column("Enabled", lambda r: _yes(r.enabled)),
)
PACKAGE_COLUMNS = (
    Column("Package", lambda r: r.name),
    Column("Services", lambda r: r.contents_text, stretch=True),
    Column("Monthly", lambda r: r.total_text, right=True, tip="The sum of its services' prices"),
    Column("Invoice shows", lambda r: "One package line" if r.roll_up else "Each service"),
    Column("In use", lambda r: r.in_use_text),
    Column("Enabled", lambda r: _yes(r.enabled)),
)
DISCOUNT_COLUMNS = (
    Column("Discount", lambda r: r.name),
    Column("Amount", lambda r: r.amount_text, right=True),
    Column("On", lambda r: r.target, stretch=True),
    Column("Applies", lambda r: r.recurrence_text),
    Column("Enabled", lambda r: _yes(r.enabled)),
)
TAX_COLUMNS = (
    Column("Order", lambda r: str(r.position + 1), right=True),
    Column("Tax", lambda r: r.name),
    Column("Rate", lambda r: r.rate_text, right=True),
    Column("Where", lambda r: r.zone_text, stretch=True),
    Column("GL code", lambda r: r.gl_code or "—"),
    Column("Enabled", lambda r: _yes(r.enabled)),
)
POLICY_COLUMNS = (
    Column("Usage policy", lambda r: r.name),
    Column("Allowance", lambda r: r.allowance_text, right=True),
    Column("Rollover", lambda r: f"{r.rollover_months} months" if r.rollover_months else "None"),
    Column("Overage", lambda r: r.overage_text),
    Column("Top-up", lambda r: r.topup_text),
    Column("Free periods", lambda r: r.free_periods_text or "—", stretch=True),
)


class ListTab(QWidget):
    """One catalogue list: a summary line, the table, New… and Edit… (and extra buttons)."""

    new_requested = Signal()
    edit_requested = Signal(object)

    def __init__(self, what: str, columns: Sequence[Column], editable: bool, empty_text: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.what, self.empty_text = what, empty_text
        self.model = RowsModel(columns, self)
        self.table = QTableView()
        self.table.setObjectName(f"{what.capitalize().replace(' ', '')}Table")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for n, column in enumerate(columns):
            mode = QHeaderView.ResizeMode.Stretch if column.stretch else QHeaderView.ResizeMode.ResizeToContents
            header.setSectionResizeMode(n, mode)
        self.table.doubleClicked.connect(lambda _i: self._edit())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.sync_buttons())

        self.summary = QLabel()
        self.summary.setObjectName("CountLabel")
        self.new_button = QPushButton(f"New {what}…")
        self.new_button.clicked.connect(self.new_requested.emit)
        self.edit_button = QPushButton(f"Edit {what}…" if editable else f"Open {what}…")
        self.edit_button.clicked.connect(self._edit)
        self.bar = QHBoxLayout()
        self.bar.addWidget(self.summary, 1)
        self.bar.addWidget(self.new_button)
        self.bar.addWidget(self.edit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addLayout(self.bar)
        layout.addWidget(self.table, 1)
        self.new_button.setVisible(editable)
        self.sync_buttons()

    def add_button(self, button: QPushButton) -> None:
        self.bar.insertWidget(self.bar.count() - 2, button)

    def set_rows(self, rows: Sequence[Any], select_id: int | None = None) -> None:
        keep = select_id if select_id is not None else (self.selected().id if self.selected() else None)
        self.model.set_rows(rows)
        count = len(rows)
        noun = self.what if count == 1 else (self.what[:-1] + "ies" if self.what.endswith("y") else self.what + "s")
        self.summary.setText(f"{count:,} {noun}" if rows else self.empty_text)
        if keep is not None:
            self.select(keep)
        self.sync_buttons()

    def selected(self) -> Any | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def select(self, row_id: int) -> None:
        row = self.model.row_of(row_id)
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))

    def sync_buttons(self) -> None:
        self.edit_button.setEnabled(self.selected() is not None)

    def _edit(self) -> None:
        row = self.selected()
        if row is not None:
            self.edit_requested.emit(row)


# -- the panel -----------------------------------------------------------------------------------

class CataloguePanel(QWidget):
    """Billing → Catalogue: services, packages, discounts, taxes and usage policies."""

    changed = Signal()  # something was saved

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("BillingCataloguePanel")
        self.editable = can_edit(ctx)
        self.data = CatalogueData([], [], [], [], [], [])
        self.dialog: QDialog | None = None

        self.services = ListTab("service", SERVICE_COLUMNS, self.editable,
                                "No services yet — New service… adds the first (an internet tier, a rental…)")
        self.packages = ListTab("package", PACKAGE_COLUMNS, self.editable,
                                "No packages yet — a package sells several services together")
        self.discounts = ListTab("discount", DISCOUNT_COLUMNS, self.editable, "No discounts yet")
        self.taxes = ListTab("tax", TAX_COLUMNS, self.editable, "No taxes yet — add the ones your invoices carry")
        self.policies = ListTab("usage policy", POLICY_COLUMNS, self.editable,
                                "No usage policies — data services without one are not metered")
        self.duplicate_button = QPushButton("Duplicate as new package…")
        self.duplicate_button.setToolTip("A package on accounts keeps its services: copy it, change the copy, "
                                         "and disable this one")
        self.duplicate_button.clicked.connect(lambda: self.duplicate_selected())
        self.enable_button = QPushButton("Disable")
        self.enable_button.clicked.connect(lambda: self.toggle_selected_package())
        if self.editable:
            self.packages.add_button(self.duplicate_button)
            self.packages.add_button(self.enable_button)
        self.packages.table.selectionModel().selectionChanged.connect(lambda *_: self._sync_package_buttons())

        self.tabs = QTabWidget()
        self.tabs.setObjectName("CatalogueTabs")
        self.tabs.addTab(self.services, "Services")
        self.tabs.addTab(self.packages, "Packages")
        self.tabs.addTab(self.discounts, "Discounts")
        self.tabs.addTab(self.taxes, "Taxes")
        self.tabs.addTab(self.policies, "Usage policies")
        self.error = FieldError()
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)

        self.services.new_requested.connect(lambda: self.open_service(None))
        self.services.edit_requested.connect(self.open_service)
        self.packages.new_requested.connect(lambda: self.open_package(None))
        self.packages.edit_requested.connect(self.open_package)
        self.discounts.new_requested.connect(lambda: self.open_discount(None))
        self.discounts.edit_requested.connect(self.open_discount)
        self.taxes.new_requested.connect(lambda: self.open_tax(None))
        self.taxes.edit_requested.connect(self.open_tax)
        self.policies.new_requested.connect(lambda: self.open_policy(None))
        self.policies.edit_requested.connect(self.open_policy)
        self._sync_package_buttons()
        self.refresh()

    # -- loading -------------------------------------------------------------------------------
    def refresh(self) -> None:
        ctx = self.ctx
        ctx.runner.submit(lambda: load_catalogue(ctx), self._fill, self._failed,
                          key=f"billing-catalogue:{id(self)}", owner=self)

    def _fill(self, data: CatalogueData) -> None:
        self.data = data
        self.error.clear_message()
        self.services.set_rows(data.services)
        if data.services and data.companies:
            currencies = sorted({s.currency for s in data.services})
            self.services.summary.setText(f"{self.services.summary.text()} · prices in {', '.join(currencies)}")
        self.packages.set_rows(data.packages)
        self.discounts.set_rows(data.discounts)
        self.taxes.set_rows(data.taxes)
        self.policies.set_rows(data.policies)
        self._sync_package_buttons()

    def _failed(self, exc: BaseException) -> None:
        self.error.show_message(str(exc))

    def _saved(self, tab: ListTab, row: Any) -> None:
        ctx = self.ctx
        ctx.runner.submit(lambda: load_catalogue(ctx), lambda data: self._refilled(data, tab, row.id), self._failed,
                          key=f"billing-catalogue:{id(self)}", owner=self)
        self.changed.emit()

    def _refilled(self, data: CatalogueData, tab: ListTab, row_id: int) -> None:
        self._fill(data)
        tab.select(row_id)

    # -- dialogs -------------------------------------------------------------------------------
    def _show(self, dialog: QDialog, tab: ListTab) -> QDialog:
        dialog.saved.connect(lambda row: self._saved(tab, row))
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def open_service(self, row: ServiceRow | None = None) -> ServiceDialog:
        return self._show(ServiceDialog(self.ctx, self.data, row, self.editable, self), self.services)

    def open_package(self, row: PackageRow | None = None) -> PackageDialog:
        dialog = PackageDialog(self.ctx, self.data, row, self.editable, self)
        dialog.duplicate_requested.connect(lambda package: self.duplicate_selected(package))
        return self._show(dialog, self.packages)

    def open_discount(self, row: DiscountRow | None = None) -> DiscountDialog:
        return self._show(DiscountDialog(self.ctx, self.data, row, self.editable, self), self.discounts)

    def open_tax(self, row: TaxRow | None = None) -> TaxDialog:
        return self._show(TaxDialog(self.ctx, self.data, row, self.editable, self), self.taxes)

    def open_policy(self, row: UsagePolicyRow | None = None) -> UsagePolicyDialog:
        return self._show(UsagePolicyDialog(self.ctx, self.data, row, self.editable, self), self.policies)

    # -- packages: duplicate and disable -------------------------------------------------------
    def _sync_package_buttons(self) -> None:
        row = self.packages.selected()
        self.duplicate_button.setEnabled(row is not None)
        self.enable_button.setEnabled(row is not None)
        self.enable_button.setText("Enable" if row is not None and not row.enabled else "Disable")

    def duplicate_selected(self, package: PackageRow | None = None, new_name: str | None = None) -> None:
        """Ask for the copy's name (unless given) and make the copy."""
        package = package or self.packages.selected()
        if package is None or not self.editable:
            return
        if new_name is None:
            if isinstance(self.dialog, PackageDialog):
                self.dialog.reject()
            new_name, ok = QInputDialog.getText(self, "Duplicate package", "Name of the new package:",
                                                text=f"{package.name} (new)")
            if not ok:
                return
        ctx, package_id = self.ctx, package.id
        ctx.runner.submit(lambda: cat.duplicate_package(ctx.uow(), ctx.actor, package_id, new_name),
                          lambda row: self._duplicated(row), self._failed, label="Duplicating the package",
                          writes=True, owner=self)

    def _duplicated(self, row: PackageRow) -> None:
        self.tabs.setCurrentWidget(self.packages)
        self._saved(self.packages, row)
        self.open_package(row)

    def toggle_selected_package(self) -> None:
        row = self.packages.selected()
        if row is None or not self.editable:
            return
        ctx, package_id, enabled = self.ctx, row.id, not row.enabled
        ctx.runner.submit(lambda: cat.set_package_enabled(ctx.uow(), ctx.actor, package_id, enabled),
                          lambda saved: self._saved(self.packages, saved), self._failed,
                          label="Disabling the package" if not enabled else "Enabling the package",
                          writes=True, owner=self)


# -- dialogs -------------------------------------------------------------------------------------

class FormDialog(QDialog):
    """A form with an inline error under each field, a form-wide error line and Save/Cancel.
    Subclasses build the fields with ``add_row`` and implement ``collect`` and ``submit``."""

    saved = Signal(object)

    def __init__(self, ctx: AppContext, title: str, editable: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.editable = ctx, editable
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        self.header = QLabel(f"<b>{title}</b>")
        self.header.setObjectName("FormHeader")
        self.form = new_form()
        self.errors: dict[str, FieldError] = {}
        self.focus: dict[str, QWidget] = {}
        self.form_error = FieldError()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.body = QVBoxLayout(self)
        self.body.addWidget(self.header)
        self.body.addLayout(self.form)

    def finish_layout(self) -> None:
        self.body.addWidget(self.form_error)
        self.body.addWidget(self.buttons)
        if not self.editable:
            self.save_button.hide()
            for widget in self.findChildren(QWidget):
                if isinstance(widget, (QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QCheckBox, QRadioButton,
                                       QTimeEdit, QListWidget, QTableWidget, QPushButton)) \
                        and widget not in self.buttons.buttons():
                    widget.setEnabled(False)
            self.form_error.show_message(self.ctx.db.read_only_reason or "You can look at the catalogue but not "
                                                                          "change it.")

    def add_row(self, label: str | QLabel, widget: QWidget | Any, field: str | None = None,
                focus: QWidget | None = None) -> None:
        if field:
            error = FieldError()
            self.form.addRow(label, field_with_error(widget, error))
            self.errors[field] = error
            self.focus[field] = focus or (widget if isinstance(widget, QWidget) else None)
        else:
            self.form.addRow(label, widget)

    def alias(self, field: str, target: str) -> None:
        """Show errors about ``field`` where ``target``'s go."""
        self.errors[field] = self.errors[target]
        self.focus[field] = self.focus.get(target)

    def clear_errors(self) -> None:
        for error in {id(e): e for e in self.errors.values()}.values():
            error.clear_message()
        self.form_error.clear_message()

    def show_validation(self, exc: ValidationError) -> None:
        error = self.errors.get(exc.field or "", self.form_error)
        error.show_message(str(exc))
        widget = self.focus.get(exc.field or "")
        if widget is not None:
            widget.setFocus()

    def collect(self) -> Any:
        raise NotImplementedError

    def submit(self, data: Any) -> Any:
        """Runs on a worker thread: save ``data``, return the saved row."""
        raise NotImplementedError

    def save(self) -> None:
        if not self.editable:
            return
        self.clear_errors()
        try:
            data = self.collect()
        except ValidationError as exc:
            self.show_validation(exc)
            return
        self.save_button.setEnabled(False)
        self.ctx.runner.submit(lambda: self.submit(data), self._on_saved, self._on_failed,
                               label=f"Saving {self.windowTitle().lower()}", writes=True, owner=self)

    def _on_saved(self, row: Any) -> None:
        self.save_button.setEnabled(True)
        self.saved.emit(row)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self.show_validation(exc)
        elif isinstance(exc, ConflictError):
            self.form_error.show_message(f"{exc} Close this dialog and open it again to see them.")
        else:
            self.form_error.show_message(str(exc))


def field_with_error(field: QWidget | Any, error: FieldError) -> QWidget:
    """The field with its error line right under it, as one form cell: a hidden error takes no
    room (an error row of its own would leave a gap)."""
    holder = QWidget()
    column = QVBoxLayout(holder)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(2)
    if isinstance(field, QWidget):
        column.addWidget(field)
    else:
        column.addLayout(field)
    column.addWidget(error)
    column.addStretch(1)  # room the form gives this row beyond its needs stays below the field
    return holder


def new_form() -> QFormLayout:
    form = QFormLayout()
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return form


def company_combo(data: CatalogueData, company_id: int | None) -> QComboBox:
    combo = QComboBox()
    for c in data.companies:
        combo.addItem(c.name, c.id)
    if company_id is not None:
        combo.setCurrentIndex(max(0, combo.findData(company_id)))
    return combo


def money_edit(placeholder: str = "0.00") -> QLineEdit:
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setMaximumWidth(160)
    edit.setAlignment(Qt.AlignmentFlag.AlignRight)
    return edit


def with_suffix(widget: QWidget, suffix: QLabel | str) -> QWidget:
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(widget)
    row.addWidget(suffix if isinstance(suffix, QLabel) else QLabel(suffix))
    row.addStretch(1)
    return holder


class ServiceDialog(FormDialog):
    """New or changed service: kind, price in the company's currency, frequency, proration,
    taxes, general-ledger code; speeds and a usage policy for data services."""

    def __init__(self, ctx: AppContext, data: CatalogueData, row: ServiceRow | None = None, editable: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"Service — {row.name}" if row else "New service", editable, parent)
        self.setObjectName("ServiceDialog")
        self.data, self.row = data, row
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Internet 500")
        self.company = company_combo(data, row.company_id if row else None)
        self.kind = QComboBox()
        for kind in m.SERVICE_KINDS:
            self.kind.addItem(m.SERVICE_KIND_LABELS[kind], kind)
        self.price = money_edit()
        self.currency = QLabel()
        self.frequency = QSpinBox()
        self.frequency.setRange(1, 60)
        self.frequency.setSuffix(" month(s)")
        self.frequency_label = QLabel("Billed every")
        self.prorates = QCheckBox("Prorate by days when it starts, stops or changes mid-period")
        self.cycles = QSpinBox()
        self.cycles.setRange(0, 600)
        self.cycles.setSpecialValueText("—")
        self.cycles.setSuffix(" periods")
        self.taxes = QListWidget()
        self.taxes.setObjectName("ServiceTaxes")
        self.taxes.setMaximumHeight(92)
        for tax in data.taxes:
            item = QListWidgetItem(f"{tax.name} ({tax.rate_text}, {tax.zone_text})")
            item.setData(IdRole, tax.id)
            item.setData(Qt.ItemDataRole.UserRole + 2, tax.company_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if row and tax.id in row.tax_ids else Qt.CheckState.Unchecked)
            self.taxes.addItem(item)
        self.gl_code = QLineEdit()
        self.gl_code.setMaximumWidth(200)
        self.enabled = QCheckBox("Sold to new accounts")
        self.enabled.setChecked(True)

        self.data_box = QGroupBox("Data service")
        self.download = QDoubleSpinBox()
        self.upload = QDoubleSpinBox()
        for spin in (self.download, self.upload):
            spin.setRange(0, 100_000)
            spin.setDecimals(1)
            spin.setSuffix(" Mbps")
            spin.setSpecialValueText("—")
            spin.setMinimumWidth(130)
        self.policy = QComboBox()
        self.policy.addItem("No usage billing", None)
        for p in data.policies:
            self.policy.addItem(f"{p.name} ({p.allowance_text})", p.id)
        data_form = new_form()
        self.data_box.setLayout(data_form)
        speeds = QHBoxLayout()
        speeds.addWidget(QLabel("Down"))
        speeds.addWidget(self.download)
        speeds.addSpacing(12)
        speeds.addWidget(QLabel("Up"))
        speeds.addWidget(self.upload)
        speeds.addStretch(1)
        self.speed_error = FieldError()
        data_form.addRow("Speeds", field_with_error(speeds, self.speed_error))
        self.policy_error = FieldError()
        data_form.addRow("Usage policy", field_with_error(self.policy, self.policy_error))

        self.add_row("Name", self.name, "name")
        if len(data.companies) > 1:
            self.add_row("Company", self.company, "company_id")
        self.add_row("Kind", self.kind, "kind")
        self.add_row("Price", with_suffix(self.price, self.currency), "price", self.price)
        self.add_row(self.frequency_label, self.frequency, "frequency_months")
        self.add_row("", self.prorates)
        self.cycles_label = QLabel("Credit runs for")
        self.add_row(self.cycles_label, self.cycles, "expires_after_cycles")
        self.add_row("Taxes", self.taxes, "tax_ids")
        self.add_row("GL code", self.gl_code, "gl_code")
        self.add_row("Enabled", self.enabled)
        self.body.addWidget(self.data_box)
        for key in ("download_kbps", "upload_kbps"):
            self.errors[key], self.focus[key] = self.speed_error, self.download
        self.errors["usage_policy_id"], self.focus["usage_policy_id"] = self.policy_error, self.policy
        self.finish_layout()

        self.kind.currentIndexChanged.connect(lambda _i: self._sync_kind())
        self.company.currentIndexChanged.connect(lambda _i: self._sync_company())
        self._fill(row)

    def _fill(self, row: ServiceRow | None) -> None:
        if row is None:
            self.prorates.setChecked(True)
        else:
            self.name.setText(row.name)
            self.kind.setCurrentIndex(max(0, self.kind.findData(row.kind)))
            self.price.setText(row.price_text.replace(",", ""))
            self.frequency.setValue(row.frequency_months)
            self.prorates.setChecked(row.prorates)
            self.cycles.setValue(row.expires_after_cycles or 0)
            self.gl_code.setText(row.gl_code)
            self.enabled.setChecked(row.enabled)
            self.download.setValue((row.download_kbps or 0) / 1000)
            self.upload.setValue((row.upload_kbps or 0) / 1000)
            self.policy.setCurrentIndex(max(0, self.policy.findData(row.usage_policy_id)))
        self._sync_kind()
        self._sync_company()

    def _sync_kind(self) -> None:
        kind = self.kind.currentData()
        recurring = kind not in m.ONE_OFF_KINDS
        for w in (self.frequency, self.frequency_label):
            w.setVisible(recurring)
        for w in (self.cycles, self.cycles_label):
            w.setVisible(kind == m.CREDIT_EXPIRING)
        self.data_box.setVisible(kind == m.DATA)
        self.price.setToolTip("Entered positive: a credit reduces the invoice" if kind in m.CREDIT_KINDS else "")
        self.adjustSize()

    def _sync_company(self) -> None:
        company_id = self.company.currentData()
        self.currency.setText(self.data.currency(company_id))
        for n in range(self.taxes.count()):
            item = self.taxes.item(n)
            item.setHidden(item.data(Qt.ItemDataRole.UserRole + 2) != company_id)

    @staticmethod
    def _kbps(spin: QDoubleSpinBox) -> int | None:
        value = round(spin.value() * 1000)
        return value or None

    def collect(self) -> ServiceInput:
        kind = self.kind.currentData()
        data_service = kind == m.DATA
        company_id = self.company.currentData()
        return ServiceInput(
            name=self.name.text(), kind=kind, price_text=self.price.text(), frequency_months=self.frequency.value(),
            prorates=self.prorates.isChecked(),
            tax_ids=[self.taxes.item(n).data(IdRole) for n in range(self.taxes.count())
                     if self.taxes.item(n).checkState() == Qt.CheckState.Checked and not self.taxes.item(n).isHidden()],
            gl_code=self.gl_code.text(), company_id=company_id, enabled=self.enabled.isChecked(),
            download_kbps=self._kbps(self.download) if data_service else None,
            upload_kbps=self._kbps(self.upload) if data_service else None,
            usage_policy_id=self.policy.currentData() if data_service else None,
            expires_after_cycles=(self.cycles.value() or 0) if kind == m.CREDIT_EXPIRING else None,
        )

    def submit(self, data: ServiceInput) -> ServiceRow:
        row = self.row
        return cat.save_service(self.ctx.uow(), self.ctx.actor, data, row.id if row else None,
                                row.version if row else None)


class PackageDialog(FormDialog):
    """New or changed package: name, company, roll-up, enabled, and its services with
    quantities. A package on accounts keeps its services: they are locked, and "Duplicate as new
    package…" starts a copy to change instead."""

    duplicate_requested = Signal(object)  # PackageRow

    COLUMNS = ("Service", "Price", "Quantity", "")

    def __init__(self, ctx: AppContext, data: CatalogueData, row: PackageRow | None = None, editable: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"Package — {row.name}" if row else "New package", editable, parent)
        self.setObjectName("PackageDialog")
        self.setMinimumWidth(640)
        self.data, self.row = data, row
        self.locked = bool(row and row.locked)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Internet + TV bundle")
        self.company = company_combo(data, row.company_id if row else None)
        self.roll_up = QCheckBox("The invoice shows one line for the package (its services are summed)")
        self.roll_up.setChecked(True)
        self.enabled = QCheckBox("Sold to new accounts")
        self.enabled.setChecked(True)
        self.add_row("Name", self.name, "name")
        if len(data.companies) > 1:
            self.add_row("Company", self.company, "company_id")
        self.add_row("Roll up", self.roll_up)
        self.add_row("Enabled", self.enabled)

        self.items_box = QGroupBox("Services in the package")
        self.lock_note = QLabel()
        self.lock_note.setObjectName("LockNote")
        self.lock_note.setWordWrap(True)
        self.lock_note.setStyleSheet("font-weight: normal; color: #8a5a00; background: #fff4e0; padding: 6px;"
                                     " border-radius: 4px;")
        self.items = QTableWidget(0, len(self.COLUMNS))
        self.items.setObjectName("PackageItems")
        self.items.setHorizontalHeaderLabels(self.COLUMNS)
        self.items.verticalHeader().hide()
        self.items.verticalHeader().setDefaultSectionSize(36)
        self.items.setShowGrid(False)
        self.items.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.items.setMinimumHeight(180)
        self.items.setStyleSheet("font-weight: normal;")
        header = self.items.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 100), (2, 100), (3, 90)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            self.items.setColumnWidth(col, width)
        self.add_item_button = QPushButton("Add service")
        self.add_item_button.clicked.connect(lambda: self.add_item())
        self.total = QLabel()
        self.total.setStyleSheet("font-weight: normal;")
        self.duplicate_button = QPushButton("Duplicate as new package…")
        self.duplicate_button.clicked.connect(lambda: self.duplicate_requested.emit(self.row))
        self.items_error = FieldError()
        self.items_error.setStyleSheet("font-weight: normal;")
        bottom = QHBoxLayout()
        bottom.addWidget(self.add_item_button)
        bottom.addWidget(self.duplicate_button)
        bottom.addStretch(1)
        bottom.addWidget(self.total)
        box = QVBoxLayout(self.items_box)
        box.addWidget(self.lock_note)
        box.addWidget(self.items, 1)
        box.addLayout(bottom)
        box.addWidget(self.items_error)
        self.body.addWidget(self.items_box, 1)
        self.errors["items"], self.focus["items"] = self.items_error, self.items
        self.finish_layout()

        self.company.currentIndexChanged.connect(lambda _i: self._company_changed())
        self._fill(row)

    def _services(self) -> list[ServiceRow]:
        company_id = self.company.currentData()
        return [s for s in self.data.services if s.company_id == company_id and (s.enabled or self.locked)]

    def _fill(self, row: PackageRow | None) -> None:
        if row is not None:
            self.name.setText(row.name)
            self.roll_up.setChecked(row.roll_up)
            self.enabled.setChecked(row.enabled)
            for item in row.items:
                self.add_item(item.service_id, item.quantity)
        else:
            self.add_item()
        if self.locked:
            self.lock_note.setText(
                f"<b>{row.in_use_text}.</b> Its services and quantities are locked: the accounts' lines and "
                "their invoices were built from them. To sell different contents, duplicate it as a new package, "
                "change the copy, and disable this one — accounts that have it keep being billed for it.")
        self.lock_note.setVisible(self.locked)
        self.duplicate_button.setVisible(self.locked and self.editable)
        self.add_item_button.setVisible(not self.locked)
        self.items.setEnabled(not self.locked)
        self.company.setEnabled(not self.locked)
        self._update_total()

    def add_item(self, service_id: int | None = None, quantity: int = 1) -> int:
        row = self.items.rowCount()
        self.items.insertRow(row)
        picker = QComboBox()
        picker.setObjectName("ServicePicker")
        for s in self._services():
            picker.addItem(s.name, s.id)
        if service_id is not None:
            index = picker.findData(service_id)
            if index < 0:  # a service disabled since: still shown
                found = next((s for s in self.data.services if s.id == service_id), None)
                picker.addItem(found.name if found else "(removed service)", service_id)
                index = picker.count() - 1
            picker.setCurrentIndex(index)
        else:
            used = {self.item_service(r) for r in range(row)}
            free = next((n for n in range(picker.count()) if picker.itemData(n) not in used), 0)
            picker.setCurrentIndex(free if picker.count() else -1)
        count = QSpinBox()
        count.setRange(1, 999)
        count.setValue(max(1, quantity))
        count.setMinimumWidth(80)
        price = QLabel()
        price.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        price.setContentsMargins(8, 0, 8, 0)
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: self._remove(picker))
        self.items.setCellWidget(row, 0, picker)
        self.items.setCellWidget(row, 1, price)
        self.items.setCellWidget(row, 2, count)
        self.items.setCellWidget(row, 3, remove)
        picker.currentIndexChanged.connect(lambda _i: self._update_total())
        count.valueChanged.connect(lambda _v: self._update_total())
        self._update_total()
        return row

    def _remove(self, picker: QComboBox) -> None:
        for row in range(self.items.rowCount()):
            if self.items.cellWidget(row, 0) is picker:
                self.items.removeRow(row)
                break
        self._update_total()

    def item_service(self, row: int) -> int | None:
        return self.items.cellWidget(row, 0).currentData()

    def item_quantity_box(self, row: int) -> QSpinBox:
        return self.items.cellWidget(row, 2)

    def _company_changed(self) -> None:
        self.items.setRowCount(0)
        self.add_item()

    def _update_total(self) -> None:
        prices = {s.id: s for s in self.data.services}
        currency = self.data.currency(self.company.currentData())
        total = 0
        for row in range(self.items.rowCount()):
            service = prices.get(self.item_service(row))
            quantity = self.item_quantity_box(row).value()
            label: QLabel = self.items.cellWidget(row, 1)
            if service is None:
                label.setText("")
                continue
            amount = service.price * quantity * (-1 if service.is_credit else 1)
            total += amount
            label.setText(money.format_minor(amount, currency))
        self.total.setText(f"Monthly total <b>{money.format_minor(total, currency, symbol=True)}</b>")

    def collect(self) -> PackageInput:
        items = [(self.item_service(r), self.item_quantity_box(r).value()) for r in range(self.items.rowCount())
                 if self.item_service(r) is not None]
        return PackageInput(name=self.name.text(), company_id=self.company.currentData(),
                            roll_up=self.roll_up.isChecked(), enabled=self.enabled.isChecked(), items=items)

    def submit(self, data: PackageInput) -> PackageRow:
        row = self.row
        return cat.save_package(self.ctx.uow(), self.ctx.actor, data, row.id if row else None,
                                row.version if row else None)


class DiscountDialog(FormDialog):
    """A percentage or an amount off one service or one package; once, every period, or for N
    periods."""

    def __init__(self, ctx: AppContext, data: CatalogueData, row: DiscountRow | None = None, editable: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"Discount — {row.name}" if row else "New discount", editable, parent)
        self.setObjectName("DiscountDialog")
        self.data, self.row = data, row
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Loyalty 10 %")
        self.company = company_combo(data, row.company_id if row else None)
        self.percent = QRadioButton("Percentage")
        self.fixed = QRadioButton("Fixed amount")
        group = QButtonGroup(self)
        group.addButton(self.percent)
        group.addButton(self.fixed)
        self.percent.setChecked(True)
        kinds = QHBoxLayout()
        kinds.addWidget(self.percent)
        kinds.addWidget(self.fixed)
        kinds.addStretch(1)
        self.amount = money_edit("10")
        self.unit = QLabel("%")
        self.target = QComboBox()
        self.recurrence = QComboBox()
        for key in cat.RECURRENCES:
            self.recurrence.addItem(cat.RECURRENCE_LABELS[key], key)
        self.cycles = QSpinBox()
        self.cycles.setRange(0, 600)
        self.cycles.setSuffix(" periods")
        self.enabled = QCheckBox("Given to new accounts")
        self.enabled.setChecked(True)
        self.add_row("Name", self.name, "name")
        if len(data.companies) > 1:
            self.add_row("Company", self.company, "company_id")
        self.add_row("Kind", kinds, "kind", self.percent)
        self.add_row("Amount", with_suffix(self.amount, self.unit), "amount", self.amount)
        self.add_row("On", self.target, "target")
        self.add_row("Applies", self.recurrence, "recurrence")
        self.cycles_label = QLabel("For")
        self.add_row(self.cycles_label, self.cycles, "cycles")
        self.add_row("Enabled", self.enabled)
        self.finish_layout()
        self.percent.toggled.connect(lambda _on: self._sync())
        self.recurrence.currentIndexChanged.connect(lambda _i: self._sync())
        self.company.currentIndexChanged.connect(lambda _i: self._fill_targets())
        self._fill(row)

    def _fill_targets(self) -> None:
        company_id = self.company.currentData()
        self.target.clear()
        for s in self.data.services:
            if s.company_id == company_id:
                self.target.addItem(f"Service: {s.name}", ("service", s.id))
        for p in self.data.packages:
            if p.company_id == company_id:
                self.target.addItem(f"Package: {p.name}", ("package", p.id))

    def _fill(self, row: DiscountRow | None) -> None:
        self._fill_targets()
        if row is not None:
            self.name.setText(row.name)
            (self.percent if row.kind == cat.PERCENT else self.fixed).setChecked(True)
            self.amount.setText(row.amount_text.replace(" %", "").replace(",", ""))
            key = ("service", row.service_id) if row.service_id else ("package", row.package_id)
            self.target.setCurrentIndex(max(0, self.target.findData(key)))
            self.recurrence.setCurrentIndex(max(0, self.recurrence.findData(row.recurrence)))
            self.cycles.setValue(row.cycles or 0)
            self.enabled.setChecked(row.enabled)
        self._sync()

    def _sync(self) -> None:
        self.unit.setText("%" if self.percent.isChecked() else self.data.currency(self.company.currentData()))
        expiring = self.recurrence.currentData() == m.EXPIRING
        self.cycles.setVisible(expiring)
        self.cycles_label.setVisible(expiring)

    def collect(self) -> DiscountInput:
        target = self.target.currentData() or (None, None)
        return DiscountInput(
            name=self.name.text(), kind=cat.PERCENT if self.percent.isChecked() else cat.FIXED,
            amount_text=self.amount.text(),
            service_id=target[1] if target[0] == "service" else None,
            package_id=target[1] if target[0] == "package" else None,
            recurrence=self.recurrence.currentData(),
            cycles=self.cycles.value() if self.recurrence.currentData() == m.EXPIRING else None,
            company_id=self.company.currentData(), enabled=self.enabled.isChecked(),
        )

    def submit(self, data: DiscountInput) -> DiscountRow:
        row = self.row
        return cat.save_discount(self.ctx.uow(), self.ctx.actor, data, row.id if row else None,
                                 row.version if row else None)


class TaxDialog(FormDialog):
    """A percentage or a flat amount per invoice, everywhere or in a zone."""

    def __init__(self, ctx: AppContext, data: CatalogueData, row: TaxRow | None = None, editable: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"Tax — {row.name}" if row else "New tax", editable, parent)
        self.setObjectName("TaxDialog")
        self.data, self.row = data, row
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. GST")
        self.company = company_combo(data, row.company_id if row else None)
        self.percent = QRadioButton("Percentage of the lines it applies to")
        self.flat = QRadioButton("Flat amount per invoice")
        group = QButtonGroup(self)
        group.addButton(self.percent)
        group.addButton(self.flat)
        self.percent.setChecked(True)
        kinds = QVBoxLayout()
        kinds.setSpacing(2)
        kinds.addWidget(self.percent)
        kinds.addWidget(self.flat)
        self.rate = money_edit("13")
        self.unit = QLabel("%")
        self.country = QLineEdit()
        self.country.setPlaceholderText("any (e.g. CA)")
        self.country.setMaxLength(2)
        self.country.setMaximumWidth(120)
        self.region = QLineEdit()
        self.region.setPlaceholderText("any (e.g. ON)")
        self.city = QLineEdit()
        self.city.setPlaceholderText("any")
        self.postal = QLineEdit()
        self.postal.setPlaceholderText("any (the start of the postal code, e.g. M5V)")
        self.gl_code = QLineEdit()
        self.gl_code.setMaximumWidth(200)
        self.position = QSpinBox()
        self.position.setRange(1, 99)
        self.enabled = QCheckBox("Charged")
        self.enabled.setChecked(True)
        self.add_row("Name", self.name, "name")
        if len(data.companies) > 1:
            self.add_row("Company", self.company, "company_id")
        self.add_row("Kind", kinds, "kind", self.percent)
        self.add_row("Rate", with_suffix(self.rate, self.unit), "rate", self.rate)
        zone_note = QLabel("A zone applies the tax only where every field filled in matches the account's address; "
                           "leave them all empty for a tax charged everywhere.")
        zone_note.setWordWrap(True)
        zone_note.setStyleSheet(f"color: {MUTED_COLOUR.name()};")
        self.form.addRow("", zone_note)
        self.add_row("Country", self.country, "country")
        self.add_row("Region", self.region, "region")
        self.add_row("City", self.city, "city")
        self.add_row("Postal code", self.postal, "postal_prefix")
        self.add_row("GL code", self.gl_code, "gl_code")
        self.add_row("Order on invoice", self.position, "position")
        self.add_row("Enabled", self.enabled)
        self.finish_layout()
        self.percent.toggled.connect(lambda _on: self._sync())
        self._fill(row)

    def _fill(self, row: TaxRow | None) -> None:
        if row is None:
            self.position.setValue(len([t for t in self.data.taxes]) + 1)
        else:
            self.name.setText(row.name)
            (self.percent if row.kind == cat.PERCENT else self.flat).setChecked(True)
            self.rate.setText(money.format_percent_milli(row.rate) if row.kind == cat.PERCENT
                              else money.format_minor(row.rate, row.currency).replace(",", ""))
            zone = row.zone or {}
            self.country.setText(zone.get("country", ""))
            self.region.setText(zone.get("region", ""))
            self.city.setText(zone.get("city", ""))
            self.postal.setText(zone.get("postal_prefix", ""))
            self.gl_code.setText(row.gl_code)
            self.position.setValue(row.position + 1)
            self.enabled.setChecked(row.enabled)
        self._sync()

    def _sync(self) -> None:
        percent = self.percent.isChecked()
        self.unit.setText("%" if percent else f"{self.data.currency(self.company.currentData())} per invoice")

    def collect(self) -> TaxInput:
        return TaxInput(
            name=self.name.text(), kind=cat.PERCENT if self.percent.isChecked() else cat.FLAT,
            rate_text=self.rate.text(), country=self.country.text(), region=self.region.text(),
            city=self.city.text(), postal_prefix=self.postal.text(), gl_code=self.gl_code.text(),
            company_id=self.company.currentData(), enabled=self.enabled.isChecked(),
            position=self.position.value() - 1,
        )

    def submit(self, data: TaxInput) -> TaxRow:
        row = self.row
        return cat.save_tax(self.ctx.uow(), self.ctx.actor, data, row.id if row else None,
                            row.version if row else None)


class UsagePolicyDialog(FormDialog):
    """Allowance in GB (1 TB = 1000 GB), rollover, overage per GB or block, top-ups, free
    periods (a weekday or every day, from–to)."""

    WEEKDAYS = [("Every day", None)] + [(name, n + 1) for n, name in enumerate(
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))]

    def __init__(self, ctx: AppContext, data: CatalogueData, row: UsagePolicyRow | None = None,
                 editable: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"Usage policy — {row.name}" if row else "New usage policy", editable, parent)
        self.setObjectName("UsagePolicyDialog")
        self.data, self.row = data, row
        currency = data.currency(None)
        self.name = QLineEdit()
        self.allowance = money_edit("500")
        self.rollover = QSpinBox()
        self.rollover.setRange(0, 60)
        self.rollover.setSpecialValueText("No rollover")
        self.rollover.setSuffix(" months")
        self.block = money_edit("1")
        self.overage_price = money_edit()
        self.topup = money_edit("0")
        self.topup_price = money_edit()
        self.add_row("Name", self.name, "name")
        self.add_row("Allowance", with_suffix(self.allowance, "GB per period (1 TB = 1000 GB)"), "allowance",
                     self.allowance)
        self.add_row("Unused allowance", with_suffix(self.rollover, "then expires"), "rollover_months")
        overage = QHBoxLayout()
        overage.addWidget(self.overage_price)
        overage.addWidget(QLabel(f"{currency} per"))
        overage.addWidget(self.block)
        overage.addWidget(QLabel("GB started"))
        overage.addStretch(1)
        self.add_row("Overage", overage, "overage_price", self.overage_price)
        self.alias("overage_block", "overage_price")
        topup = QHBoxLayout()
        topup.addWidget(self.topup)
        topup.addWidget(QLabel("GB for"))
        topup.addWidget(self.topup_price)
        topup.addWidget(QLabel(currency))
        topup.addStretch(1)
        self.add_row("Top-up", topup, "topup", self.topup)
        self.alias("topup_price", "topup")

        self.free_box = QGroupBox("Free periods (usage inside them never counts)")
        self.free = QTableWidget(0, 4)
        self.free.setObjectName("FreePeriods")
        self.free.setHorizontalHeaderLabels(("Day", "From", "To", ""))
        self.free.verticalHeader().hide()
        self.free.verticalHeader().setDefaultSectionSize(36)
        self.free.setShowGrid(False)
        self.free.setMinimumHeight(120)
        self.free.setStyleSheet("font-weight: normal;")
        self.free.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.free.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        add = QPushButton("Add free period")
        add.clicked.connect(lambda: self.add_period())
        self.free_error = FieldError()
        box = QVBoxLayout(self.free_box)
        box.addWidget(self.free)
        row_buttons = QHBoxLayout()
        row_buttons.addWidget(add)
        row_buttons.addStretch(1)
        box.addLayout(row_buttons)
        box.addWidget(self.free_error)
        self.body.addWidget(self.free_box)
        self.errors["free_periods"], self.focus["free_periods"] = self.free_error, self.free
        self.finish_layout()
        self._fill(row)

    def _fill(self, row: UsagePolicyRow | None) -> None:
        if row is None:
            self.block.setText("1")
            return
        self.name.setText(row.name)
        self.allowance.setText(_gb_text(row.allowance_mb))
        self.rollover.setValue(row.rollover_months)
        self.block.setText(_gb_text(row.overage_block_mb))
        self.overage_price.setText(money.format_minor(row.overage_price, row.currency).replace(",", ""))
        self.topup.setText(_gb_text(row.topup_mb))
        self.topup_price.setText(money.format_minor(row.topup_price, row.currency).replace(",", "")
                                 if row.topup_mb else "")
        for p in row.free_periods:
            self.add_period(p)

    def add_period(self, period: FreePeriodRow | None = None) -> int:
        row = self.free.rowCount()
        self.free.insertRow(row)
        day = QComboBox()
        for label, value in self.WEEKDAYS:
            day.addItem(label, value)
        start, end = QTimeEdit(), QTimeEdit()
        for edit in (start, end):
            edit.setDisplayFormat("HH:mm")
        start.setTime(QTime.fromString(period.start if period else "01:00", "HH:mm"))
        end.setTime(QTime.fromString(period.end if period else "07:00", "HH:mm"))
        if period is not None:
            day.setCurrentIndex(max(0, day.findData(period.weekday)))
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: self._remove_period(day))
        for col, w in enumerate((day, start, end, remove)):
            self.free.setCellWidget(row, col, w)
        return row

    def _remove_period(self, day: QComboBox) -> None:
        for row in range(self.free.rowCount()):
            if self.free.cellWidget(row, 0) is day:
                self.free.removeRow(row)
                return

    def periods(self) -> list[FreePeriodRow]:
        return [FreePeriodRow(self.free.cellWidget(r, 0).currentData(),
                              self.free.cellWidget(r, 1).time().toString("HH:mm"),
                              self.free.cellWidget(r, 2).time().toString("HH:mm"))
                for r in range(self.free.rowCount())]

    def collect(self) -> UsagePolicyInput:
        return UsagePolicyInput(
            name=self.name.text(), allowance_text=self.allowance.text(), rollover_months=self.rollover.value(),
            overage_block_text=self.block.text(), overage_price_text=self.overage_price.text(),
            topup_text=self.topup.text(), topup_price_text=self.topup_price.text(), free_periods=self.periods(),
        )

    def submit(self, data: UsagePolicyInput) -> UsagePolicyRow:
        row = self.row
        return cat.save_usage_policy(self.ctx.uow(), self.ctx.actor, data, row.id if row else None,
                                     row.version if row else None)


def _gb_text(mb: int) -> str:
    """MB → the GB figure typed back into a field ("1500" for 1.5 TB; "0.5" for 500 MB)."""
    whole, rest = divmod(mb, 1000)
    return str(whole) if not rest else f"{whole}.{rest:03d}".rstrip("0")


__all__ = [
    "CatalogueData", "CataloguePanel", "DiscountDialog", "FormDialog", "ListTab", "PackageDialog", "RowsModel",
    "ServiceDialog", "TaxDialog", "UsagePolicyDialog", "can_edit", "load_catalogue",
]
