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
from datetime import date

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

    events = sub.add_parser("events", help="scheduled account events (status changes, disconnections…)")
    events_sub = events.add_subparsers(dest="events_command", metavar="ACTION", required=True, parser_class=_Parser)
    events_run = events_sub.add_parser("run", help="run the events due by a date, each exactly once")
    events_run.add_argument("--date", type=_date_arg, metavar="YYYY-MM-DD", help="run what is due by this day (default today)")
    events_list = events_sub.add_parser("list", help="list an account's events")
    events_list.add_argument("account_number")

    bill = sub.add_parser("bill-run", help="invoice every account due on a date (once: safe to run again)")
    bill.add_argument("--date", type=_date_arg, metavar="YYYY-MM-DD", help="the bill date (default today)")
    bill.add_argument("--dry-run", action="store_true",
                      help="list who would be invoiced and for how much, who is skipped and why; change nothing")

    billing = sub.add_parser("billing", help="billing chores")
    billing_sub = billing.add_subparsers(dest="billing_command", metavar="ACTION", required=True,
                                         parser_class=_Parser)
    daily = billing_sub.add_parser("daily", help="charge the late fees due, then run the delinquency check")
    daily.add_argument("--date", type=_date_arg, metavar="YYYY-MM-DD", help="the day to run for (default today)")

    imp = sub.add_parser("import-addresses", help="import serviceable addresses from a CSV or XLSX file")
    imp.add_argument("file", help="a .csv (any common encoding and separator) or .xlsx file; the first row names the columns")
    imp.add_argument("--dry-run", action="store_true", help="check every row and report, write nothing")
    imp.add_argument("--all-or-nothing", action="store_true", help="write nothing if any row is bad")
    imp.add_argument("--column", action="append", default=[], metavar="FIELD=HEADER",
                     help="say which column holds a field when the header does not (e.g. unit='Door no'); "
                          "FIELD=none leaves it out; repeatable")

    inventory = sub.add_parser("inventory", help="equipment and stock: import items from a CSV, find a scanned code")
    inv_sub = inventory.add_subparsers(dest="inventory_command", metavar="ACTION", required=True, parser_class=_Parser)
    inv_import = inv_sub.add_parser(
        "import", help="receive items and consumables from a CSV file (one row per item, or a quantity)")
    inv_import.add_argument(
        "file", help="a .csv (UTF-8, comma or semicolon); columns: manufacturer, model, location, quantity, state, "
                     "notes, and identifiers such as mac, serial, imei, imsi or a model's own field")
    inv_import.add_argument("--dry-run", action="store_true", help="check every row and report, write nothing")
    inv_import.add_argument("--all-or-nothing", action="store_true", help="write nothing if any row is bad")
    inv_import.add_argument("--location", metavar="CODE", default="",
                            help="where rows without a location go: a location code or path")
    inv_find = inv_sub.add_parser("find", help="show the items or the location a scanned or typed code names")
    inv_find.add_argument("code", help="a MAC (any separators), serial, IMEI, IMSI, item tag or location code")

    usage = sub.add_parser("usage", help="usage-based billing: import usage records")
    usage_sub = usage.add_subparsers(dest="usage_command", metavar="ACTION", required=True, parser_class=_Parser)
    usage_import = usage_sub.add_parser("import", help="import usage records from a CSV file (re-importing adds nothing)")
    usage_import.add_argument("file", help="a .csv (UTF-8, comma or semicolon); columns: account, start, end (optional), "
                                           "download, upload (MB, or with a unit: 800 MB, 1.5 GB, 2 TB)")
    usage_import.add_argument("--dry-run", action="store_true", help="check every row and report, write nothing")

    export = sub.add_parser("export", help="export addresses or accounts to CSV or XLSX")
    export.add_argument("what", choices=["addresses", "accounts"])
    export.add_argument("--format", choices=["csv", "xlsx"], help="default: from -o's extension, else csv")
    export.add_argument("-o", "--output", metavar="FILE", help="the file to write (default: CSV on standard output)")
    export.add_argument("--search", default="", help="accounts: only those matching these words, as in the list")
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
                  f"{summary.accounts:,} accounts, {summary.contacts:,} contacts, "
                  f"{summary.items:,} inventory items")
            if summary.admin_created:
                print(f"sign in as '{demo.DEMO_ADMIN}' with password '{demo.DEMO_PASSWORD}'")
            return 0
        if args.command == "events":
            return _events(args, uow, actor)
        if args.command == "bill-run":
            return _bill_run(args, uow, actor)
        if args.command == "billing":
            return _billing_daily(args, uow, actor)
        if args.command == "import-addresses":
            return _import_addresses(args, uow, actor)
        if args.command == "export":
            return _export(args, uow, actor)
        if args.command == "inventory":
            if args.inventory_command == "import":
                return _inventory_import(args, uow, actor)
            return _inventory_find(args, uow, actor)
        if args.command == "usage":
            return _usage_import(args, uow, actor)
    finally:
        db.dispose()
    raise AssertionError(args.command)


