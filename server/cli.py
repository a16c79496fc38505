"""The `kinline` command: serve, migrate, back up and restore, staff accounts, and the translations'
coverage."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server import log_privacy
from server.config import i18n_coverage
from server.config.paths import config_dir, web_dir
from server.config.settings import Settings, SettingsError, load_settings
from server.domain.staff import Role
from server.listening import PortInUse, listening_socket, url_of
from server.log_json import JsonFormatter

if TYPE_CHECKING:
    from server.adapters.db.unit_of_work import SqlUnitOfWork
    from server.services.accounts import AccountService
    from server.services.auth import AuthService


def _configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.log.level, handlers=[handler])
    quiet = (
        "aiohttp.access",
        "engineio",
        "socketio",
        "apscheduler",
        "alembic",
        "aiosqlite",
        "asyncpg",
        "sqlalchemy",
        "redis",
        "asyncio",
    )
    for noisy in quiet:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    log_privacy.install(settings.log.level)


def _migrate(settings: Settings) -> None:
    from server.adapters.db.migrate import upgrade

    upgrade(settings.resolved_database_url())


# When thousands of phones come back at once (a reconnect storm) connections arrive faster than
# one event loop accepts them; with aiohttp's default queue of 128 the kernel drops the overflow
# and every dropped client waits a 1 s, 3 s, 7 s ... SYN retransmit. The kernel caps this at
# net.core.somaxconn.
LISTEN_BACKLOG = 4096

# Python's cyclic garbage collector runs after every 700 net new container objects and then walks
# whole generations. A chat server allocates and frees objects per packet, so with the defaults a
# throughput run spent about a tenth of its CPU in collections, a full one taking over 100 ms (a
# stall for every socket). Almost all of those objects die by reference counting anyway; collecting
# after 20,000 keeps the cycle collector for what it is for. See docs/performance.md.
GC_THRESHOLDS = (20_000, 20, 20)

# The event loop shares the GIL with the database writer's thread, which runs each commit group's
# Python work. A thread that wants the GIL waits up to the switch interval (5 ms by default) before
# the holder is asked to let go, and every message waits behind that hand-off. At 1,000 msg/s,
# 1 ms took delivery p99 from 58-93 ms to 39-49 ms in alternating runs (docs/performance.md).
GIL_SWITCH_INTERVAL_S = 0.001

# SIGTERM ends the process within SHUTDOWN_LIMIT_S in every case (docs/operations.md). aiohttp waits
# for running handlers twice (to finish, then after cancelling them) up to its shutdown_timeout
# each, 60 s by default; sockets get CLOSE_SOCKETS_TIMEOUT_S (server/app.py). Whatever still runs
# after that (an SMS send or webhook in flight, both retried or reconciled later) is cut short by
# the watchdog, since SQLite with synchronous=FULL loses nothing committed.
SHUTDOWN_LIMIT_S = 10.0
HANDLER_SHUTDOWN_TIMEOUT_S = 2.0


async def _start_shutdown_watchdog(_app: object) -> None:
    """The first shutdown hook: the process exits SHUTDOWN_LIMIT_S after SIGTERM at the latest."""
    watchdog = threading.Timer(SHUTDOWN_LIMIT_S - 1.0, _exit_now)
    watchdog.daemon = True
    watchdog.start()


def _exit_now() -> None:
    logging.getLogger("kinline").warning("shutdown took too long; exiting now")
    logging.shutdown()
    os._exit(1)


async def _freeze_startup_objects(_app: object) -> None:
    """Modules, settings, catalogs and tables live as long as the process: once the app has
    started, move them out of the collector's sight so full collections never walk them."""
    gc.collect()
    gc.freeze()


