"""Spreadsheet import of serviceable addresses, and export of addresses and accounts.

Reading and column guessing need no database; everything that writes runs on SQLite and on
PostgreSQL. The fixture tests/fixtures/messy_addresses.csv is what a building manager sends:
semicolons, a UTF-8 byte order mark, blank lines, shouting headers, one unit twice, a bad postal
code, a row with no street, a date nobody can read.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from app import demo
from app.accounts import service as accounts
from app.accounts.exporting import HEADERS as ACCOUNT_HEADERS
from app.accounts.exporting import export_accounts
from app.accounts.repository import AccountQuery, AccountSort
from app.addresses import service as addresses
from app.addresses.exporting import HEADERS as ADDRESS_HEADERS
from app.addresses.exporting import export_addresses
from app.addresses.importing import (
    FIELDS, ImportCancelled, ImportFileError, ImportPolicy, analyse, guess_mapping, import_addresses, parse_date,
    parse_floor, read_sheet, write_rejected,
)
from app.addresses.models import ServiceableAddress as A
from app.cli import main
from app.core.audit import AuditEntry
from app.core.errors import PermissionDenied, ValidationError
from app.core.export import ExportFormat
from app.core.permissions import Actor, Permission

MESSY = Path(__file__).resolve().parents[1] / "fixtures" / "messy_addresses.csv"
MESSY_REJECTED = [
    (5, "duplicate of row 2"),
    (7, "'12345' is not a Canadian postal code (A1A 1A1)."),
    (8, "Street is required."),
    (14, "'next week' is not a date; write it as YYYY-MM-DD."),
]


def _count(uow) -> int:  # noqa: ANN001
    with uow() as u:
        return u.session.scalar(select(func.count(A.id)))


def _all(uow) -> list[A]:  # noqa: ANN001
    with uow() as u:
        rows = list(u.session.scalars(select(A).order_by(A.id)))
        u.session.expunge_all()  # keep the loaded values after the unit of work ends
        return rows


def _messy_text() -> str:
    return MESSY.read_bytes().decode("utf-8-sig")


# -- reading, no database ----------------------------------------------------------------------

def test_the_messy_file_is_read_with_its_separator_encoding_and_true_row_numbers() -> None:
    sheet = read_sheet(MESSY)
    assert sheet.headers[:6] == ["Building Name", "STREET ADDRESS", "Apt", "City", "Province", "Postal Code"]
    assert (sheet.delimiter, sheet.encoding) == (";", "UTF-8")
    assert [n for n, _ in sheet.rows] == [2, 3, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15]  # blank lines 4 and 9 skipped
    assert sheet.rows[-1][1][3] == "Montréal"
    assert sheet.describe() == "12 rows · UTF-8 · semicolon-separated"


@pytest.mark.parametrize(("encoding", "delimiter"), [
    ("utf-16", "\t"), ("utf-16-le", ","), ("cp1252", ","), ("cp1252", "|"), ("utf-8", "\t"), ("latin-1", ";"),
])
def test_other_encodings_and_separators_read_the_same_rows(tmp_path: Path, encoding: str, delimiter: str) -> None:
    text = _messy_text().replace(";", delimiter)
    path = tmp_path / "variant.csv"
    path.write_bytes(text.encode(encoding))
    sheet, original = read_sheet(path), read_sheet(MESSY)
    assert sheet.delimiter == delimiter
    assert sheet.headers == original.headers
    assert sheet.rows == original.rows


def test_utf16_and_windows_1252_are_named(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(_messy_text(), encoding="utf-16")
    (tmp_path / "b.csv").write_text(_messy_text(), encoding="cp1252")
    assert read_sheet(tmp_path / "a.csv").encoding == "UTF-16"
    assert read_sheet(tmp_path / "b.csv").encoding == "Windows-1252"


def test_a_comma_file_with_commas_inside_quotes_is_still_comma_separated(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text('Address,City,Notes\n"12 Main St, rear",Boston,"gate code 1,2,3"\n1 A St,Boston,\n')
    sheet = read_sheet(path)
    assert sheet.delimiter == ","
    assert sheet.rows[0] == (2, ("12 Main St, rear", "Boston", "gate code 1,2,3"))


@pytest.mark.parametrize(("content", "name", "expected"), [
    (b"", "empty.csv", "is empty"),
    (b"\n\n  \r\n", "blank.csv", "is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" * 40, "photo.csv", "not a CSV file or an Excel workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", "Excel 97–2003 workbook"),
    (b"PK\x03\x04 this is not really a zip", "broken.xlsx", "is not a readable Excel workbook"),
])
def test_a_file_that_cannot_be_read_says_why(tmp_path: Path, content: bytes, name: str, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as err:
        read_sheet(path)
    assert expected in str(err.value)


def test_a_missing_file_or_a_folder_is_an_import_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="does not exist"):
        read_sheet(tmp_path / "nope.csv")
    with pytest.raises(ImportFileError, match="is a folder"):
        read_sheet(tmp_path)


@pytest.mark.parametrize(("header", "field"), [
    ("Address", "street"), ("Street address", "street"), ("Address Line 1", "street"), ("STREET ADDRESS", "street"),
    ("Apt", "unit"), ("Suite", "unit"), ("Unit #", "unit"), ("Apt/Suite", "unit"), ("Address line 2", "unit"),
    ("State", "region"), ("Province", "region"), ("State/province", "region"),
    ("ZIP", "postal_code"), ("Postcode", "postal_code"), ("Postal Code", "postal_code"), ("Zip/Postal", "postal_code"),
    ("Town", "city"), ("City", "city"), ("Available from", "serviceable_from"), ("Serviceable From", "serviceable_from"),
    ("Building Name", "building"), ("Property", "building"), ("Floor", "floor"), ("Level", "floor"),
    ("Country", "country"), ("Country code", "country"),
])
def test_the_mapping_is_guessed_from_common_header_names(header: str, field: str) -> None:
    mapping = guess_mapping(["Notes", header])
    assert mapping[field] == 1
    assert [f for f, i in mapping.items() if i is not None] == [field]


def test_each_column_is_guessed_for_one_field_and_email_addresses_are_not_streets() -> None:
    mapping = guess_mapping(["E-mail address", "Address", "Address 2", "Building address", "Town/City"])
    assert mapping["street"] == 1 and mapping["unit"] == 2 and mapping["city"] == 4
    assert 0 not in mapping.values() and 3 not in mapping.values()


@pytest.mark.parametrize(("cell", "want"), [
    ("2026-07-01", date(2026, 7, 1)), ("2026/7/1", date(2026, 7, 1)), ("2026-07-01 00:00:00", date(2026, 7, 1)),
    (datetime(2026, 7, 1, 0, 0), date(2026, 7, 1)), (date(2026, 7, 1), date(2026, 7, 1)),
    ("15/01/2026", date(2026, 1, 15)), ("01/15/2026", date(2026, 1, 15)), ("1 Jul 2026", date(2026, 7, 1)),
    ("July 1, 2026", date(2026, 7, 1)), (46204, date(2026, 7, 1)), ("", None), (None, None),
])
def test_dates_are_read_in_the_common_forms(cell, want) -> None:  # noqa: ANN001
    assert parse_date(cell) == want


def test_a_date_that_could_be_two_days_is_refused_with_both_readings() -> None:
    with pytest.raises(ValidationError) as err:
        parse_date("03/04/2026")
    assert str(err.value) == "'03/04/2026' could be 3 April or 4 March: write it as 2026-04-03 or 2026-03-04."
    with pytest.raises(ValidationError, match="'2026-02-30' is not a date"):
        parse_date("2026-02-30")


def test_floors_read_numbers_and_ordinals_only() -> None:
    assert [parse_floor(v) for v in (4, 4.0, "4", "4th", "12th floor", "Ground", "", None, "-1")] == \
        [4, 4, 4, 4, 12, 0, None, None, -1]
    with pytest.raises(ValidationError, match="Floor 'roof' is not a number"):
        parse_floor("roof")


# -- importing ---------------------------------------------------------------------------------

def test_the_messy_file_imports_the_good_rows_and_names_each_bad_one(uow, system) -> None:  # noqa: ANN001
    result = import_addresses(uow(), system, read_sheet(MESSY))
    assert result.rejected == MESSY_REJECTED
    assert (result.imported, result.unchanged, result.rows, result.buildings) == (8, 0, 12, 4)
    assert result.written and not result.dry_run
    assert _count(uow) == 8 + 4


def test_units_are_written_the_standard_way_under_one_building_each(uow, system) -> None:  # noqa: ANN001
    import_addresses(uow(), system, read_sheet(MESSY))
    rows = _all(uow)
    by_key = {(a.street, a.unit): a for a in rows}
    anchors = [a for a in rows if a.parent_id is None]
    assert sorted(a.street for a in anchors) == ["12 Harbour Road", "300 Rue Sainte-Catherine", "40 Elm Avenue",
                                                "7 Maple Drive", "88 Main Street"]
    assert all(a.unit == "" for a in anchors)
    harbour = by_key[("12 Harbour Road", "")]
    four_b = by_key[("12 Harbour Road", "4B")]
    assert four_b.parent_id == harbour.id and by_key[("12 Harbour Road", "5C")].parent_id == harbour.id
    assert (four_b.postal_code, four_b.country, four_b.floor, four_b.building) == ("K1A 0B1", "CA", 4, "Harbour Lofts")
    assert four_b.serviceable_from == date(2025, 3, 1)
    assert harbour.building == "Harbour Lofts"
    # The unit came before its building's own row: one building all the same, named by that row.
    maple = by_key[("7 Maple Drive", "")]
    assert by_key[("7 Maple Drive", "2A")].parent_id == maple.id
    assert maple.building == "Maple Terrace" and by_key[("7 Maple Drive", "2A")].building == "Maple Terrace"
    # "88 Main St" is "88 Main Street": the second unit finds the building the first one made.
    union = by_key[("88 Main Street", "")]
    assert by_key[("88 Main St", "102")].parent_id == union.id
    assert (by_key[("88 Main St", "102")].postal_code, by_key[("88 Main St", "102")].region) == ("02110-1234", "MA")
    # Versioned columns are filled as the ORM would.
    assert all(a.version == 1 and a.created_at and a.updated_at and a.match_key and a.search_text for a in rows)
    listed = {b.street: b.units for b in addresses.list_buildings(uow(), system)}
    assert listed == {"12 Harbour Road": 2, "40 Elm Avenue": 1, "7 Maple Drive": 1, "88 Main Street": 2,
                      "300 Rue Sainte-Catherine": 1}


def test_an_existing_building_is_found_not_made_again(uow, system) -> None:  # noqa: ANN001
    made = addresses.create_address(uow(), system, addresses.AddressInput(
        "12 Harbour Rd", "Ottawa", building="Harbour Lofts", country="CA"))
    result = import_addresses(uow(), system, read_sheet(MESSY))
    assert result.buildings == 3
    units = {a.unit: a for a in _all(uow) if a.street.startswith("12 Harbour")}
    assert units["4B"].parent_id == made.id and units["5C"].parent_id == made.id


def test_importing_the_same_file_again_adds_nothing(uow, system) -> None:  # noqa: ANN001
    import_addresses(uow(), system, read_sheet(MESSY))
    before = _count(uow)
    again = import_addresses(uow(), system, read_sheet(MESSY))
    assert (again.imported, again.unchanged, again.buildings) == (0, 8, 0)
    assert again.rejected == MESSY_REJECTED
    assert _count(uow) == before


def test_an_address_added_by_hand_counts_as_unchanged_however_it_is_spelled(uow, system) -> None:  # noqa: ANN001
    addresses.create_address(uow(), system, addresses.AddressInput(
        "12 harbour rd", "OTTAWA", unit="4-b", country="CA"))
    result = import_addresses(uow(), system, read_sheet(MESSY))
    assert (result.imported, result.unchanged) == (7, 1)


def test_all_or_nothing_writes_nothing_when_a_row_is_bad(uow, system) -> None:  # noqa: ANN001
    result = import_addresses(uow(), system, read_sheet(MESSY), policy=ImportPolicy.ALL_OR_NOTHING)
    assert result.rejected == MESSY_REJECTED
    assert (result.imported, result.new, result.written) == (0, 8, False)
    assert _count(uow) == 0
    with uow() as u:
        assert u.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.entity == "address")) == 0


def test_all_or_nothing_imports_a_file_without_bad_rows(uow, system, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "clean.csv"
    path.write_text("Street,Unit,City,State,ZIP\n1 Main St,1A,Boston,MA,02110\n1 Main St,1B,Boston,MA,02110\n")
    result = import_addresses(uow(), system, read_sheet(path), policy=ImportPolicy.ALL_OR_NOTHING)
    assert (result.imported, result.rejected, result.buildings, result.written) == (2, [], 1, True)
    assert _count(uow) == 3


def test_a_dry_run_counts_everything_and_writes_nothing(uow, system) -> None:  # noqa: ANN001
    result = import_addresses(uow(), system, read_sheet(MESSY), dry_run=True)
    assert (result.imported, result.unchanged, result.buildings, result.dry_run, result.written) == (8, 0, 4, True, False)
    assert result.rejected == MESSY_REJECTED
    assert _count(uow) == 0


def test_the_preview_shows_the_first_rows_with_their_status(uow, system) -> None:  # noqa: ANN001
    addresses.create_address(uow(), system, addresses.AddressInput("12 Harbour Road", "Ottawa", "5C", country="CA"))
    analysis = analyse(uow(), system, read_sheet(MESSY), preview=4)
    assert [(p.row, p.status, p.ok) for p in analysis.preview] == [
        (2, "New", True), (3, "Already known", True), (5, "duplicate of row 2", False), (6, "New", True)]
    assert analysis.preview[0].values["postal_code"] == "k1a0b1"
    assert (analysis.result.new, analysis.result.unchanged, len(analysis.result.rejected)) == (7, 1, 4)


def test_a_changed_mapping_changes_the_outcome(uow, system) -> None:  # noqa: ANN001
    sheet = read_sheet(MESSY)
    mapping = guess_mapping(sheet.headers)
    mapping["postal_code"] = None  # the bad postal code is no longer read
    result = import_addresses(uow(), system, sheet, mapping, dry_run=True)
    assert [r for r, _ in result.rejected] == [5, 8, 14]
    mapping["street"] = None
    with pytest.raises(ImportFileError, match="has no street column"):
        import_addresses(uow(), system, sheet, mapping, dry_run=True)


def test_a_cancel_half_way_through_writing_leaves_the_database_as_it_was(uow, system, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "big.csv"
    lines = ["Street,Unit,City,Province,Postal code,Country"]
    lines += [f"{b} King Street,{u},Toronto,ON,M5V 2T6,CA" for b in range(1, 51) for u in range(101, 201)]
    path.write_text("\n".join(lines))
    seen: list[tuple[int, int]] = []
    calls = [0]

    def check() -> None:
        calls[0] += 1
        if seen and seen[-1][0] > seen[-1][1] // 2 + 1000:  # well into writing
            raise ImportCancelled()

    with pytest.raises(ImportCancelled):
        import_addresses(uow(), system, read_sheet(path), progress=lambda d, t: seen.append((d, t)), check=check)
    assert seen[-1][0] > seen[-1][1] // 2  # rows had been inserted when it stopped
    assert _count(uow) == 0
    with uow() as u:
        assert u.session.scalar(select(func.count(AuditEntry.id))) == 0
    done = import_addresses(uow(), system, read_sheet(path))  # and the file imports fine afterwards
    assert (done.imported, done.buildings) == (5000, 50)


def test_one_audit_entry_for_the_whole_import(uow, admin) -> None:  # noqa: ANN001
    import_addresses(uow(), admin, read_sheet(MESSY))
    with uow() as u:
        entries = list(u.session.scalars(select(AuditEntry).where(AuditEntry.entity == "address")))
        updated_by = set(u.session.scalars(select(A.updated_by_id)))
        u.session.expunge_all()
    assert len(entries) == 1
    assert entries[0].action == "import" and entries[0].username == "alice"
    assert entries[0].after == {"file": "messy_addresses.csv", "rows": 12, "imported": 8, "unchanged": 0,
                                "rejected": 4, "buildings": 4, "policy": "valid-rows"}
    assert updated_by == {admin.user_id}


def test_importing_needs_the_right_to_edit_addresses(uow) -> None:  # noqa: ANN001
    viewer = Actor(None, "ro", "Read-only", frozenset({Permission.ADDRESSES_VIEW}))
    with pytest.raises(PermissionDenied):
        import_addresses(uow(), viewer, read_sheet(MESSY))
    assert import_addresses(uow(), viewer, read_sheet(MESSY), dry_run=True).imported == 8


def test_an_xlsx_with_dates_numbers_and_an_empty_row(uow, system, tmp_path: Path) -> None:  # noqa: ANN001
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Property", "Address", "Suite", "Floor", "Town", "State", "ZIP", "Country", "Available From"])
    sheet.append(["Union Flats", "88 Main Street", "Apt 101", 1, "Boston", "MA", 2110, "USA", date(2026, 7, 1)])
    sheet.append([])
    sheet.append(["Union Flats", "88 Main St", "#102", 1.0, "Boston", "MA", "02110", "US", datetime(2026, 7, 2, 0, 0)])
    sheet.append([None, "88 Main St", "#102", None, "Boston", "MA", "02110", "US", None])
    sheet.append(["Union Flats", "88 Main St", "103", "one", "Boston", "MA", "02110", "US", None])
    sheet.append(["The Oak", "9 Oak St", "", None, "Madison", "WI", 53703, "US", "2026-01-05"])
    path = tmp_path / "units.xlsx"
    workbook.save(path)

    read = read_sheet(path)
    assert [n for n, _ in read.rows] == [2, 4, 5, 6, 7]
    mapping = guess_mapping(read.headers)
    assert [mapping[f] for f in FIELDS] == list(range(9))
    result = import_addresses(uow(), system, read)
    assert result.rejected == [(5, "duplicate of row 4"), (6, "Floor 'one' is not a number.")]
    assert (result.imported, result.buildings) == (3, 1)
    rows = {a.unit: a for a in _all(uow) if a.street.startswith("88")}
    assert rows["101"].postal_code == "02110" and rows["101"].serviceable_from == date(2026, 7, 1)
    assert rows["102"].serviceable_from == date(2026, 7, 2) and rows["102"].floor == 1
    oak = next(a for a in _all(uow) if a.street == "9 Oak St")
    assert (oak.postal_code, oak.building) == ("53703", "The Oak")


def test_the_rejected_rows_are_saved_to_fix_and_import_again(uow, system, tmp_path: Path) -> None:  # noqa: ANN001
    sheet = read_sheet(MESSY)
    result = import_addresses(uow(), system, sheet)
    out = tmp_path / "rejected.csv"
    assert write_rejected(sheet, result.rejected, out) == 4
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0] == [*sheet.headers, "Source row", "Problem"]
    assert rows[2][1:3] == ["40 Elm Avenue", "Suite 211"] and rows[2][-2:] == ["7", MESSY_REJECTED[1][1]]
    again = read_sheet(out)  # the extra columns are not mapped: the same rows fail the same way
    assert guess_mapping(again.headers) == guess_mapping(sheet.headers)


# -- the command line ----------------------------------------------------------------------------

def _cli(capsys, *args: str) -> tuple[int, list[str], list[str]]:  # noqa: ANN001
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def test_cli_import_prints_each_bad_row_and_the_counts(db_url: str, uow, capsys) -> None:  # noqa: ANN001
    code, out, err = _cli(capsys, "--database", db_url, "import-addresses", str(MESSY))
    assert code == 1, err
    assert out == [f"row {n}: {reason}" for n, reason in MESSY_REJECTED] + ["imported 8, unchanged 0, rejected 4"]
    code, out, _ = _cli(capsys, "--database", db_url, "import-addresses", str(MESSY))
    assert code == 1 and out[-1] == "imported 0, unchanged 8, rejected 4"


def test_cli_import_of_a_clean_file_exits_0(db_url: str, uow, capsys, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "clean.csv"
    path.write_text("Street\tApt\tCity\tState\tZIP\n1 Main St\t1A\tBoston\tMA\t02110\n")
    code, out, _ = _cli(capsys, "--database", db_url, "import-addresses", str(path))
    assert (code, out) == (0, ["imported 1, unchanged 0, rejected 0"])
    assert _count(uow) == 2


def test_cli_dry_run_and_all_or_nothing_write_nothing(db_url: str, uow, capsys) -> None:  # noqa: ANN001
    code, out, _ = _cli(capsys, "--database", db_url, "import-addresses", str(MESSY), "--dry-run")
    assert code == 1 and out[-2:] == ["dry run: nothing was written", "imported 8, unchanged 0, rejected 4"]
    code, out, _ = _cli(capsys, "--database", db_url, "import-addresses", str(MESSY), "--all-or-nothing")
    assert code == 1 and out[-1] == "imported 0, unchanged 0, rejected 4"
    assert _count(uow) == 0


def test_cli_column_option_overrides_the_guess(db_url: str, uow, capsys) -> None:  # noqa: ANN001
    code, out, _ = _cli(capsys, "--database", db_url, "import-addresses", str(MESSY), "--dry-run",
                        "--column", "postal_code=none", "--column", "building=Country")
    assert code == 1 and out[:3] == ["row 5: duplicate of row 2", "row 8: Street is required.",
                                     "row 14: 'next week' is not a date; write it as YYYY-MM-DD."]


@pytest.mark.parametrize(("content", "expected"), [
    (b"", "riser: empty.csv is empty."),
    (b"Name,Phone\nAda,555\n", "riser: empty.csv has no street or city column (its header has 'Name', 'Phone')"),
])
def test_cli_a_file_it_cannot_read_exits_2_with_one_line(db_url: str, capsys, tmp_path: Path, content: bytes,
                                                          expected: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    code, out, err = _cli(capsys, "--database", db_url, "import-addresses", str(path))
    assert (code, out, len(err)) == (2, [], 1)
    assert err[0].startswith(expected)


# -- export ----------------------------------------------------------------------------------

def test_addresses_export_to_csv_and_xlsx_and_import_again_unchanged(uow, system, tmp_path: Path) -> None:  # noqa: ANN001
    import_addresses(uow(), system, read_sheet(MESSY))
    stream = io.StringIO()
    assert export_addresses(uow(), system, stream, ExportFormat.CSV) == 12
    rows = list(csv.reader(io.StringIO(stream.getvalue())))
    assert rows[0] == ADDRESS_HEADERS
    assert rows[1] == ["Harbour Lofts", "12 Harbour Road", "", "", "Ottawa", "ON", "K1A 0B1", "CA", "2025-03-01"]
    assert rows[2][:4] == ["Harbour Lofts", "12 Harbour Road", "4B", "4"]

    progress: list[tuple[int, int]] = []
    path = tmp_path / "addresses.xlsx"
    assert export_addresses(uow(), system, path, ExportFormat.XLSX, progress=lambda d, t: progress.append((d, t))) == 12
    assert progress[-1] == (12, 12)
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    values = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    assert list(values[0]) == ADDRESS_HEADERS
    assert values[2][:4] == ("Harbour Lofts", "12 Harbour Road", "4B", 4)
    assert values[1][8] == datetime(2025, 3, 1)
    # The export reads back as the same places: everything unchanged.
    for exported in (path, tmp_path / "addresses.csv"):
        if exported.suffix == ".csv":
            export_addresses(uow(), system, exported, ExportFormat.CSV)
        again = import_addresses(uow(), system, read_sheet(exported))
        assert (again.imported, again.unchanged, again.rejected) == (0, 12, [])


def test_a_formula_like_text_stays_text_in_a_workbook(uow, system, tmp_path: Path) -> None:  # noqa: ANN001
    addresses.create_address(uow(), system, addresses.AddressInput("1 Main St", "Boston", building="=1+1"))
    path = tmp_path / "a.xlsx"
    export_addresses(uow(), system, path, ExportFormat.XLSX)
    cell = openpyxl.load_workbook(path).worksheets[0]["A2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")


def test_accounts_export_follows_the_lists_query(uow, system, tmp_path: Path) -> None:  # noqa: ANN001
    demo.generate(uow(), system, 120, seed=4)
    query = AccountQuery(text="street", sort=AccountSort.NUMBER, descending=True)
    total = accounts.count_accounts(uow(), system, query)
    listed = accounts.list_accounts(uow(), system, query, 0, total)
    assert 0 < total < 130
    path = tmp_path / "accounts.csv"
    assert export_accounts(uow(), system, path, ExportFormat.CSV, query) == total
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ACCOUNT_HEADERS
    assert [r[0] for r in rows[1:]] == [a.number for a in listed]
    assert rows[1][1] == listed[0].name and rows[1][6] == listed[0].email

    xlsx = tmp_path / "accounts.xlsx"
    assert export_accounts(uow(), system, xlsx, ExportFormat.XLSX) >= 120
    values = list(openpyxl.load_workbook(xlsx, read_only=True).worksheets[0].iter_rows(values_only=True))
    everyone = accounts.list_accounts(uow(), system, AccountQuery(), 0, 1000)
    assert [v[1] for v in values[1:]] == [a.name for a in everyone]


def test_a_cancelled_export_leaves_no_file(uow, system, tmp_path: Path) -> None:  # noqa: ANN001
    demo.generate(uow(), system, 30, seed=2)

    def stop() -> None:
        raise ImportCancelled()

    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(ImportCancelled):
        export_accounts(uow(), system, folder / "accounts.xlsx", ExportFormat.XLSX, check=stop)
    assert list(folder.iterdir()) == []


def test_cli_export(db_url: str, uow, system, capsys, tmp_path: Path) -> None:  # noqa: ANN001
    import_addresses(uow(), system, read_sheet(MESSY))
    code, out, _ = _cli(capsys, "--database", db_url, "export", "addresses", "--format", "csv")
    assert code == 0 and out[0] == ",".join(ADDRESS_HEADERS) and len(out) == 13
    path = tmp_path / "addresses.xlsx"
    code, out, _ = _cli(capsys, "--database", db_url, "export", "addresses", "-o", str(path))
    assert (code, out) == (0, [f"exported 12 addresses to {path}"])
    assert openpyxl.load_workbook(path).worksheets[0].max_row == 13
    code, out, _ = _cli(capsys, "--database", db_url, "export", "accounts", "--format", "xlsx", "-o",
                        str(tmp_path / "accounts.xlsx"))
    assert (code, out) == (0, [f"exported 0 accounts to {tmp_path / 'accounts.xlsx'}"])
    code, out, err = _cli(capsys, "--database", db_url, "export", "accounts", "--format", "xlsx")
    assert code == 2 and err == ["riser: an Excel workbook cannot go to standard output: add -o FILE.xlsx"]


def test_no_qt_is_imported_by_import_and_export_on_the_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    db = str(tmp_path / "q.sqlite")
    code = (
        "import sys; from app.cli import main; "
        f"assert main(['--database', {db!r}, 'import-addresses', {str(MESSY)!r}]) == 1; "
        f"assert main(['--database', {db!r}, 'export', 'accounts', '-o', {str(tmp_path / 'a.xlsx')!r}]) == 0; "
        "assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt was imported'; print('clean')"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "clean"
