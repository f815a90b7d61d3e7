"""Alembic's environment for the sheetsales store.

sheetsales runs migrations itself (:func:`sheetsales.storage.migrations.upgrade`, called when a store is
opened), on the connection it already holds: ``config.attributes["connection"]``. Run by hand,
``alembic -c <ini>`` works too, with ``sqlalchemy.url`` set in the ini file.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from sheetsales.storage.store import metadata

config = context.config
target_metadata = metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
