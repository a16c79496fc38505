"""Backups and restores of the whole database (`kinline backup` / `kinline restore`).

SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies every page in one step,
inside one read transaction, so the copy is consistent while the server keeps writing (WAL lets
it). PostgreSQL: ``pg_dump --format=custom`` (one snapshot) and ``pg_restore``. A restore goes only
into an empty database, then migrations bring the schema up to this version."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, inspect, select, table
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from server.adapters.db.engine import SQLITE_BUSY_TIMEOUT_MS, make_private_sqlite_file
from server.adapters.db.migrate import upgrade

# The table Alembic keeps its revision in: present in every Kinline database, counted as no data.
VERSION_TABLE = "alembic_version"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, for the operator."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    kind: str  # "sqlite" or "pg_dump"


def backup(database_url: str, destination: Path) -> BackupResult:
    """Write a consistent copy of the database to ``destination`` (a new file, mode 0600)."""
    if destination.exists():
        raise BackupError(f"{destination} exists; give a new file name")
    if not destination.parent.is_dir():
        raise BackupError(f"no directory {destination.parent}")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _sqlite_backup(_sqlite_path(url), destination)
        kind = "sqlite"
    elif url.get_backend_name() == "postgresql":
        _private_file(destination)
        _run_pg("pg_dump", url, ["--format=custom", "--no-owner", f"--file={destination}"])
        kind = "pg_dump"
    else:
        raise BackupError(f"cannot back up a {url.get_backend_name()} database")
    return BackupResult(destination, destination.stat().st_size, kind)


def restore(database_url: str, source: Path) -> None:
    """Restore ``source`` (made by ``backup``) into the configured database, which must be empty
    (missing, or migrated with no rows); then apply the migrations of this version."""
    if not source.is_file():
        raise BackupError(f"no backup file {source}")
    url = make_url(database_url)
    rows = rows_in(database_url)
    if rows:
        raise BackupError(
            f"the database is not empty ({rows} rows); restore only into an empty database "
            "(a new database_url, or a new SQLite file)"
        )
    if url.get_backend_name() == "sqlite":
        _sqlite_restore(source, _sqlite_path(url))
    elif url.get_backend_name() == "postgresql":
        asyncio.run(_drop_empty_tables(database_url))
        _run_pg("pg_restore", url, ["--no-owner", "--exit-on-error", "--single-transaction", str(source)])
    else:
        raise BackupError(f"cannot restore into a {url.get_backend_name()} database")
    upgrade(database_url)


def rows_in(database_url: str) -> int:
    """Rows in every table but Alembic's: 0 for a missing or freshly migrated database."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not _sqlite_path(url).exists():
        return 0
    return asyncio.run(_count_rows(database_url))


async def _count_rows(database_url: str) -> int:
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            total = 0
            for name in names:
                if name != VERSION_TABLE:
                    counted = await connection.execute(select(func.count()).select_from(table(name)))
                    total += counted.scalar_one()
            return total
    finally:
        await engine.dispose()


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("the SQLite database must be a file")
    return Path(url.database)


def _sqlite_backup(source: Path, destination: Path) -> None:
    if not source.exists():
        raise BackupError(f"no database at {source}")
    _private_file(destination)
    with _connect(source) as src, _connect(destination) as dst:
        src.backup(dst)
    # The copy is a plain file on its own: no -wal beside it to keep together.
    with _connect(destination) as dst:
        dst.execute("PRAGMA journal_mode=DELETE")
        problems = dst.execute("PRAGMA integrity_check").fetchone()
    if problems != ("ok",):
        destination.unlink()
        raise BackupError(f"the copy failed its integrity check: {problems}")


def _sqlite_restore(source: Path, target: Path) -> None:
    with _connect(source) as src:
        try:
            tables = {row[0] for row in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError:
            tables = set()
        if VERSION_TABLE not in tables:
            raise BackupError(f"{source} is not a Kinline backup (no {VERSION_TABLE} table)")
        make_private_sqlite_file(f"sqlite:///{target}")
        with _connect(target) as dst:
            dst.execute("PRAGMA journal_mode=WAL")
            src.backup(dst)


def _connect(path: Path) -> contextlib.closing[sqlite3.Connection]:
    """A plain connection, closed on leaving the ``with``."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    return contextlib.closing(connection)


def _private_file(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


async def _drop_empty_tables(database_url: str) -> None:
    """pg_restore recreates the schema: a migrated but empty database gives its tables up first."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            await connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        await engine.dispose()


def _run_pg(tool: str, url: URL, arguments: list[str]) -> None:
    """Run pg_dump or pg_restore against ``url``; the password goes in the environment, never on
    the command line (where other users' ``ps`` would see it)."""
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(f"{tool} not found; install PostgreSQL's client tools (Debian: postgresql-client)")
    environment = {**os.environ}
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    # The executable is found on PATH and every argument is built here, not taken from a client.
    result = subprocess.run(  # noqa: S603
        [executable, f"--dbname={plain}", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"{tool} failed (exit {result.returncode}): {result.stderr.strip()}")