def _date_arg(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date: use YYYY-MM-DD") from None


def _events(args: argparse.Namespace, uow, actor: Actor) -> int:  # noqa: ANN001
    from app.scheduling import service as scheduling

    if args.events_command == "run":
        summary = scheduling.run_due_events(uow, actor, args.date or date.today(), scheduling.worker_name())
        print(f"ran {summary.ran}, failed {summary.failed}")
        for error in summary.errors:
            print(f"  {error}")
        return 1 if summary.failed else 0
    account = scheduling.account_by_number(uow(), actor, args.account_number)
    rows = scheduling.list_events(uow(), actor, account.id)
    print(f"{account.number} {account.name}: {len(rows)} event{'s' if len(rows) != 1 else ''}")
    for r in rows:
        line = f"{r.due_on.isoformat()}  {r.state:<9}  {r.description}  (by {r.created_by_name})"
        if r.ran_at is not None:
            line += f"  ran {r.ran_at.astimezone():%Y-%m-%d %H:%M} by {r.ran_by}"
        outcome = r.error or r.result or (f"cancelled by {r.cancelled_by}" if r.cancelled_by else "")
        if outcome:
            line += f": {outcome}"
        print(line)
    return 0


def _bill_run(args: argparse.Namespace, uow, actor: Actor) -> int:
    """``--dry-run``: one line per due account ("100123 Owen White  94.50" or "… skipped: why"),
    then the summary; nothing changes. Otherwise the run, then ``invoices N, total T, skipped
    S`` (and the accounts that could not be invoiced, exit 1). Another run in progress: its
    message, exit 1."""
    from app.billing import bill_run

    run_date = args.date or date.today()
    if args.dry_run:
        preview = bill_run.preview(uow(), actor, run_date)
        width = max((len(f"{r.number} {r.name}") for r in preview.rows), default=0)
        for r in preview.rows:
            who = f"{r.number} {r.name}".ljust(width)
            print(f"{who}  {r.amount_text}" if r.billed else f"{who}  skipped: {r.reason}")
        print(f"dry run for {run_date.isoformat()}: nothing was changed")
        print(f"invoices {preview.invoices:,}, total {preview.total_text}, skipped {preview.skipped:,}")
        return 0
    result = bill_run.run(uow, actor, run_date, progress=_progress("billing"))
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(result.summary_line)
    for f in result.failures:
        print(f"  {f.number} {f.name}: {f.reason}")
    if result.state != "done":
        print(f"riser: the bill run ended {result.state}: {result.error}", file=sys.stderr)
        return 1
    return 1 if result.failures else 0


def _billing_daily(args: argparse.Namespace, uow, actor: Actor) -> int:
    from app.billing import daily

    result = daily.run_daily(uow, actor, args.date or date.today())
    print(f"{result.today.isoformat()}: {result.summary}")
    for error in result.errors:
        print(f"  {error}")
    return 1 if result.errors else 0


def _progress(what: str):  # noqa: ANN202 - a progress line on a terminal, nothing when piped
    def show(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{what} {100 * done // max(total, 1)}%", end="", file=sys.stderr, flush=True)
    return show


def _import_addresses(args: argparse.Namespace, uow, actor: Actor) -> int:  # noqa: ANN001
    from app.addresses import importing

    try:
        sheet = importing.read_sheet(args.file)
        mapping = importing.guess_mapping(sheet.headers)
        for item in args.column:
            field, _, header = item.partition("=")
            field = field.strip().lower().replace("-", "_")
            if field not in importing.FIELDS:
                raise CliError(f"--column {item}: the fields are {', '.join(importing.FIELDS)}")
            wanted = header.strip().lower()
            found = [i for i, h in enumerate(sheet.headers) if h.strip().lower() == wanted]
            if wanted != "none" and not found:
                raise CliError(f"--column {item}: {sheet.name} has no column '{header.strip()}'")
            index = found[0] if found else None
            if index is not None:  # a column holds one field
                mapping = {k: (None if v == index else v) for k, v in mapping.items()}
            mapping[field] = index
        policy = importing.ImportPolicy.ALL_OR_NOTHING if args.all_or_nothing else importing.ImportPolicy.VALID_ROWS
        result = importing.import_addresses(uow(), actor, sheet, mapping, policy=policy, dry_run=args.dry_run,
                                            progress=_progress("importing"))
    except (importing.ImportFileError, CliError) as exc:
        print(f"riser: {exc}", file=sys.stderr)
        return 2
    finally:
        if sys.stderr.isatty():
            print(file=sys.stderr)
    for row, reason in result.rejected:
        print(f"row {row}: {reason}")
    if result.dry_run:
        print("dry run: nothing was written")
    elif not result.written:
        print(f"nothing was written: {len(result.rejected):,} bad row{'s' if len(result.rejected) != 1 else ''} "
              "and --all-or-nothing")
    print(result.summary())
    return 1 if result.rejected else 0


def _inventory_import(args: argparse.Namespace, uow, actor: Actor) -> int:  # noqa: ANN001
    """``row N: reason`` per bad row, then ``imported A, rejected R``: exit 0 when every row was
    fine, 1 when some were refused, 2 when the file cannot be imported at all."""
    from app.inventory import importing

    try:
        sheet = importing.read_sheet(args.file)
        policy = importing.ImportPolicy.ALL_OR_NOTHING if args.all_or_nothing else importing.ImportPolicy.VALID_ROWS
        result = importing.import_items(uow(), actor, sheet, default_location=args.location, policy=policy,
                                        dry_run=args.dry_run, progress=_progress("importing"))
    except importing.ImportFileError as exc:
        print(f"riser: {exc}", file=sys.stderr)
        return 2
    finally:
        if sys.stderr.isatty():
            print(file=sys.stderr)
    for line in importing.row_lines(result.rejected):
        print(line)
    if importing.ignored_columns_line(result):
        print(importing.ignored_columns_line(result))
    if not result.dry_run and result.rejected and not result.written and args.all_or_nothing:
        print(f"nothing was written: {len(result.rejected):,} bad row{'s' if len(result.rejected) != 1 else ''} "
              "and --all-or-nothing")
    print(result.summary())
    return 1 if result.rejected else 0


def _inventory_find(args: argparse.Namespace, uow, actor: Actor) -> int:  # noqa: ANN001
    """Each item the code names (tag and model, state, where, identifiers), and the location
    whose label carries it; exit 1 when nothing has that code."""
    from app.inventory import service as inventory

    match = inventory.find_code(uow(), actor, args.code)
    if not match.found:
        print(f"riser: No item or location has the code {match.code}.", file=sys.stderr)
        return 1
    blocks = []
    for item in match.items:
        lines = [f"{item.tag}  {item.model}", f"  state: {item.state_label}"]
        if item.holder:
            lines.append(f"  where: {item.holder}")
        lines += [f"  {ident.label}: {ident.value}" for ident in item.identifiers]
        blocks.append("\n".join(lines))
    if match.location is not None:
        loc = match.location
        lines = [f"location {loc.code}  {loc.path}", f"  kind: {loc.kind}{'' if loc.active else ' (no longer in use)'}",
                 f"  items here: {loc.items:,}"]
        blocks.append("\n".join(lines))
    print("\n\n".join(blocks))
    return 0


def _export(args: argparse.Namespace, uow, actor: Actor) -> int:  # noqa: ANN001
    from app.core.export import ExportFormat

    fmt = ExportFormat(args.format) if args.format else (
        ExportFormat.for_path(args.output) if args.output else None) or ExportFormat.CSV
    if fmt is ExportFormat.XLSX and not args.output:
        print("riser: an Excel workbook cannot go to standard output: add -o FILE.xlsx", file=sys.stderr)
        return 2
    target = args.output or sys.stdout
    progress = _progress("exporting") if args.output else None
    if args.what == "addresses":
        from app.addresses.exporting import export_addresses

        count = export_addresses(uow(), actor, target, fmt, progress)
    else:
        from app.accounts.exporting import export_accounts
        from app.accounts.repository import AccountQuery

        count = export_accounts(uow(), actor, target, fmt, AccountQuery(text=args.search), progress)
    if args.output:
        if sys.stderr.isatty():
            print(file=sys.stderr)
        print(f"exported {count:,} {args.what if count != 1 else args.what[:-1]} to {args.output}")
    return 0


def _usage_import(args: argparse.Namespace, uow, actor: Actor) -> int:  # noqa: ANN001
    """``row N: reason`` per bad row, then ``imported A, unchanged U, rejected R``: exit 0 when
    every row was fine, 1 when some were refused, 2 when the file cannot be imported at all."""
    from app.billing import usage

    try:
        result = usage.import_usage(uow(), actor, args.file, dry_run=args.dry_run)
    except usage.UsageFileError as exc:
        print(f"riser: {exc}", file=sys.stderr)
        return 2
    for line in result.row_lines:
        print(line)
    if result.dry_run:
        print("dry run: nothing was written")
    print(result.summary())
    return 1 if result.rejected else 0
