"""The command line, over the same services the GUI uses. No Qt is imported on these paths.

    python main.py [--database URL] [COMMAND …]     (no command opens the desktop app)

Bad input gives one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Sequence

from app import __version__
from app.core import logs, schema
from app.core.db import Database, open_database, resolve_url
from app.core.errors import RiserError, ValidationError
from app.core.permissions import BUILTIN_ROLES, Actor
from app.core.secrets import SecretStore

log = logging.getLogger(__name__)


class CliError(Exception):
    """Wrong use of the command line: exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + error
        raise CliError(f"{message} (see: python main.py --help)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python main.py", description="Riser: internet service operations for multi-dwelling units.")
    p.add_argument("--database", metavar="URL",
                   help="a SQLite file path or sqlite:///PATH, or postgresql+psycopg://USER@HOST:PORT/DB "
                        "(default: $RISER_DATABASE_URL, then Settings, then the local file)")
    p.add_argument("--version", action="version", version=f"Riser {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("gui", help="open the desktop app (the default)")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True, parser_class=_Parser)
    db_sub.add_parser("upgrade", help="create or upgrade the schema (the only way a shared Postgres is upgraded)")
    db_sub.add_parser("status", help="show which schema the database has")

    user = sub.add_parser("user", help="staff users")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True, parser_class=_Parser)
    add = user_sub.add_parser("add", help="add a staff user; the password is read from standard input")
    add.add_argument("name")
    add.add_argument("--role", required=True, help="one of: " + ", ".join(BUILTIN_ROLES))
    add.add_argument("--full-name", default="")
    unlock = user_sub.add_parser("unlock", help="clear a lock-out after failed sign-ins")
    unlock.add_argument("name")
    user_sub.add_parser("list", help="list staff users")

    demo = sub.add_parser("demo", help="fill an empty database with realistic demo data")
    demo.add_argument("--accounts", type=int, default=2000, help="about how many accounts (default 2000)")
    demo.add_argument("--seed", type=int, default=1, help="same seed, same data (default 1)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except CliError as exc:
        print(f"riser: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0)
    try:
        logs.configure()
    except OSError:
        pass  # a read-only home should not stop the command line
    if args.command in (None, "gui"):
        from app.ui.app import run_gui  # Qt only from here on

        return run_gui(args.database)
    try:
        return _run(args)
    except RiserError as exc:
        print(f"riser: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("riser: interrupted; nothing was saved", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: one line here, the traceback in the log
        log.exception("unexpected error in %s", args.command)
        print(f"riser: unexpected error: {exc} (details in {logs.log_file()})", file=sys.stderr)
        return 1


def _open(args: argparse.Namespace) -> Database:
    return open_database(resolve_url(args.database), SecretStore())


def _ready(args: argparse.Namespace) -> Database:
    db = _open(args)
    schema.prepare_for_use(db)
    if db.read_only_reason:
        print(f"riser: warning: {db.read_only_reason}", file=sys.stderr)
    return db


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise ValidationError("The two passwords differ.")
        return first
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise ValidationError("No password on standard input (pipe it in, e.g. printf '%s\\n' \"$PW\" | …).")
    return password


def _run(args: argparse.Namespace) -> int:
    from app.uow import UnitOfWork

    if args.command == "db":
        db = _open(args)
        try:
            if args.db_command == "upgrade":
                before = schema.inspect_schema(db)
                state = schema.upgrade(db)
                if before.status is schema.SchemaStatus.CURRENT:
                    print(f"{db.describe()}: schema already current ({state.database_revision})")
                else:
                    print(f"{db.describe()}: schema upgraded {before.database_revision or 'empty'} → {state.database_revision}")
            else:
                state = schema.inspect_schema(db)
                print(f"{db.describe()}: {state.status.value} (database {state.database_revision or 'none'}, "
                      f"this Riser {state.head_revision})")
        finally:
            db.dispose()
        return 0

    db = _ready(args)
    try:
        uow = lambda: UnitOfWork(db)  # noqa: E731
        actor = Actor.system()
        if args.command == "user":
            from app.staff import service as staff

            if args.user_command == "add":
                row = staff.add_user(uow(), actor, args.name, _read_password(), args.role, args.full_name)
                print(f"added {row.username} ({row.role})")
            elif args.user_command == "unlock":
                staff.unlock(uow(), actor, args.name)
                print(f"unlocked {args.name}")
            else:
                for r in staff.list_users(uow(), actor):
                    flags = ", ".join(f for f, on in (("locked", r.locked), ("inactive", not r.active)) if on)
                    print(f"{r.username:<20} {r.role:<14} {r.full_name}{'  [' + flags + ']' if flags else ''}")
            return 0
        if args.command == "demo":
            from app import demo

            def progress(done: int, total: int) -> None:
                if sys.stderr.isatty():
                    print(f"\r{done:,}/{total:,} accounts", end="", file=sys.stderr, flush=True)

            summary = demo.generate(uow(), actor, args.accounts, args.seed, progress)
            if sys.stderr.isatty():
                print(file=sys.stderr)
            print(f"demo data: {summary.buildings:,} buildings, {summary.units:,} units, "
                  f"{summary.accounts:,} accounts, {summary.contacts:,} contacts")
            if summary.admin_created:
                print(f"sign in as '{demo.DEMO_ADMIN}' with password '{demo.DEMO_PASSWORD}'")
            return 0
    finally:
        db.dispose()
    raise AssertionError(args.command)
