"""Apply Alembic migrations. Runs outside any event loop (the CLI calls it before serving)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from server.adapters.db.engine import make_private_sqlite_file

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    if database_url.startswith("sqlite"):
        make_private_sqlite_file(database_url)
    command.upgrade(alembic_config(database_url), revision)
