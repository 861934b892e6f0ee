"""``python main.py inventory import|find``, run as a real process on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditEntry
from app.inventory import catalogue, service
from app.inventory.catalogue import FieldSpec, LocationInput, ModelInput
from app.inventory.importing import Places, guess_columns, parse_quantity, parse_state
from app.inventory.models import FAULTY, IN_STOCK, Item, Movement, Stock
from tests.integration.test_cli import riser

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "inventory_items.csv"

EXPECTED_ROWS = [
    "row 4: MAC address “24-5A-4C-00-00-3” has 11 hex digits; a MAC address has 12.",
    "row 6: IMEI “356938035643801” has a wrong check digit (the last digit).",
    "row 7: Serial number UX0001 is already in row 2.",
    ("row 8: Unknown manufacturer “Acme”: add it and its models to the catalogue first (an import does not "
     "create models)."),
    ("row 9: No location “Main warehouse / Shelf Z”: use a location's code or its full path "
     "(e.g. Main warehouse › Shelf A)."),
]


@pytest.fixture()
def stocked(uow, system) -> dict[str, int]:  # noqa: ANN001
    """The catalogue and locations the fixture file names: a router, an LTE modem, an ONT with a
    GPON SN field, cable by the metre; Main warehouse › Shelf A (WH-A) and Van 1 (VAN1)."""
    mac, serial = FieldSpec("mac", "MAC address", "mac", True), FieldSpec("serial", "Serial number", "serial", True)
    for data in (
        ModelInput("Ubiquiti", "Router", "UniFi Express", fields=(mac, serial)),
        ModelInput("Zyxel", "Router", "LTE3301-PLUS", fields=(FieldSpec("imei", "IMEI", "imei", True),
                                                              FieldSpec("imsi", "IMSI", "imsi"))),
        ModelInput("Nokia", "ONT", "G-010G-Q", fields=(mac, serial, FieldSpec("gpon_sn", "GPON SN", "custom", False,
                                                                              "[A-Z]{4}[0-9A-F]{8}"))),
        ModelInput("Belden", "Cable", "Cat6 cable", tracking="quantity", unit="m", min_stock=500),
    ):
        catalogue.save_model(uow(), system, data)
    warehouse = catalogue.save_location(uow(), system, LocationInput("Main warehouse", "warehouse", code="WH"))
    shelf = catalogue.save_location(uow(), system, LocationInput("Shelf A", "shelf", warehouse.id, code="WH-A"))
    van = catalogue.save_location(uow(), system, LocationInput("Van 1", "van", code="VAN1"))
    return {"shelf": shelf.id, "van": van.id}


def _counts(uow) -> tuple[int, int, int]:  # noqa: ANN001
    with uow() as u:
        s = u.session
        return (s.scalar(select(func.count(Item.id))), s.scalar(select(func.count(Movement.id))),
                s.scalar(select(func.coalesce(func.sum(Stock.quantity), 0))))


def _lines(result: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout.strip().splitlines()


def test_the_fixture_file_imports_its_good_rows_and_names_each_bad_one(db_url, uow, system, stocked) -> None:  # noqa: ANN001
    result = riser("--database", db_url, "inventory", "import", str(FIXTURE))
    assert result.returncode == 1, result.stderr
    assert _lines(result) == [*EXPECTED_ROWS, "ignored columns: Purchase order", "imported 7, rejected 5"]
    items, movements, metres = _counts(uow)
    # Five items received, two of them then marked faulty; two cable receipts.
    assert (items, movements, metres) == (5, 5 + 2 + 2, 355)
    by_mac = service.find_code(uow(), system, "245a4c000002").items
    assert [(i.model, i.state, i.holder) for i in by_mac] == [
        ("Ubiquiti UniFi Express", IN_STOCK, "Main warehouse › Shelf A")]
    (ont,) = service.find_code(uow(), system, "alcl1c4e0001").items
    assert ont.state == FAULTY and ont.notes == "returned by a tenant"
    assert [m.description for m in service.item_history(uow(), system, ont.id)] == [
        "Marked faulty", "Received into Main warehouse › Shelf A"]
    (modem,) = service.find_code(uow(), system, "356938035643809").items
    assert modem.holder == "Van 1" and modem.identifier("imsi") == "302720123456789"
    assert service.find_code(uow(), system, "UX0013").items[0].state == FAULTY
    with uow() as u:
        entry = u.session.scalars(select(AuditEntry).where(AuditEntry.entity == "inventory")).one()
        assert entry.after["imported"] == 7 and entry.after["rejected"] == 5

    # The same file again: every item is already there; the cable is received once more.
    again = riser("--database", db_url, "inventory", "import", str(FIXTURE))
    assert again.returncode == 1
    lines = _lines(again)
    assert "row 2: MAC address 24:5A:4C:00:00:01 is already on item I-000001." in lines
    assert lines[-1] == "imported 2, rejected 10"


def test_a_dry_run_reports_the_same_and_writes_nothing(db_url, uow, stocked) -> None:  # noqa: ANN001
    result = riser("--database", db_url, "inventory", "import", str(FIXTURE), "--dry-run")
    assert result.returncode == 1
    assert _lines(result) == [*EXPECTED_ROWS, "ignored columns: Purchase order",
                              "imported 7, rejected 5 (dry run: nothing written)"]
    assert _counts(uow) == (0, 0, 0)


def test_all_or_nothing_writes_nothing_when_a_row_is_bad(db_url, uow, stocked) -> None:  # noqa: ANN001
    result = riser("--database", db_url, "inventory", "import", str(FIXTURE), "--all-or-nothing")
    assert result.returncode == 1
    lines = _lines(result)
    assert lines[:5] == EXPECTED_ROWS
    assert lines[-2:] == ["nothing was written: 5 bad rows and --all-or-nothing", "imported 0, rejected 5"]
    assert _counts(uow) == (0, 0, 0)


def test_a_clean_file_with_a_default_location_exits_zero(db_url, uow, system, stocked, tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "two.csv"
    path.write_text("make,model,S/N,MAC\nUbiquiti,UniFi Express,UX7001,24:5A:4C:00:70:01\n"
                    "Ubiquiti,UniFi Express,UX7002,24:5A:4C:00:70:02\n", encoding="utf-8")
    result = riser("--database", db_url, "inventory", "import", str(path), "--location", "van1", "--all-or-nothing")
    assert result.returncode == 0, result.stderr
    assert _lines(result) == ["imported 2, rejected 0"]
    assert {i.holder for i in service.first_items_page(uow(), system, service.ItemQuery(), 10)[1]} == {"Van 1"}


def test_find_shows_an_item_by_its_mac_in_another_format_and_a_location_by_its_code(db_url, stocked) -> None:  # noqa: ANN001
    assert riser("--database", db_url, "inventory", "import", str(FIXTURE)).returncode == 1
    found = riser("--database", db_url, "inventory", "find", "245a.4c00.0001")
    assert found.returncode == 0, found.stderr
    assert _lines(found) == ["I-000001  Ubiquiti UniFi Express", "  state: In stock",
                             "  where: Main warehouse › Shelf A", "  MAC address: 24:5A:4C:00:00:01",
                             "  Serial number: UX0001"]
    place = riser("--database", db_url, "inventory", "find", "wh-a")
    assert place.returncode == 0
    assert _lines(place) == ["location WH-A  Main warehouse › Shelf A", "  kind: shelf", "  items here: 3"]
    missing = riser("--database", db_url, "inventory", "find", "ZZ-404")
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.strip() == "riser: No item or location has the code ZZ-404."


@pytest.mark.parametrize(
    ("content", "args", "expected"),
    [
        (None, [], "does not exist"),
        ("Serial,MAC\nX1,24:5A:4C:00:00:01\n", [], "has no manufacturer or model column"),
        ("Manufacturer,Model,Serial\nUbiquiti,UniFi Express,X1\n", [], "has no location column"),
        ("Manufacturer,Model,Serial\nUbiquiti,UniFi Express,X1\n", ["--location", "NOWHERE"],
         "No location has the code or path “NOWHERE”"),
        ("\x00\x01\x02PK binary junk\x00", [], "is not a CSV file"),
    ],
)
def test_a_file_that_cannot_be_imported_is_one_line_and_exit_2(sqlite_url_fresh, tmp_path, content, args,  # noqa: ANN001
                                                                expected) -> None:
    path = tmp_path / "items.csv"
    if content is not None:
        path.write_text(content, encoding="latin-1")
    result = riser("--database", sqlite_url_fresh, "inventory", "import", str(path), *args)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr


# -- the small pieces, without a process -------------------------------------------------------

def test_headers_are_matched_whatever_their_case_with_synonyms_and_custom_fields() -> None:
    columns = guess_columns(["MAKE", "Model", "Where", "S/N", "Mac Address", "GPON SN", "Qty", "Status", "Cost"],
                            {"gpon_sn"})
    assert columns.fixed == {"manufacturer": 0, "model": 1, "location": 2, "quantity": 6, "state": 7}
    assert [(c.key, c.kind) for c in columns.identifiers] == [("s_n", "serial"), ("mac_address", "mac"),
                                                             ("gpon_sn", None)]
    assert columns.ignored == ("Cost",)


def test_states_and_quantities_are_read_as_people_write_them() -> None:
    assert [parse_state(s) for s in ("", "In stock", "NEW", "faulty", "Broken")] == [
        IN_STOCK, IN_STOCK, IN_STOCK, FAULTY, FAULTY]
    assert [parse_quantity(q) for q in ("", "12", "1,000", "1 500")] == [None, 12, 1000, 1500]
    with pytest.raises(Exception, match="not a whole number"):
        parse_quantity("2.5")
    with pytest.raises(Exception, match="use “in stock” or “faulty”"):
        parse_state("installed")


def test_a_location_is_found_by_code_path_with_any_separator_or_a_unique_name(uow, system, stocked) -> None:  # noqa: ANN001
    places = Places(catalogue.list_locations(uow(), system))
    shelf = stocked["shelf"]
    for text in ("WH-A", "wh-a", "Main warehouse › Shelf A", "main warehouse > shelf a", "Main warehouse/Shelf A",
                 "Shelf A"):
        assert places.find(text).id == shelf, text
    assert places.find("Shelf B") is None and places.find("Van 1").id == stocked["van"]