def _serve(
    settings: Settings,
    host: str | None,
    port: int | None,
    before: Callable[[Settings], Coroutine[Any, Any, str]] | None = None,
) -> None:
    """Binds the port first, then migrates, runs ``before`` (and prints what it says), and serves."""
    from aiohttp import web

    from server.app import create_app

    try:
        listener = listening_socket(host or settings.host, port or settings.port, LISTEN_BACKLOG)
    except PortInUse as error:
        raise SystemExit(f"kinline: {error}") from None
    _migrate(settings)
    if before is not None:
        print(asyncio.run(before(settings)), flush=True)
    app = create_app(settings)
    app.on_startup.append(_freeze_startup_objects)
    app.on_shutdown.insert(0, _start_shutdown_watchdog)
    gc.set_threshold(*GC_THRESHOLDS)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    url = url_of(listener)
    logging.getLogger("kinline").info("serving on port %d", listener.getsockname()[1])
    print(f"Kinline serves {url} (the counsellors' console: {url}console/); Ctrl+C stops it", flush=True)
    web.run_app(
        app,
        sock=listener,
        access_log=None,
        print=None,
        loop=_new_event_loop(),
        handle_signals=True,
        shutdown_timeout=HANDLER_SHUTDOWN_TIMEOUT_S,
    )


