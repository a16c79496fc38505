"""Alembic environment: async engine, run to completion in its own event loop."""

import asyncio

from alembic import context
from sqlalchemy import event, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from server.adapters.db.engine import SECURE_DELETE
from server.adapters.db.tables import metadata

config = context.config

# Several `kinline serve` processes may start at once on one PostgreSQL database (systemd starts
# every instance at boot): one migrates while the others wait for this lock, then find nothing to do.
MIGRATION_LOCK = 0x4B494E4C  # "KINL"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    if engine.dialect.name == "sqlite":
        # Migrations write too: what they delete is overwritten, as on the server's connections.
        event.listen(
            engine.sync_engine, "connect", lambda connection, _record: connection.execute(SECURE_DELETE)
        )
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


asyncio.run(_run_async())
