"""The store's schema versions, managed with Alembic (the SQLAlchemy project's migration tool).

Revision ``0001`` is the schema of the first release that kept a version (``store.metadata`` as it
was then). A new release that changes the schema adds a revision under ``versions/`` and moves
:data:`HEAD`; :class:`sheetsales.storage.store.Store` upgrades every database it opens to :data:`HEAD` (one
transaction, under the workspace lock) and refuses one whose revision it does not know (a newer
sheetsales wrote it).

Alembic is imported only when a database is created or upgraded: opening a database that is at
:data:`HEAD` reads one row of ``alembic_version`` and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

# Every revision this release knows, oldest first; the last is the head.
REVISIONS = ("0001", "0002", "0003", "0004", "0005")
HEAD = REVISIONS[-1]
# The schema sheetsales had before it kept a version (no alembic_version table): revision 0001.
UNVERSIONED = "0001"

SCRIPT_LOCATION = str(Path(__file__).resolve().parent)


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic configuration for this package's scripts, on ``connection`` (or ``url``)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Run the migrations from the database's revision to ``revision``, on ``connection``."""
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


def stamp(connection: Connection, revision: str = "head") -> None:
    """Record ``revision`` as the database's schema version without running anything."""
    from alembic import command

    command.stamp(alembic_config(connection), revision)