def _new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed, else the standard loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("again: ") != first:
            raise SystemExit("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


@asynccontextmanager
async def _staff_accounts(settings: Settings) -> AsyncIterator[tuple[AuthService, SqlUnitOfWork]]:
    """The accounts service on the configured database, outside the server, as the CLI uses it."""
    from server.adapters.crypto import DataCiphers
    from server.adapters.db.engine import Database
    from server.adapters.db.unit_of_work import SqlUnitOfWork
    from server.services.auth import AuthService, SessionPolicy
    from server.services.events import EventBus
    from server.services.ports.clock import system_clock

    database = Database(settings.resolved_database_url())
    security = settings.security
    ciphers = DataCiphers.load(security.data_key, settings.resolved_path(security.data_key_file))
    uow = SqlUnitOfWork(database, ciphers)
    auth = AuthService(
        uow,
        EventBus(),
        system_clock,
        SessionPolicy(
            settings.security.session_idle_timeout,
            settings.security.session_absolute_timeout,
            3,
            settings.auth.require_totp,
            settings.auth.totp_issuer,
        ),
        ciphers.totp,
    )
    try:
        yield auth, uow
    finally:
        await database.dispose()


async def _seed_demo(settings: Settings) -> str:
    from server import demo
    from server.services.ports.clock import system_clock

    async with _staff_accounts(settings) as (auth, uow):
        return demo.describe(await demo.seed_demo(settings, auth, uow, system_clock))


async def _user_command(settings: Settings, args: argparse.Namespace) -> str:
    from server.config.escalation_file import load_escalation_config
    from server.services.accounts import AccountPolicy, AccountService

    async with _staff_accounts(settings) as (auth, uow):
        routes = load_escalation_config(settings.resolved_path(settings.escalation.routes_file)).routes
        accounts = AccountService(
            uow,
            auth.events,
            auth.clock,
            AccountPolicy(settings.auth.setup_link_lifetime, frozenset(routes)),
            auth.hasher,
        )
        return await _account_change(settings, auth, accounts, args)


async def _account_change(
    settings: Settings, auth: AuthService, accounts: AccountService, args: argparse.Namespace
) -> str:
    from server.domain.errors import DomainError, NotFound
    from server.domain.staff import check_route
    from server.transports.wire import setup_url

    try:
        if args.user_command == "add":
            role = Role(args.role)
            try:
                check_route(role, args.route, accounts.policy.routes)
            except ValueError as error:
                raise SystemExit(f"--route {args.route!r}: {error}") from None
            password = _read_password(f"password for {args.name}: ")
            user_id = await auth.add_user(args.name, password, role, args.display_name, args.route)
            return f"added {role.value} {args.name} (id {user_id})"
        if args.user_command == "totp-reset":
            await accounts.reset_totp(None, args.name)
            return f"two-factor sign-in of {args.name} is reset; they enroll again at their next sign-in"
        if args.user_command == "password-reset":
            _user, link = await accounts.reset_password(None, args.name)
            url = setup_url(settings.public_url, link.token)
            return (
                f"the password of {args.name} no longer works and their sessions have ended. Give them this "
                f"link, used once, to choose a new one before {link.expires_at:%Y-%m-%d %H:%M} UTC:\n{url}"
            )
        if args.user_command == "unlock":
            locked_until = await auth.unlock_second_factor(args.name)
            state = (
                f"was locked until {locked_until:%Y-%m-%d %H:%M} UTC" if locked_until else "was not locked"
            )
            return f"two-factor sign-in of {args.name} is unlocked ({state}); its code works again"
        user = await accounts.change_account(None, args.name, active=args.user_command == "enable")
        return f"{args.name} is now {'enabled' if user.active else 'disabled'}"
    except NotFound:
        raise SystemExit(f"error: no user {args.name}") from None
    except DomainError as error:
        raise SystemExit(f"error: {error.message}") from None


def _key_location(settings: Settings) -> str:
    """Where the data key is, for the operator who must keep it with a backup (never the key)."""
    security = settings.security
    if security.data_key:
        return "it is set in security.data_key (your config file or KINLINE_SECURITY__DATA_KEY)"
    path = settings.resolved_path(security.data_key_file)
    if not path.exists():
        return f"it will be the file {path}, which the server creates at its first start"
    return f"it is the file {path}"


def _backup(settings: Settings, destination: str) -> str:
    from pathlib import Path

    from server.adapters.db.backup import BackupError, backup

    try:
        result = backup(settings.resolved_database_url(), Path(destination).resolve())
    except BackupError as error:
        raise SystemExit(f"kinline backup: {error}") from None
    return (
        f"backup written to {result.path} ({result.size} bytes, {result.kind})\n"
        f"Keep the data key with this backup, as privately: {_key_location(settings)}.\n"
        "Without the key the messages, notes and phone numbers in the backup cannot be read."
    )


def _restore(settings: Settings, source: str) -> str:
    from pathlib import Path

    from server.adapters.db.backup import BackupError, restore

    try:
        restore(settings.resolved_database_url(), Path(source).resolve())
    except BackupError as error:
        raise SystemExit(f"kinline restore: {error}") from None
    return (
        f"restored {source} and applied the migrations.\n"
        f"The server needs the data key the backup was made with: {_key_location(settings)}."
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kinline", description="Kinline support line")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="apply migrations and serve HTTP and Socket.IO")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    commands.add_parser("migrate", help="apply database migrations")
    backup = commands.add_parser(
        "backup",
        help="write a consistent copy of the database while the server runs (SQLite's online backup, "
        "or pg_dump's custom format); keep the data key with it",
    )
    backup.add_argument("path", help="a new file")
    restore = commands.add_parser(
        "restore",
        help="restore a backup into an empty database (refuses one with data) and apply migrations",
    )
    restore.add_argument("path", help="a file made by kinline backup")
    demo = commands.add_parser(
        "demo",
        help="serve a demonstration on its own database (var/demo.db) with demo staff and a schedule",
    )
    demo.add_argument("--host")
    demo.add_argument("--port", type=int)
    user = commands.add_parser("user", help="staff accounts")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="add a staff account; the password is read from stdin")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--display-name")
    add.add_argument("--route", help="escalation route of a social_services user")
    for verb in ("disable", "enable"):
        toggle = user_commands.add_parser(verb, help=f"{verb} a staff account")
        toggle.add_argument("name")
    totp_reset = user_commands.add_parser(
        "totp-reset", help="remove a staff member's two-factor sign-in (lost phone); audited"
    )
    totp_reset.add_argument("name")
    password_reset = user_commands.add_parser(
        "password-reset",
        help="end a staff member's password and sessions and print a one-time link to choose a new one",
    )
    password_reset.add_argument("name")
    unlock = user_commands.add_parser(
        "unlock", help="end a lockout of a staff member's two-factor sign-in after wrong codes; audited"
    )
    unlock.add_argument("name")
    report = commands.add_parser(
        "report", help="print the statistics table (small counts suppressed, as GET /api/stats)"
    )
    report.add_argument("--from", dest="first", required=True, help="first ISO week, e.g. 2026-W01")
    report.add_argument("--to", dest="last", required=True, help="last ISO week, e.g. 2026-W52")
    report.add_argument("--by", required=True, help="one or two dimensions, e.g. perspective,language")
    report.add_argument("--format", choices=("csv", "json"), default="csv")
    knowledge = commands.add_parser(
        "knowledge", help="the knowledge bank's import format (docs/knowledge.md)"
    )
    knowledge_commands = knowledge.add_subparsers(dest="knowledge_command", required=True)
    load = knowledge_commands.add_parser(
        "import", help="load a directory (like config/knowledge) into an empty bank; refused otherwise"
    )
    load.add_argument("directory", type=Path)
    dump = knowledge_commands.add_parser("export", help="write the bank to a directory in the import format")
    dump.add_argument("directory", type=Path)
    i18n = commands.add_parser("i18n", help="translations")
    i18n_commands = i18n.add_subparsers(dest="i18n_command", required=True)
    i18n_check = i18n_commands.add_parser(
        "check",
        help="coverage of the relative-facing texts, canned answers and danger words per language; "
        "exits 1 on a gap",
    )
    i18n_check.add_argument("--limit", type=int, default=25, help="missing keys listed per language (25)")
    return parser


async def _report(settings: Settings, args: argparse.Namespace) -> str:
    from server.domain.errors import DomainError
    from server.domain.statistics.export import table_csv, table_json_text
    from server.services.statistics import StatisticsPolicy, StatisticsService

    policy = StatisticsPolicy(settings.statistics.min_cell, settings.statistics.max_weeks)
    async with _staff_accounts(settings) as (_auth, uow):
        try:
            table = await StatisticsService(uow, policy).table(args.first, args.last, args.by)
        except DomainError as error:
            raise SystemExit(f"error: {error.message}") from None
    return table_csv(table) if args.format == "csv" else table_json_text(table, args.first, args.last)


async def _knowledge(settings: Settings, args: argparse.Namespace) -> str:
    from server.app import knowledge_policy
    from server.config.escalation_file import load_escalation_config
    from server.config.knowledge import read_directory, write_directory
    from server.domain.errors import DomainError
    from server.services.knowledge import KnowledgeService
    from server.services.ports.clock import system_clock

    escalation = load_escalation_config(
        settings.resolved_path(settings.escalation.routes_file),
        emergency_number=settings.privacy.emergency_number,
    )
    async with _staff_accounts(settings) as (_auth, uow):
        service = KnowledgeService(uow, system_clock, knowledge_policy(settings, escalation))
        try:
            if args.knowledge_command == "import":
                try:
                    drafts = read_directory(args.directory)
                except (OSError, ValueError, KeyError) as error:
                    raise SystemExit(f"error: {error}") from None
                return f"imported {await service.import_drafts(drafts)} items from {args.directory}"
            written = write_directory(args.directory, await service.export_items())
            return f"exported the bank to {len(written)} files in {args.directory}"
        except DomainError as error:
            raise SystemExit(f"error: {error.message}") from None


def _i18n_check(limit: int) -> None:
    coverage = i18n_coverage.check(web_dir() / "i18n", config_dir())
    print(i18n_coverage.format_report(coverage, limit))
    if not coverage.complete:
        raise SystemExit(1)


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "i18n":
        # Reads only files: no settings, database or logging needed.
        _i18n_check(args.limit)
        return
    try:
        settings = load_settings()
    except SettingsError as error:
        raise SystemExit(f"kinline: {error}") from None
    _configure_logging(settings)
    try:
        if args.command == "serve":
            _serve(settings, args.host, args.port)
        elif args.command == "demo":
            from server.demo import demo_settings

            settings = demo_settings(settings)
            _serve(settings, args.host, args.port, before=_seed_demo)
        elif args.command == "migrate":
            _migrate(settings)
            print("migrations applied")
        elif args.command == "backup":
            print(_backup(settings, args.path))
        elif args.command == "restore":
            print(_restore(settings, args.path))
        elif args.command == "user":
            _migrate(settings)
            print(asyncio.run(_user_command(settings, args)))
        elif args.command == "knowledge":
            _migrate(settings)
            print(asyncio.run(_knowledge(settings, args)))
        elif args.command == "report":
            _migrate(settings)
            print(asyncio.run(_report(settings, args)), end="")
    except SettingsError as error:
        raise SystemExit(f"kinline: {error}") from None
