"""The command line, run as a real process: what an administrator types, and what it prints."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pgcluster import PASSWORD_ROLE

ROOT = Path(__file__).resolve().parents[2]


def riser(*args: str, stdin: str = "", env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("QT_QPA_PLATFORM", None)
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, env=full_env, timeout=timeout)


def _one_clean_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_version() -> None:
    result = riser("--version")
    assert result.returncode == 0 and result.stdout.startswith("Riser ")


def test_db_upgrade_user_add_and_demo_on_a_new_file(tmp_path: Path) -> None:
    db = str(tmp_path / "office.sqlite")
    assert "empty" in riser("--database", db, "db", "status").stdout
    up = riser("--database", db, "db", "upgrade")
    assert up.returncode == 0 and "upgraded" in up.stdout
    assert "already current" in riser("--database", db, "db", "upgrade").stdout
    add = riser("--database", db, "user", "add", "frontdesk", "--role", "Support", stdin="a long password\n")
    assert add.returncode == 0, add.stderr
    assert "added frontdesk (Support)" in add.stdout
    demo = riser("--database", db, "demo", "--accounts", "150", "--seed", "3")
    assert demo.returncode == 0, demo.stderr
    assert "150 accounts" in demo.stdout
    # The database already had a user, so no demo administrator is made.
    assert "sign in as" not in demo.stdout
    listing = riser("--database", db, "user", "list")
    assert "frontdesk" in listing.stdout and "Support" in listing.stdout


def test_demo_makes_the_administrator_the_readme_names(tmp_path: Path) -> None:
    result = riser("--database", str(tmp_path / "demo.sqlite"), "demo", "--accounts", "40")
    assert result.returncode == 0, result.stderr
    assert "sign in as 'admin' with password 'riser-demo'" in result.stdout


def test_the_environment_variable_chooses_the_database(tmp_path: Path) -> None:
    db = tmp_path / "env.sqlite"
    result = riser("db", "upgrade", env={"RISER_DATABASE_URL": str(db)})
    assert result.returncode == 0 and db.exists()


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (["user", "add", "bob", "--role", "Janitor"], "long enough pw\n", "no role 'Janitor'"),
        (["user", "add", "bob", "--role", "Support"], "", "No password on standard input"),
        (["user", "add", "bob", "--role", "Support"], "short\n", "at least 8 characters"),
        (["demo", "--accounts", "0"], "", "--accounts is a number"),
        (["bogus"], "", "invalid choice"),
        (["demo", "--accounts", "many"], "", "invalid int value"),
    ],
)
def test_bad_input_gets_one_clear_line_and_a_non_zero_exit(tmp_path, args, stdin, expected) -> None:  # noqa: ANN001
    line = _one_clean_line(riser("--database", str(tmp_path / "x.sqlite"), *args, stdin=stdin))
    assert expected in line


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://root@localhost/riser", "SQLite or PostgreSQL, not 'mysql'"),
        ("postgresql+psycopg://riser@127.0.0.1:1/riser", "Cannot reach PostgreSQL at 127.0.0.1:1 (connection refused)"),
        ("/no/such/folder/riser.sqlite", "folder /no/such/folder does not exist"),
        ("postgresql://:::", "not a database URL"),
    ],
)
def test_a_wrong_or_unreachable_database_is_one_clear_line(url: str, expected: str) -> None:
    assert expected in _one_clean_line(riser("--database", url, "db", "status"))


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("shopping list: milk, eggs" * 100)
    assert "is not a Riser database" in _one_clean_line(riser("--database", str(bogus), "db", "status"))


def test_a_locked_sqlite_file_is_reported_and_nothing_is_half_written(tmp_path: Path) -> None:
    db = str(tmp_path / "locked.sqlite")
    assert riser("--database", db, "db", "upgrade").returncode == 0
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        line = _one_clean_line(riser("--database", db, "user", "add", "bob", "--role", "Support",
                                     stdin="long enough pw\n"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "locked by another program" in line
    assert "bob" not in riser("--database", db, "user", "list").stdout


def test_no_qt_is_imported_on_command_line_paths(tmp_path: Path) -> None:
    code = (
        "import sys; from app.cli import main; "
        f"rc = main(['--database', {str(tmp_path / 'q.sqlite')!r}, 'demo', '--accounts', '20']); "
        "assert rc == 0, rc; "
        "assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt was imported'; print('clean')"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "clean" in result.stdout


@pytest.mark.postgres
def test_postgres_is_set_up_only_by_db_upgrade(empty_pg_url: str) -> None:
    status = riser("--database", empty_pg_url, "user", "list")
    assert "python main.py --database URL db upgrade" in _one_clean_line(status)
    assert riser("--database", empty_pg_url, "db", "upgrade").returncode == 0
    add = riser("--database", empty_pg_url, "user", "add", "pat", "--role", "Billing", stdin="long enough pw\n")
    assert add.returncode == 0, add.stderr


@pytest.mark.postgres
def test_a_wrong_postgres_password_is_one_clear_line(pg_url: str) -> None:
    url = pg_url.replace("riser@", f"{PASSWORD_ROLE}:wrong-password@")
    line = _one_clean_line(riser("--database", url, "db", "status"))
    assert f"refused the password for user '{PASSWORD_ROLE}'" in line
    assert "wrong-password" not in line


@pytest.mark.postgres
def test_the_cli_never_prints_or_logs_the_password(pg_url: str, tmp_path: Path) -> None:
    from tests.pgcluster import PASSWORD_ROLE_SECRET

    url = pg_url.replace("riser@", f"{PASSWORD_ROLE}:{PASSWORD_ROLE_SECRET}@")
    logs = tmp_path / "logs"
    result = riser("--database", url, "db", "status", env={"RISER_LOG_DIR": str(logs)})
    assert result.returncode == 0, result.stderr
    assert PASSWORD_ROLE_SECRET not in result.stdout + result.stderr
    log_text = (logs / "riser.log").read_text()
    assert "opened database PostgreSQL" in log_text
    assert PASSWORD_ROLE_SECRET not in log_text


