"""Usage records from CSV: good rows in, each bad row named, a re-import adds nothing, a dry run
writes nothing, sizes in MB/GB/TB (1 TB = 1000 GB) — on both databases, and from the command line."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.accounts import service as accounts
from app.billing import usage
from app.billing.models import UsageRecord, UsageTopUp
from app.core.errors import PermissionDenied, ValidationError
from app.core.permissions import BUILTIN_ROLES, Actor
from tests.integration.test_cli import riser

FIXTURE = Path(__file__).parents[1] / "fixtures" / "usage.csv"
EXPECTED_ROWS = [
    "row 6: unknown account 999999",
    "row 7: start “not a date” is not a date and time: use YYYY-MM-DD HH:MM (ISO 8601)",
    "row 8: negative download -5 MB: usage cannot be negative",
    "row 9: end 2026-10-07T09:00 is before start 2026-10-07T10:00",
    "row 10: download “12 parsecs”: unknown unit parsecs (use KB, MB, GB or TB; 1 TB = 1000 GB)",
]


@pytest.fixture()
def tenants(uow, system):  # noqa: ANN001, ANN201
    """Accounts 100001 and 100002 (the numbers the fixture file uses)."""
    lookups = accounts.lookups(uow(), system)
    active = next(s.id for s in lookups.statuses if s.name == "Active")
    residential = next(t.id for t in lookups.types if t.name == "Residential")
    made = [accounts.create_account(uow(), system, accounts.NewAccount(name=name, type_id=residential,
                                                                      status_id=active))
            for name in ("Owen White", "Mia Chen")]
    assert [a.number for a in made] == ["100001", "100002"]
    return made


def _records(uow) -> list[tuple]:  # noqa: ANN001
    with uow() as u:
        return list(u.session.execute(
            select(UsageRecord.account_id, UsageRecord.started_at, UsageRecord.ended_at, UsageRecord.download_mb,
                   UsageRecord.upload_mb, UsageRecord.source).order_by(UsageRecord.account_id, UsageRecord.started_at)))


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _write(tmp_path: Path, text: str, name: str = "usage.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_the_fixture_imports_its_good_rows_parses_the_units_and_names_each_bad_row(uow, system, tenants) -> None:  # noqa: ANN001
    owen, mia = tenants
    result = usage.import_usage(uow(), system, FIXTURE)
    assert result.row_lines == EXPECTED_ROWS
    assert result.summary() == "imported 4, unchanged 0, rejected 5"
    assert _records(uow) == [
        (owen.id, _utc(2026, 10, 3, 1, 15), _utc(2026, 10, 3, 5, 40), 1500, 120, "import"),
        (owen.id, _utc(2026, 10, 3, 18, 0), _utc(2026, 10, 3, 23, 30), 800, 45, "import"),
        # +02:00 is converted; no end: a single reading; 2 TB = 2,000,000 MB; 0.5 GB = 500 MB.
        (mia.id, _utc(2026, 10, 4, 18, 0), _utc(2026, 10, 4, 18, 0), 2_000_000, 500, "import"),
        # A date alone is midnight; "1,250 MB" is grouped; 1500 kB = 1.5 MB rounds half-even to 2.
        (mia.id, _utc(2026, 10, 5, 0, 0), _utc(2026, 10, 5, 12, 0), 1250, 2, "import"),
    ]


def test_importing_the_same_file_again_adds_nothing(uow, system, tenants) -> None:  # noqa: ANN001
    usage.import_usage(uow(), system, FIXTURE)
    before = _records(uow)
    again = usage.import_usage(uow(), system, FIXTURE)
    assert again.summary() == "imported 0, unchanged 4, rejected 5"
    assert _records(uow) == before


def test_a_dry_run_checks_every_row_and_writes_nothing(uow, system, tenants) -> None:  # noqa: ANN001
    result = usage.import_usage(uow(), system, FIXTURE, dry_run=True)
    assert (result.dry_run, result.summary()) == (True, "imported 4, unchanged 0, rejected 5")
    assert result.row_lines == EXPECTED_ROWS
    assert _records(uow) == []
    with uow() as u:
        from app.core.audit import AuditEntry

        assert u.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.entity == "billing_usage")) == 0


def test_semicolons_no_bom_a_decimal_comma_and_header_aliases_are_understood(uow, system, tenants, tmp_path) -> None:  # noqa: ANN001
    owen, _mia = tenants
    path = _write(tmp_path, "Account number;Started at;Ended at;Download MB;Upload MB\r\n"
                            "100001;2026-10-10T08:00:00Z;2026-10-10T09:00:00Z;1,5 GB;2 tb\r\n"
                            "\r\n"
                            "100001;2026-10-11T08:00;;250;\r\n")
    result = usage.import_usage(uow(), system, path)
    assert (result.summary(), result.row_lines) == ("imported 2, unchanged 0, rejected 0", [])
    assert _records(uow) == [
        (owen.id, _utc(2026, 10, 10, 8), _utc(2026, 10, 10, 9), 1500, 2_000_000, "import"),
        (owen.id, _utc(2026, 10, 11, 8), _utc(2026, 10, 11, 8), 250, 0, "import"),
    ]


def test_other_amounts_for_a_span_already_imported_are_refused_not_overwritten(uow, system, tenants,  # noqa: ANN001
                                                                              tmp_path) -> None:
    usage.import_usage(uow(), system, FIXTURE)
    before = _records(uow)
    path = _write(tmp_path, "account,start,end,download,upload\n100001,2026-10-03T01:15:00,2026-10-03T05:40:00,9 GB,1\n"
                            "100001,2026-10-03 18:00,2026-10-03 23:30,800 MB,45\n")
    result = usage.import_usage(uow(), system, path)
    assert result.summary() == "imported 0, unchanged 1, rejected 1"
    assert result.row_lines == [
        ("row 2: account 100001 from 2026-10-03 01:15:00 was already imported with other amounts (1,500 MB down, "
         "120 MB up); a correction is a new record, the old one is kept")]
    assert _records(uow) == before


def test_a_span_twice_in_one_file_is_refused_the_second_time(uow, system, tenants, tmp_path) -> None:  # noqa: ANN001
    path = _write(tmp_path, "account,start,download,upload\n100001,2026-10-03T10:00,1,1\n100001,2026-10-03T10:00,2,2\n")
    result = usage.import_usage(uow(), system, path)
    assert result.summary() == "imported 1, unchanged 0, rejected 1"
    assert result.row_lines == ["row 3: account 100001 from 2026-10-03 10:00:00 is already in row 2"]


@pytest.mark.parametrize(("text", "mb"), [
    ("800 MB", 800), ("1.5 GB", 1500), ("2 TB", 2_000_000), ("250", 250), ("", 0), ("0.5 MB", 0), ("1.5 MB", 2),
    ("2.5 MB", 2), ("1 tb", 1_000_000), ("750 kB", 1), ("1,5 GB", 1500), ("1,500 GB", 1_500_000), ("3G", 3000),
])
def test_sizes_are_decimal_megabytes_rounded_half_even(text: str, mb: int) -> None:
    assert usage.parse_mb(text) == mb


@pytest.mark.parametrize(("text", "reason"), [
    ("-1 GB", "negative amount -1 GB: usage cannot be negative"),
    ("lots", "amount “lots” is not a size: write MB, or a number with MB, GB or TB"),
    ("5 GiB", "amount “5 GiB”: unknown unit GiB (use KB, MB, GB or TB; 1 TB = 1000 GB)"),
])
def test_a_bad_size_says_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=r"^") as caught:
        usage.parse_mb(text)
    assert str(caught.value) == reason


def test_a_file_that_cannot_be_imported_says_why_and_writes_nothing(uow, system, tenants, tmp_path) -> None:  # noqa: ANN001
    no_account = _write(tmp_path, "start,download,upload\n2026-10-03T10:00,1,1\n", "a.csv")
    with pytest.raises(usage.UsageFileError, match="has no account column"):
        usage.import_usage(uow(), system, no_account)
    latin = _write(tmp_path, "account,start,download,upload\n100001,2026-10-03T10:00,1,1 Mö\n", "b.csv", "latin-1")
    with pytest.raises(usage.UsageFileError, match="is not UTF-8"):
        usage.import_usage(uow(), system, latin)
    with pytest.raises(usage.UsageFileError, match="There is no file"):
        usage.import_usage(uow(), system, tmp_path / "missing.csv")
    assert _records(uow) == []


def test_only_staff_who_edit_billing_import_usage(uow, tenants) -> None:  # noqa: ANN001
    viewer = Actor(None, "viewer", "Viewer", frozenset(p for p in BUILTIN_ROLES["Administrator"][1]
                                                       if p.value != "billing.edit"))
    with pytest.raises(PermissionDenied):
        usage.import_usage(uow(), viewer, FIXTURE)


def test_a_top_up_is_recorded_for_the_next_bill_and_bad_ones_are_refused(uow, system, tenants) -> None:  # noqa: ANN001
    owen, _mia = tenants
    row = usage.add_topup(uow(), system, owen.id, 10_000, 1500, date(2026, 10, 12))
    with uow() as u:
        stored = u.session.get(UsageTopUp, row.id)
        assert (stored.account_id, stored.mb, stored.price, stored.bought_on, stored.invoiced) == \
            (owen.id, 10_000, 1500, date(2026, 10, 12), False)
    with pytest.raises(ValidationError, match="at least 1 MB"):
        usage.add_topup(uow(), system, owen.id, 0, 1500, date(2026, 10, 12))
    with pytest.raises(ValidationError, match="cannot be negative"):
        usage.add_topup(uow(), system, owen.id, 1000, -1, date(2026, 10, 12))


# -- the command line, as a real process ---------------------------------------------------------

def _lines(result: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout.strip().splitlines()


def test_the_command_line_imports_reports_and_exits_like_the_other_imports(db_url, uow, tenants, tmp_path) -> None:  # noqa: ANN001
    dry = riser("--database", db_url, "usage", "import", str(FIXTURE), "--dry-run")
    assert dry.returncode == 1
    assert _lines(dry) == [*EXPECTED_ROWS, "dry run: nothing was written", "imported 4, unchanged 0, rejected 5"]
    assert _records(uow) == []

    first = riser("--database", db_url, "usage", "import", str(FIXTURE))
    assert (first.returncode, _lines(first)) == (1, [*EXPECTED_ROWS, "imported 4, unchanged 0, rejected 5"])
    again = riser("--database", db_url, "usage", "import", str(FIXTURE))
    assert _lines(again)[-1] == "imported 0, unchanged 4, rejected 5"
    assert len(_records(uow)) == 4

    good = _write(tmp_path, "account,start,download,upload\n100002,2026-10-20T21:00,3 GB,100 MB\n")
    ok = riser("--database", db_url, "usage", "import", str(good))
    assert (ok.returncode, _lines(ok)) == (0, ["imported 1, unchanged 0, rejected 0"])

    missing = riser("--database", db_url, "usage", "import", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.strip().splitlines() == [f"riser: There is no file at {tmp_path / 'nope.csv'}."]
