"""The append-only store: SQLite by default, through SQLAlchemy Core.

Nothing is updated in place or deleted. Every ingest records the file versions
it read (content-addressed, archived), the opportunity rows of each MPC list
version, the date the system first observed each stage of a deal (the stage
clock starts there), the log rows of each weekly report and every issue. Any
past week is reproduced by filtering on ``observed_on <= as_of``.

Only Core constructs are used, so the same code runs on SQLite and on PostgreSQL
(``postgresql+psycopg://…``, the ``postgres`` extra). Text that comes from people's files (paths,
person ids, deal ids, decisions) is ``Text``: SQLite never enforced a declared length, PostgreSQL
would, and a long folder name must not make a file fail on one database and not the other.

The schema is versioned with Alembic (``sheetsales/migrations``): :class:`Store` upgrades the
database it opens to the head revision, and refuses one written by a newer sheetsales.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from ..issues import Issue
from . import migrations
from .quiet import sqlite_url  # noqa: F401 (defined beside its inverse, where the no-op ingest needs it)

metadata = MetaData()

# The sha256 recorded for a file that has disappeared from the inbox (a tombstone version).
REMOVED = "removed"


def _dicts(result: Any) -> list[dict]:
    """A result's rows as dicts, the column names taken once (a ``RowMapping`` per row builds its keys
    again for every row: a second of reading the opportunities at 500 reps)."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


class StoreVersionError(Exception):
    """A database whose schema this sheetsales cannot use (the message says why and what to do)."""


class OutdatedStore(StoreVersionError):
    """A database created before sheetsales versioned its schema, without the columns revision 0001 has."""


class NewerStore(StoreVersionError):
    """A database whose schema revision is newer than this sheetsales knows (a newer release wrote it)."""


class StoreUnreachable(StoreVersionError):
    """The database could not be reached at all (a server down, a wrong ``database_url``)."""


class AlreadyRecorded(Exception):
    """The store refused a row another process (or an earlier call) already recorded.

    Raised by the ``add_*`` methods whose rows must exist once: a file version (one per path and
    predecessor), a decision's result, a transfer (one per deal and predecessor), an extension.
    A caller treats it as "another process did it": the transaction is rolled back, nothing is lost.
    """

ingests = Table(
    "ingests", metadata,
    Column("id", Integer, primary_key=True),
    Column("as_of", Date, nullable=False),
    Column("started_at", String(32), nullable=False),
)

playbooks = Table(
    "playbooks", metadata,
    Column("id", Integer, primary_key=True),
    Column("ingest_id", ForeignKey("ingests.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("valid", Boolean, nullable=False),
    Column("content", Text),
)

file_versions = Table(
    "file_versions", metadata,
    Column("id", Integer, primary_key=True),
    Column("ingest_id", ForeignKey("ingests.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("archive", Text, nullable=False),
    Column("kind", Text),
    Column("rep", Text),
    Column("week", Text),
    Column("readable", Boolean, nullable=False),
    # The version recorded before this one for the same path (0 for the first): two processes that
    # both think they are recording the next version of a file cannot both succeed.
    Column("parent_id", Integer, nullable=False, server_default="0"),
    UniqueConstraint("path", "parent_id", name="uq_fv_path_parent"),
    Index("ix_fv_path", "path", "observed_on"),
    Index("ix_fv_rep", "rep", "kind", "observed_on"),
)

opportunities = Table(
    "opportunities", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_version_id", ForeignKey("file_versions.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("rep", Text, nullable=False),
    Column("opp_key", Text, nullable=False),
    Column("row", Integer, nullable=False),
    Column("customer", Text, nullable=False),
    Column("customer_norm", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("model", Text),
    Column("amount", Float, nullable=False),
    Column("sign_date", Date),
    Column("delivery_date", Date),
    Column("stage", Integer, nullable=False),
    Column("win_rate", Float),
    Column("status", Text, nullable=False),
    Column("detail", Text),
    Column("owner_name", Text),
    Column("resources", Text),
    Column("distributor", Text),
    Column("milestones", String(60)),  # the met milestones' numbers, comma-separated: "1,2,3"
    Column("q_answered", Integer),  # how many of the nine qualification questions are answered
    Column("c_clear", Integer),  # C931: Clear ticks (of 9)
    Column("c_first", Integer),  # C931: First ticks (of 3)
    Column("c_win", Integer),  # C931: Win tick (of 1)
    Column("qualification", Text),  # the qualification answers as JSON: {"q1": text, …, "x4": "no"} (revision 0002)
    Index("ix_opp_fv", "file_version_id"),
    Index("ix_opp_key", "opp_key", "observed_on"),
)

# Rows of an MPC list version kept out for errors, by the deal they name: the deal's last good
# values stay in force instead of the deal looking dropped.
held_rows = Table(
    "held_rows", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_version_id", ForeignKey("file_versions.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("rep", Text, nullable=False),
    Column("opp_key", Text, nullable=False),
    Column("row", Integer, nullable=False),
    Index("ix_held_fv", "file_version_id"),
)

stage_events = Table(
    "stage_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_version_id", ForeignKey("file_versions.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("opp_key", Text, nullable=False),
    Column("rep", Text, nullable=False),
    Column("stage", Integer, nullable=False),
    Column("prev_stage", Integer),
    Index("ix_se_key", "opp_key", "observed_on"),
)

activities = Table(
    "activities", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_version_id", ForeignKey("file_versions.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("rep", Text, nullable=False),
    Column("week", Text, nullable=False),
    Column("fingerprint", String(40), nullable=False),
    Column("row", Integer, nullable=False),
    Column("date", Date, nullable=False),
    Column("time", Text),
    Column("content", Text, nullable=False),
    Column("unit", Text),
    Column("person", Text),
    Column("contact", Text),
    Column("result", Text),
    Column("hours", Float),
    Column("cost", Float),
    Column("remarks", Text),
    Column("deal", Text),  # weekly report version 2 on: the customer or deal picked
    Column("types", Text),  # weekly report version 2 on: the ticked activity types' codes
    Index("ix_act_rep", "rep", "week"),
)

# The daily log as accepted (工作日报, issue 10): every log row once, as first recorded, never changed or
# deleted. Each person's rows form a chain: ``seq`` 1, 2, … and ``hash`` covers the row's values and the
# previous row's ``hash`` (``prev_hash``; sixty-four zeros for the first), see :mod:`sheetsales.method.logchain`.
log_entries = Table(
    "log_entries", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_version_id", ForeignKey("file_versions.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("rep", Text, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("week", Text, nullable=False),
    Column("row", Integer, nullable=False),
    Column("fingerprint", String(40), nullable=False),
    Column("date", Date, nullable=False),
    Column("deal", Text),  # the customer or deal as picked from the drop-down or typed
    Column("types", Text),  # the ticked activity types' codes, comma-separated
    Column("hours", Float),
    Column("cost", Float),
    Column("content", Text),
    Column("time", Text),
    Column("unit", Text),
    Column("person", Text),
    Column("contact", Text),
    Column("result", Text),
    Column("remarks", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("rep", "seq", name="uq_log_rep_seq"),  # one chain per person, never forked
    Index("ix_log_rep", "rep", "week"),
)

# A later save that altered or dropped an accepted log row (``log-rewritten``): the original stays in
# force, the other version is kept here as evidence, once per distinct version.
log_rewrites = Table(
    "log_rewrites", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_version_id", ForeignKey("file_versions.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("rep", Text, nullable=False),
    Column("entry_id", ForeignKey("log_entries.id"), nullable=False),
    Column("kind", String(10), nullable=False),  # altered | dropped
    Column("row", Integer),  # the sheet row of the altered version (None when dropped)
    Column("fingerprint", String(40), nullable=False),  # of the altered version ("" when dropped)
    Column("rewritten", Text),  # the altered version's values, as JSON
    UniqueConstraint("entry_id", "fingerprint", name="uq_rw_entry_fp"),
)

# The daily plan of a weekly report (seed 001): next week's tasks, sales and non-sales, ranked.
plans = Table(
    "plans", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_version_id", ForeignKey("file_versions.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("rep", Text, nullable=False),
    Column("week", Text, nullable=False),  # the report's week (the plan is for the week after)
    Column("row", Integer, nullable=False),
    Column("day", Date, nullable=False),
    Column("side", String(10), nullable=False),  # sales | other
    Column("rank", Integer),
    Column("task", Text, nullable=False),
    Column("deal", Text),
    Column("hours", Float),
    Index("ix_plan_fv", "file_version_id"),
)

contracts = Table(
    "contracts", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_version_id", ForeignKey("file_versions.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("rep", Text, nullable=False),
    Column("week", Text, nullable=False),
    Column("row", Integer, nullable=False),
    Column("customer", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("model", Text),
    Column("quantity", Integer),
    Column("amount", Float, nullable=False),
    Column("remarks", Text),
)

expenses = Table(
    "expenses", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_version_id", ForeignKey("file_versions.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("rep", Text, nullable=False),
    Column("week", Text, nullable=False),
    Column("row", Integer, nullable=False),
    Column("date", Date, nullable=False),
    Column("travel", Float),
    Column("entertainment", Float),
    Column("other", Float),
    Column("remarks", Text),
)

weekly_notes = Table(
    "weekly_notes", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_version_id", ForeignKey("file_versions.id"), nullable=False),
    Column("rep", Text, nullable=False),
    Column("week", Text, nullable=False),
    Column("key_events", Text),
    Column("market_news", Text),
)

# The rows of a rep's lost-deal report (丢单报告), one per lost deal, per version of the workbook.
lost_reports = Table(
    "lost_reports", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_version_id", ForeignKey("file_versions.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("rep", Text, nullable=False),
    Column("file", Text, nullable=False),
    Column("sheet", Text, nullable=False),
    Column("row", Integer, nullable=False),
    Column("opp_key", Text, nullable=False),  # the deal the row names, as the rep's MPC list keys it
    Column("customer", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("report_date", Date),
    Column("customer_region", Text),
    Column("agent", Text),
    Column("previous_equipment", Text),
    Column("purchase_method", Text),
    Column("purchase_date", Date),
    Column("winner", Text),
    Column("winner_model", Text),
    Column("winner_config", Text),
    Column("winner_price", Float),
    Column("winner_terms", Text),
    Column("our_model", Text),
    Column("our_config", Text),
    Column("our_price", Float),
    Column("our_terms", Text),
    Column("others", Text),
    Column("reason", Text, nullable=False),
    Column("analysis", Text),
    Column("remarks", Text),
    Index("ix_lost_fv", "file_version_id"),
)

# A supervisor's decision rows, as read from their decisions workbook; each distinct row is applied once.
decisions = Table(
    "decisions", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_version_id", ForeignKey("file_versions.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("author", Text, nullable=False),
    Column("file", Text, nullable=False),
    Column("sheet", Text, nullable=False),
    Column("row", Integer, nullable=False),
    Column("fingerprint", String(40), nullable=False),
    Column("deal", Text, nullable=False),
    Column("decision", Text, nullable=False),
    Column("to_person", Text),
    Column("days", Integer),
    Column("reason", Text),
    Column("date", Date),
    Index("ix_dec_fp", "fingerprint"),
)

# The outcome of applying a decision row: applied, or invalid with a reason code.
decision_results = Table(
    "decision_results", metadata,
    Column("id", Integer, primary_key=True),
    Column("decision_id", ForeignKey("decisions.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("outcome", String(20), nullable=False),  # applied | invalid
    Column("reason", Text),  # why invalid: unknown-deal, unknown-person, no-authority, …
    UniqueConstraint("decision_id", name="uq_dr_decision"),  # a decision is applied once
)

# Who owns a deal: every change of owner (confiscation, return, reassignment, keep, close).
transfers = Table(
    "transfers", metadata,
    Column("id", Integer, primary_key=True),
    Column("ingest_id", ForeignKey("ingests.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("deal", Text, nullable=False),
    Column("from_person", Text),
    Column("to_person", Text),
    Column("reason", Text, nullable=False),  # confiscated | returned | reassigned | kept | closed
    Column("stage", Integer),
    Column("decision_id", ForeignKey("decisions.id")),
    Column("parent_id", Integer, nullable=False, server_default="0"),  # the deal's previous transfer (0: none)
    UniqueConstraint("deal", "parent_id", name="uq_tr_deal_parent"),
    Index("ix_tr_deal", "deal", "observed_on"),
)

# Extra days granted on a deal's current stage limit.
extensions = Table(
    "extensions", metadata,
    Column("id", Integer, primary_key=True),
    Column("observed_on", Date, nullable=False),
    Column("deal", Text, nullable=False),
    Column("stage", Integer, nullable=False),
    Column("days", Integer, nullable=False),
    Column("reason", Text),
    Column("by_person", Text),
    Column("decision_id", ForeignKey("decisions.id")),
    UniqueConstraint("decision_id", name="uq_ext_decision"),  # one extension per decision
)

# Help requests (困难报警, issue 10), as read from each person's help workbook: the requester's rows
# and, in every answerer's own workbook, their answers against a request's number ("R01-3").
help_requests = Table(
    "help_requests", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_version_id", ForeignKey("file_versions.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("rep", Text, nullable=False),
    Column("file", Text, nullable=False),
    Column("sheet", Text, nullable=False),
    Column("row", Integer, nullable=False),
    Column("no", Integer, nullable=False),
    Column("customer", Text, nullable=False),
    Column("customer_norm", Text, nullable=False),
    Column("category", Text),
    Column("reason", Text, nullable=False),
    Column("tried", Text),
    Column("keyword", Text),
    Column("effective", Text),  # the person id of the answer the requester marked effective (方法有效)
    Column("date", Date),
    Index("ix_hr_fv", "file_version_id"),
)

help_answers = Table(
    "help_answers", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_version_id", ForeignKey("file_versions.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("author", Text, nullable=False),
    Column("file", Text, nullable=False),
    Column("sheet", Text, nullable=False),
    Column("row", Integer, nullable=False),
    Column("request", Text, nullable=False),  # "<requester id>-<no>"
    Column("answer", Text, nullable=False),
    Column("date", Date),
    Index("ix_ha_fv", "file_version_id"),
)


def _card_table(name: str, *columns: Column) -> Table:
    """One sheet of a rep's customer cards (客户信息收集卡): rows per version, keyed by customer."""
    return Table(
        name, metadata,
        Column("id", Integer, primary_key=True),
        Column("file_version_id", ForeignKey("file_versions.id"), nullable=False),
        Column("observed_on", Date, nullable=False),
        Column("rep", Text, nullable=False),
        Column("row", Integer, nullable=False),
        Column("customer", Text, nullable=False),
        Column("customer_norm", Text, nullable=False),
        *columns,
        Index(f"ix_{name}_fv", "file_version_id"),
    )


card_customers = _card_table(
    "card_customers", Column("founded", Date), Column("referred_by", Text), Column("referred_norm", Text),
    Column("signed", Date), Column("revisit_days", Integer), Column("address", Text), Column("remarks", Text))
card_people = _card_table(
    "card_people", Column("name", Text, nullable=False), Column("title", Text), Column("role", Text, nullable=False),
    Column("phone", Text), Column("birthday", Date))
card_equipment = _card_table(
    "card_equipment", Column("maker", Text, nullable=False), Column("model", Text), Column("bought", Date),
    Column("price", Float), Column("usage", Text), Column("satisfaction", Text))
card_plans = _card_table(
    "card_plans", Column("year", Integer, nullable=False), Column("product", Text, nullable=False),
    Column("quantity", Integer), Column("budget", Float), Column("remarks", Text))
card_appointments = _card_table(
    "card_appointments", Column("date", Date, nullable=False), Column("time", Text), Column("person", Text),
    Column("purpose", Text))

issues_t = Table(
    "issues", metadata,
    Column("id", Integer, primary_key=True),
    Column("ingest_id", ForeignKey("ingests.id"), nullable=False),
    Column("file_version_id", ForeignKey("file_versions.id")),
    Column("playbook_id", ForeignKey("playbooks.id")),
    Column("observed_on", Date, nullable=False),
    Column("rep", Text),
    Column("code", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("file", Text),
    Column("sheet", Text),
    Column("cell", Text),
    Column("params", Text),
)


# The tables whose rows change what the reports show (not ``ingests``: a run that found nothing new
# changes nothing; ``read_ends``: a read that failed is reported); see :meth:`Store.change_mark`.
REPORTED_TABLES = ("playbooks", "file_versions", "issues", "decision_results", "transfers", "extensions",
                   "read_ends")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _is_unique_violation(exc: IntegrityError) -> bool:
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code == "23505" or "unique" in str(orig).lower()


# Statements of the per-file paths are built once and executed with bound parameters: building a
# statement (and its cache key) costs several times what executing it costs (about 400 against 60
# microseconds for one SELECT on SQLite); the SQL sent is the same.
@functools.cache
def _insert(table: Table) -> Any:
    """``INSERT INTO table``, built once; the columns are those of the parameters it is executed with."""
    return insert(table)


@functools.cache
def _query(name: str) -> Any:
    """A SELECT of the per-file paths, built once, with bound parameters named as its user passes them."""
    fv, se = file_versions, stage_events
    if name == "latest_sha":
        return (select(fv.c.sha256).where(fv.c.path == bindparam("path"), fv.c.observed_on <= bindparam("as_of"))
                .order_by(fv.c.observed_on.desc(), fv.c.id.desc()).limit(1))
    if name == "last_version_id":
        return select(func.max(fv.c.id)).where(fv.c.path == bindparam("path"))
    if name == "last_stage":
        return (select(se.c.stage).where(se.c.opp_key == bindparam("opp_key"), se.c.observed_on <= bindparam("as_of"))
                .order_by(se.c.observed_on.desc(), se.c.id.desc()).limit(1))
    if name == "last_stages":
        ranked = (
            select(se.c.opp_key, se.c.stage,
                   func.row_number().over(partition_by=se.c.opp_key,
                                          order_by=(se.c.observed_on.desc(), se.c.id.desc())).label("rn"))
            .where(se.c.opp_key.in_(bindparam("keys", expanding=True)), se.c.observed_on <= bindparam("as_of"))
            .subquery()
        )
        return select(ranked.c.opp_key, ranked.c.stage).where(ranked.c.rn == 1)
    if name == "activity_fingerprints":
        return (select(activities.c.fingerprint, activities.c.date, activities.c.content)
                .where(activities.c.rep == bindparam("rep"), activities.c.week == bindparam("week"),
                       activities.c.observed_on <= bindparam("as_of")))
    if name in ("crashed_read", "crashed_read_at"):
        query = (select(reads.c.id).outerjoin(read_ends, read_ends.c.read_id == reads.c.id)
                 .where(reads.c.sha256 == bindparam("sha"), read_ends.c.id.is_(None)).limit(1))
        return query.where(reads.c.path == bindparam("path")) if name == "crashed_read_at" else query
    raise KeyError(name)


def _insert_once(conn: Connection, table: Table, values: Mapping[str, Any], what: str) -> int:
    """Insert one row; a unique constraint refusing it raises :class:`AlreadyRecorded`."""
    try:
        return conn.execute(_insert(table), dict(values)).inserted_primary_key[0]
    except IntegrityError as exc:
        if _is_unique_violation(exc):
            raise AlreadyRecorded(f"{what} is already recorded ({exc.orig})") from exc
        raise


# The key of the advisory lock that serialises schema migrations on PostgreSQL (any constant of our own).
MIGRATION_LOCK_KEY = 0x5353_4D49_4752  # "SSMIGR"


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    versions = [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    return versions[0] if len(versions) == 1 else ",".join(sorted(versions)) or None


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as given, minus nothing: it has no password part
        return url


def unreachable_message(url: str, reason: object) -> str:
    """What to tell when the database at ``url`` cannot be reached (zh-CN / English)."""
    reason = str(reason).strip().replace("\n", " ")
    return (f"无法连接数据库 {_safe_url(url)}({reason});请检查 sheetsales.toml 的 database_url"
            "(或 SHEETSALES_DATABASE_URL)以及数据库服务器是否在运行。 / "
            f"Cannot connect to the database {_safe_url(url)} ({reason}); check database_url in "
            "sheetsales.toml (or SHEETSALES_DATABASE_URL) and that the database server is running.")


def _schema_at(revision: str) -> dict[str, list[str]]:
    """Table → column names of the schema the migrations build up to ``revision`` (run on an in-memory SQLite)."""
    engine = create_engine("sqlite://")
    try:
        with engine.begin() as conn:
            migrations.upgrade(conn, revision)
            insp = inspect(conn)
            return {name: [c["name"] for c in insp.get_columns(name)]
                    for name in insp.get_table_names() if name != "alembic_version"}
    finally:
        engine.dispose()


class Store:
    """Append-only access to the workspace database."""

    def __init__(self, url: str, *, upgrade_lock: Callable[[], AbstractContextManager[Any]] | None = None) -> None:
        """Open the store at ``url``, creating or upgrading its schema to the head revision.

        A database at the head revision costs one query. Otherwise the schema is created (a new
        database), stamped (one from before versioning whose columns match revision 0001) or upgraded,
        in one transaction, under ``upgrade_lock()`` (the workspace lock) and, on PostgreSQL, a
        transaction-level advisory lock, so two processes never migrate the same database at once.
        Raises :class:`StoreVersionError` for a database this release cannot use.
        """
        self.url = url
        try:
            self.engine: Engine = create_engine(url, future=True)
        except ModuleNotFoundError as exc:  # a broken install: the driver of this URL is missing
            raise StoreVersionError(
                f"数据库 {_safe_url(url)} 需要未安装的驱动 {exc.name}(PostgreSQL:pip install \"sheetsales[postgres]\")。 / "
                f"The database {_safe_url(url)} needs the driver {exc.name}, which is not installed "
                '(PostgreSQL: pip install "sheetsales[postgres]").') from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            try:
                current = self.revision()
            except OperationalError as exc:  # the first connection: the server or the URL is wrong
                raise StoreUnreachable(unreachable_message(url, exc.orig)) from None
            if current != migrations.HEAD:
                with upgrade_lock() if upgrade_lock is not None else nullcontext():
                    with self.engine.begin() as conn:
                        if conn.dialect.name == "postgresql":
                            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                        self._migrate(conn)
        except BaseException:
            self.engine.dispose()
            raise

    def revision(self) -> str | None:
        """The database's schema revision (``alembic_version``); None when it has none."""
        with self.engine.connect() as conn:
            return _revision(conn)

    def _migrate(self, conn: Connection) -> None:
        current = _revision(conn)
        if current == migrations.HEAD:  # another process did it while this one waited
            return
        if current is None:
            existing = set(inspect(conn).get_table_names()) & set(metadata.tables)
            if not existing:  # a new database: the current schema, stamped
                metadata.create_all(conn)
                migrations.stamp(conn, migrations.HEAD)
                return
            insp = inspect(conn)
            if existing == set(metadata.tables) and all(
                    {c.name for c in metadata.tables[name].columns} <= {c["name"] for c in insp.get_columns(name)}
                    for name in existing):  # every table and column of this release: its version was lost
                migrations.stamp(conn, migrations.HEAD)
                return
            schema = _schema_at(migrations.UNVERSIONED)
            self._check_unversioned(conn, existing, schema)
            # Tables added before versioning (the read bookkeeping) may be missing: created as revision 0001 has
            # them (the tables of later revisions are the migrations' to create).
            metadata.create_all(conn, tables=[metadata.tables[name] for name in schema if name in metadata.tables])
            migrations.stamp(conn, migrations.UNVERSIONED)
        elif current not in migrations.REVISIONS:
            raise NewerStore(
                f"数据库 {_safe_url(self.url)} 的结构版本 {current} 比此 sheetsales 认识的版本({migrations.HEAD})更新:"
                "它由更新版本的 sheetsales 写入。请升级 sheetsales 后再使用此工作区;数据库未作任何更改。 / "
                f"The database {_safe_url(self.url)} has schema revision {current}, newer than this sheetsales knows "
                f"({migrations.HEAD}): a newer sheetsales wrote it. Upgrade sheetsales to use this workspace; "
                "the database was not changed.")
        migrations.upgrade(conn, migrations.HEAD)

    def _check_unversioned(self, conn: Connection, existing: set[str], schema: dict[str, list[str]]) -> None:
        """An unversioned database is revision 0001 when its tables have every column of 0001 (``schema``)."""
        insp = inspect(conn)
        missing = [f"{name}.{column}" for name in sorted(existing & set(schema)) for column in schema[name]
                   if column not in {c["name"] for c in insp.get_columns(name)}]
        if missing:
            raise OutdatedStore(
                f"数据库 {_safe_url(self.url)} 由较早版本的 sheetsales 创建(缺少 {', '.join(missing)}),"
                "没有从它升级的迁移;请保留它,并用 sheetsales init 新建工作区。数据库未作任何更改。 / "
                f"The database {_safe_url(self.url)} was created by an earlier sheetsales (no {', '.join(missing)}) "
                "and no migration leads from it; keep it, and start a new workspace with sheetsales init. "
                "The database was not changed.")

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # --- writes (inserts only) -----------------------------------------------------------
    @staticmethod
    def add_ingest(conn: Connection, as_of: dt.date) -> int:
        started = dt.datetime.now().isoformat(timespec="seconds")
        return conn.execute(insert(ingests).values(as_of=as_of, started_at=started)).inserted_primary_key[0]

    @staticmethod
    def add_playbook(conn: Connection, ingest_id: int, as_of: dt.date, sha: str, content: str | None) -> int:
        return conn.execute(insert(playbooks).values(
            ingest_id=ingest_id, observed_on=as_of, sha256=sha, valid=content is not None, content=content,
        )).inserted_primary_key[0]

    @staticmethod
    def add_file_version(conn: Connection, **values: Any) -> int:
        """Record a version of a file, after the path's latest one (its ``parent_id``).

        Raises :class:`AlreadyRecorded` when the path's latest version by ``observed_on`` already has
        this content (another process recorded it since the caller looked), or when another version
        was recorded after the same predecessor meanwhile (the unique ``(path, parent_id)``).
        """
        fv = file_versions
        path, sha = values["path"], values["sha256"]
        what = f"version {sha[:12]} of {path}"
        if Store.latest_sha(conn, path, values["observed_on"]) == sha:
            raise AlreadyRecorded(f"{what} is already recorded")
        parent = conn.execute(_query("last_version_id"), {"path": path}).scalar()
        return _insert_once(conn, fv, {**values, "parent_id": parent or 0}, what)

    @staticmethod
    def add_rows(conn: Connection, table: Table, rows: list[Mapping[str, Any]]) -> None:
        if rows:
            conn.execute(_insert(table), rows)

    @staticmethod
    def add_transfer(conn: Connection, **values: Any) -> int:
        """A change of a deal's owner (confiscated, returned, reassigned, kept, closed).

        The transfer records the deal's previous one (``parent_id``). Raises :class:`AlreadyRecorded`
        when the deal's latest transfer is this very change (same people, reason and decision: another
        process made it since the caller looked), or when another transfer of the deal was recorded
        after the same predecessor meanwhile (the unique ``(deal, parent_id)``).
        """
        tr = transfers
        deal = values["deal"]
        what = f"{values.get('reason')} transfer of {deal}"
        last = conn.execute(select(tr).where(tr.c.deal == deal).order_by(tr.c.id.desc()).limit(1)).mappings().first()
        if last is not None and all(last[k] == values.get(k) for k in ("from_person", "to_person", "reason",
                                                                         "decision_id")):
            raise AlreadyRecorded(f"{what} is already recorded")
        return _insert_once(conn, tr, {**values, "parent_id": last["id"] if last else 0}, what)

    @staticmethod
    def add_decision_result(conn: Connection, **values: Any) -> int:
        """The outcome of applying one decision row: applied, or invalid with a reason.

        A decision has one result: a second raises :class:`AlreadyRecorded`.
        """
        return _insert_once(conn, decision_results, values, f"the result of decision {values.get('decision_id')}")

    @staticmethod
    def add_extension(conn: Connection, **values: Any) -> int:
        """Extra days on a deal's stage limit, granted by a decision (once: a second raises :class:`AlreadyRecorded`)."""
        return _insert_once(conn, extensions, values, f"the extension of decision {values.get('decision_id')}")

    @staticmethod
    def add_issues(conn: Connection, ingest_id: int, as_of: dt.date, issues: Iterable[Issue],
                   file_version_id: int | None = None, playbook_id: int | None = None) -> None:
        rows = [
            {"ingest_id": ingest_id, "file_version_id": file_version_id, "playbook_id": playbook_id,
             "observed_on": as_of, "rep": i.rep or None, "code": i.code, "severity": i.severity,
             "file": i.file, "sheet": i.sheet, "cell": i.cell,
             "params": json.dumps(dict(i.params), ensure_ascii=False, default=str)}
            for i in issues
        ]
        if rows:
            conn.execute(_insert(issues_t), rows)

    # --- reads ---------------------------------------------------------------------------
    @staticmethod
    def latest_sha(conn: Connection, path: str, as_of: dt.date) -> str | None:
        row = conn.execute(_query("latest_sha"), {"path": path, "as_of": as_of}).first()
        return row[0] if row else None

    @staticmethod
    def present_paths(conn: Connection, as_of: dt.date) -> set[str]:
        """Paths whose latest version by ``as_of`` is a file, not a removal."""
        fv = file_versions
        latest = (
            select(fv.c.path, func.max(fv.c.id).label("id")).where(fv.c.observed_on <= as_of)
            .group_by(fv.c.path).subquery()
        )
        rows = conn.execute(
            select(fv.c.path).join(latest, latest.c.id == fv.c.id).where(fv.c.sha256 != REMOVED)
        )
        return {r[0] for r in rows}

    @staticmethod
    def last_stage(conn: Connection, opp_key: str, as_of: dt.date) -> int | None:
        row = conn.execute(_query("last_stage"), {"opp_key": opp_key, "as_of": as_of}).first()
        return row[0] if row else None

    @staticmethod
    def activity_fingerprints(conn: Connection, rep: str, week: str, as_of: dt.date) -> dict[str, dict]:
        rows = _dicts(conn.execute(_query("activity_fingerprints"), {"rep": rep, "week": week, "as_of": as_of}))
        return {r["fingerprint"]: r for r in rows}

    # --- the daily log's chains (issue 10; the hashing is sheetsales.method.logchain's) ----------------
    @staticmethod
    def log_entries_of(conn: Connection, rep: str, week: str, as_of: dt.date) -> list[dict]:
        """The accepted log rows of ``rep``'s report for ``week`` observed by ``as_of``, in chain order."""
        le = log_entries
        return _dicts(conn.execute(
            select(le).where(le.c.rep == rep, le.c.week == week, le.c.observed_on <= as_of).order_by(le.c.seq)
        ))

    @staticmethod
    def log_head(conn: Connection, rep: str) -> tuple[int, str] | None:
        """(seq, hash) of ``rep``'s last accepted log row, or None before the first."""
        row = conn.execute(select(log_entries.c.seq, log_entries.c.hash).where(log_entries.c.rep == rep)
                           .order_by(log_entries.c.seq.desc()).limit(1)).first()
        return (row[0], row[1]) if row else None

    @staticmethod
    def add_log_entry(conn: Connection, **values: Any) -> int:
        """Append one accepted row to its person's chain; a second row with the same ``seq`` (another
        process extended the chain meanwhile) raises :class:`AlreadyRecorded`."""
        return _insert_once(conn, log_entries, values, f"log row {values.get('seq')} of {values.get('rep')}")

    @staticmethod
    def add_log_entries(conn: Connection, rows: list[Mapping[str, Any]]) -> None:
        """Append accepted rows to their people's chains in one statement; a row whose ``seq`` is taken
        (another process extended a chain meanwhile) raises :class:`AlreadyRecorded` for them all."""
        if not rows:
            return
        try:
            conn.execute(insert(log_entries), rows)
        except IntegrityError as exc:
            if _is_unique_violation(exc):
                raise AlreadyRecorded(f"log rows of {rows[0].get('rep')} are already recorded ({exc.orig})") from exc
            raise

    @staticmethod
    def add_log_rewrites(conn: Connection, rows: list[Mapping[str, Any]]) -> None:
        if rows:
            conn.execute(insert(log_rewrites), rows)

    @staticmethod
    def rewrite_versions(conn: Connection, entry_ids: Iterable[int]) -> set[tuple[int, str]]:
        """(entry id, fingerprint) of every rewrite already recorded for these accepted rows."""
        ids = list(entry_ids)
        if not ids:
            return set()
        rw = log_rewrites
        return {(r[0], r[1]) for r in conn.execute(select(rw.c.entry_id, rw.c.fingerprint)
                                                   .where(rw.c.entry_id.in_(ids)))}

    def log_chains(self, as_of: dt.date) -> list[dict]:
        """Every accepted log row observed by ``as_of``, person by person in chain order."""
        le = log_entries
        with self.engine.connect() as conn:
            return _dicts(conn.execute(
                select(le).where(le.c.observed_on <= as_of).order_by(le.c.rep, le.c.seq, le.c.id)
            ))

    def playbook_as_of(self, as_of: dt.date) -> tuple[str, int] | None:
        """The content and ingest id of the last valid playbook observed by ``as_of``."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(playbooks.c.content, playbooks.c.ingest_id)
                .where(playbooks.c.valid.is_(True), playbooks.c.observed_on <= as_of)
                .order_by(playbooks.c.observed_on.desc(), playbooks.c.id.desc()).limit(1)
            ).first()
        return (row[0], row[1]) if row else None

    def latest_playbook_sha(self, as_of: dt.date) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(playbooks.c.sha256).where(playbooks.c.observed_on <= as_of)
                .order_by(playbooks.c.observed_on.desc(), playbooks.c.id.desc()).limit(1)
            ).first()
        return row[0] if row else None

    def latest_mpc_versions(self, as_of: dt.date) -> dict[str, dict]:
        """Per rep, the last readable MPC list version observed by ``as_of``."""
        fv = file_versions
        ranked = (
            select(fv.c.id, fv.c.rep, fv.c.path, fv.c.observed_on,
                   func.row_number().over(partition_by=fv.c.rep,
                                          order_by=(fv.c.observed_on.desc(), fv.c.id.desc())).label("rn"))
            .where(fv.c.kind == "mpc", fv.c.readable.is_(True), fv.c.observed_on <= as_of, fv.c.rep.is_not(None))
            .subquery()
        )
        with self.engine.connect() as conn:
            rows = _dicts(conn.execute(select(ranked).where(ranked.c.rn == 1)))
            return {r["rep"]: r for r in rows}

    def opportunities_of(self, version_ids: Iterable[int]) -> list[dict]:
        ids = list(version_ids)
        if not ids:
            return []
        with self.engine.connect() as conn:
            return _dicts(conn.execute(
                select(opportunities).where(opportunities.c.file_version_id.in_(ids))
                .order_by(opportunities.c.rep, opportunities.c.row)
            ))

    def held_keys(self, version_ids: Iterable[int]) -> set[str]:
        ids = list(version_ids)
        if not ids:
            return set()
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(select(held_rows.c.opp_key).where(held_rows.c.file_version_id.in_(ids)))}

    def last_known_opportunities(self, as_of: dt.date) -> dict[str, dict]:
        """Every deal ever listed by ``as_of``, with its last observed row."""
        o = opportunities
        ranked = (
            select(o, func.row_number().over(partition_by=o.c.opp_key,
                                             order_by=(o.c.observed_on.desc(), o.c.id.desc())).label("rn"))
            .where(o.c.observed_on <= as_of).subquery()
        )
        with self.engine.connect() as conn:
            rows = _dicts(conn.execute(select(ranked).where(ranked.c.rn == 1)))
            return {r["opp_key"]: r for r in rows}

    def current_issues(self, as_of: dt.date) -> list[dict]:
        """Issues of the latest version of every file (and of the latest playbook), by ``as_of``."""
        fv = file_versions
        # The latest versions as an IN (subquery): SQLite builds its index once. Joined as a derived
        # table, it scanned all of them for every issue (100,000 issues at 500 reps: 30 s).
        latest = select(func.max(fv.c.id)).where(fv.c.observed_on <= as_of).group_by(fv.c.path)
        with self.engine.connect() as conn:
            rows = _dicts(conn.execute(
                select(issues_t, fv.c.path).join(fv, fv.c.id == issues_t.c.file_version_id)
                .where(fv.c.id.in_(latest))
                .order_by(issues_t.c.rep, issues_t.c.file, issues_t.c.id)
            ))
            last_pb = conn.execute(
                select(playbooks.c.id).where(playbooks.c.observed_on <= as_of)
                .order_by(playbooks.c.observed_on.desc(), playbooks.c.id.desc()).limit(1)
            ).first()
            if last_pb:
                rows += _dicts(conn.execute(
                    select(issues_t).where(issues_t.c.playbook_id == last_pb[0]).order_by(issues_t.c.id)
                ))
        for r in rows:
            r["params"] = json.loads(r["params"] or "{}")
        return rows

    def current_issue_counts(self, as_of: dt.date) -> dict[str, int]:
        """Severity -> how many of :meth:`current_issues` have it, counted by the database."""
        fv = file_versions
        latest = select(func.max(fv.c.id)).where(fv.c.observed_on <= as_of).group_by(fv.c.path)
        counts: dict[str, int] = {}
        with self.engine.connect() as conn:
            for severity, n in conn.execute(
                select(issues_t.c.severity, func.count()).where(issues_t.c.file_version_id.in_(latest))
                .group_by(issues_t.c.severity)
            ):
                counts[str(severity)] = counts.get(str(severity), 0) + n
            last_pb = conn.execute(
                select(playbooks.c.id).where(playbooks.c.observed_on <= as_of)
                .order_by(playbooks.c.observed_on.desc(), playbooks.c.id.desc()).limit(1)
            ).first()
            if last_pb:
                for severity, n in conn.execute(
                    select(issues_t.c.severity, func.count()).where(issues_t.c.playbook_id == last_pb[0])
                    .group_by(issues_t.c.severity)
                ):
                    counts[str(severity)] = counts.get(str(severity), 0) + n
        return counts

    def weekly_rows(self, table: Table, as_of: dt.date) -> list[dict]:
        """Rows of the latest readable version of every weekly report observed by ``as_of``."""
        fv = file_versions
        latest = (
            select(fv.c.rep, fv.c.week, func.max(fv.c.id).label("id"))
            .where(fv.c.kind == "weekly", fv.c.readable.is_(True), fv.c.observed_on <= as_of)
            .group_by(fv.c.rep, fv.c.week).subquery()
        )
        with self.engine.connect() as conn:
            rows = _dicts(conn.execute(
                select(table).join(latest, and_(latest.c.id == table.c.file_version_id))
            ))
            return rows

    def latest_rows(self, table: Table, kind: str, as_of: dt.date) -> list[dict]:
        """Rows of the latest readable version of every person's workbook of ``kind`` observed by ``as_of``."""
        fv = file_versions
        latest = (
            select(fv.c.rep, func.max(fv.c.id).label("id"))
            .where(fv.c.kind == kind, fv.c.readable.is_(True), fv.c.observed_on <= as_of)
            .group_by(fv.c.rep).subquery()
        )
        with self.engine.connect() as conn:
            rows = _dicts(conn.execute(
                select(table).join(latest, latest.c.id == table.c.file_version_id).order_by(table.c.id)
            ))
            return rows

    def lost_customers(self, as_of: dt.date) -> dict[str, list[str]]:
        """rep → the customers of their deals ever marked lost by ``as_of`` (first seen lost first)."""
        o = opportunities
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(o.c.rep, o.c.customer).where(o.c.status == "lost", o.c.observed_on <= as_of)
                .order_by(o.c.observed_on, o.c.id)
            ).all()
        out: dict[str, list[str]] = {}
        for rep, customer in rows:
            if customer not in out.setdefault(rep, []):
                out[rep].append(customer)
        return out

    def rows(self, table: Table, as_of: dt.date, date_column: str = "observed_on") -> list[dict]:
        """Every row of an append-only ``table`` observed by ``as_of``, oldest first."""
        with self.engine.connect() as conn:
            return _dicts(conn.execute(
                select(table).where(table.c[date_column] <= as_of).order_by(table.c[date_column], table.c.id)
            ))

    def rows_after(self, table: Table, as_of: dt.date, after_id: int) -> list[dict]:
        """The rows of an append-only ``table`` observed by ``as_of`` with an id above ``after_id``,
        oldest first (what was recorded since a reader last looked)."""
        with self.engine.connect() as conn:
            return _dicts(conn.execute(
                select(table).where(table.c.id > after_id, table.c.observed_on <= as_of)
                .order_by(table.c.observed_on, table.c.id)
            ))

    def row_counts(self, tables: Iterable[Table], as_of: dt.date) -> dict[str, int]:
        """How many rows of each append-only table were observed by ``as_of`` (one query)."""
        tables = list(tables)
        with self.engine.connect() as conn:
            row = conn.execute(select(*(select(func.count()).select_from(t).where(t.c.observed_on <= as_of)
                                        .scalar_subquery() for t in tables))).one()
        return {t.name: int(n) for t, n in zip(tables, row, strict=True)}

    def snapshots(self, as_of: dt.date) -> list[dict]:
        """Every opportunity row of every readable MPC list version by ``as_of``, oldest first."""
        return self.rows(opportunities, as_of)

    def latest_decision_rows(self, as_of: dt.date) -> list[dict]:
        """The decision rows of the latest version of every decisions workbook, by ``as_of``."""
        fv = file_versions
        latest = (
            select(fv.c.path, func.max(fv.c.id).label("id"))
            .where(fv.c.observed_on <= as_of).group_by(fv.c.path).subquery()
        )
        with self.engine.connect() as conn:
            return _dicts(conn.execute(
                select(decisions).join(latest, latest.c.id == decisions.c.file_version_id)
                .order_by(decisions.c.id)
            ))

    def latest_version_rows(self, table: Table, as_of: dt.date) -> list[dict]:
        """The rows of ``table`` in the latest version of each file by ``as_of``; a file whose latest
        version could not be read keeps its last readable version's rows, a removed file has none."""
        fv = file_versions
        latest = (
            select(fv.c.path, func.max(fv.c.id).label("id"))
            .where(fv.c.observed_on <= as_of, (fv.c.readable.is_(True)) | (fv.c.sha256 == REMOVED))
            .group_by(fv.c.path).subquery()
        )
        with self.engine.connect() as conn:
            return _dicts(conn.execute(
                select(table).join(latest, latest.c.id == table.c.file_version_id).order_by(table.c.id)
            ))

    def content_mark(self, skip: Iterable[str] = ()) -> str:
        """The highest id of every table (but ``skip``), as one string, in one query: in an
        append-only store, any new record of any of them changes it."""
        names = [t.name for t in metadata.sorted_tables if t.name not in set(skip) and "id" in t.c]
        with self.engine.connect() as conn:
            row = conn.execute(select(*(select(func.max(metadata.tables[name].c.id)).scalar_subquery()
                                        for name in names))).one()
        return ",".join(f"{name}:{v or 0}" for name, v in zip(names, row, strict=True))

    def change_mark(self) -> str:
        """What the reports depend on, as one comparable string: the latest id of each reported table.

        It changes whenever anything is recorded that a report shows (a file version, a playbook,
        an issue, a decision's result, a transfer, an extension), whoever recorded it; an ingest that
        found nothing new leaves it as it was.
        """
        with self.engine.connect() as conn:
            row = conn.execute(select(*(select(func.max(metadata.tables[name].c.id)).scalar_subquery()
                                        for name in REPORTED_TABLES if name in metadata.tables))).one()
        return ",".join(str(v or 0) for v in row)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in metadata.sorted_tables}

    # --- reading bookkeeping: one file, one fate -------------------------------------------
    # Written outside the ingest's per-file transactions, each in its own, so that a process that
    # dies while reading a file (kill -9, an abort in the reader) leaves a started read behind.
    def start_read(self, ingest_id: int | None, path: str, sha: str) -> int:
        """Record, committed at once, that this content of ``path`` is about to be read."""
        with self.engine.begin() as conn:
            return conn.execute(_insert(reads), {
                "ingest_id": ingest_id, "path": path, "sha256": sha, "pid": os.getpid(),
                "started_at": dt.datetime.now().isoformat(timespec="seconds"),
            }).inserted_primary_key[0]

    def finish_read(self, read_id: int, outcome: str) -> None:
        """Record, committed at once, that a read ended (``read``, or ``failed`` with an exception)."""
        with self.engine.begin() as conn:
            conn.execute(_insert(read_ends), {
                "read_id": read_id, "outcome": outcome, "finished_at": dt.datetime.now().isoformat(timespec="seconds")})

    def crashed_read(self, sha: str, path: str | None = None) -> bool:
        """Whether reading this content (at ``path``, or anywhere) once started and never ended."""
        query, params = ((_query("crashed_read"), {"sha": sha}) if path is None
                         else (_query("crashed_read_at"), {"sha": sha, "path": path}))
        with self.engine.connect() as conn:
            return conn.execute(query, params).first() is not None

    def path_states(self, as_of: dt.date) -> dict[str, dict]:
        """Per path present by ``as_of``: its latest version (id, sha256, kind, rep, week, readable),
        ``first_id`` (the id of the path's first recorded version) and ``duplicate`` (the latest
        version was recorded as a copy: ``duplicate-workbook``)."""
        fv = file_versions
        ids = (select(fv.c.path, func.max(fv.c.id).label("id"), func.min(fv.c.id).label("first_id"))
               .where(fv.c.observed_on <= as_of).group_by(fv.c.path).subquery())
        # The versions recorded as copies in one query: a subquery per path scanned every issue
        # for every path (the issues table has no index on the version).
        copies = (select(issues_t.c.file_version_id).distinct()
                  .where(issues_t.c.code == "duplicate-workbook", issues_t.c.file_version_id.is_not(None)))
        with self.engine.connect() as conn:
            copied = {r[0] for r in conn.execute(copies)}
            rows = conn.execute(
                select(fv.c.path, fv.c.id, fv.c.sha256, fv.c.kind, fv.c.rep, fv.c.week, fv.c.readable, ids.c.first_id)
                .join(ids, ids.c.id == fv.c.id).where(fv.c.sha256 != REMOVED)
            ).mappings()
            return {r["path"]: {**r, "duplicate": r["id"] in copied} for r in rows}


# A read of one file's content: started (committed before the reader runs) and, in ``read_ends``,
# finished. A started read without an end is a read the process did not survive.
reads = Table(
    "reads", metadata,
    Column("id", Integer, primary_key=True),
    Column("ingest_id", ForeignKey("ingests.id")),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("pid", Integer),
    Column("started_at", String(32), nullable=False),
    Index("ix_reads_sha", "sha256", "path"),
)

read_ends = Table(
    "read_ends", metadata,
    Column("id", Integer, primary_key=True),
    Column("read_id", ForeignKey("reads.id"), nullable=False, unique=True),
    Column("outcome", String(10), nullable=False),  # read | failed
    Column("finished_at", String(32), nullable=False),
)


# --------------------------------------------------------------------------------------------
# Incremental ingest: what was seen of each inbox file, and bulk reads (one query per file or run)
# --------------------------------------------------------------------------------------------
# What a file's size and modification time were when its content was hashed: a later ingest that
# finds the same size and time at the path skips the file without reading or hashing it. A fact
# about the file, not a reported record (not in ``REPORTED_TABLES``, not filtered by ``as_of``);
# ``recorded_ns`` lets the caller distrust a time too close to the moment it was recorded (a write
# within the same clock tick would keep size and time).
file_stats = Table(
    "file_stats", metadata,
    Column("id", Integer, primary_key=True),
    Column("path", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("recorded_ns", BigInteger, nullable=False),
    Index("ix_fs_path", "path"),
)


def add_file_stat(conn: Connection, path: str, size: int, mtime_ns: int, sha256: str) -> None:
    """Remember that the file at ``path`` with this size and modification time holds ``sha256``."""
    conn.execute(_insert(file_stats), {"path": path, "size": size, "mtime_ns": mtime_ns, "sha256": sha256,
                                       "recorded_ns": time.time_ns()})


def unchanged_stats(store: Store, as_of: dt.date) -> dict[str, tuple[int, int, int]]:
    """Per path: (size, mtime_ns, recorded_ns) of its last remembered stat, for the paths whose
    remembered content is the content of their latest version by ``as_of`` (what
    :meth:`Store.latest_sha` gives, removals excluded). A file still showing that size and time
    holds, as far as a stat can tell, what the store already has."""
    fv, fs = file_versions, file_stats
    ranked = (
        select(fv.c.path, fv.c.sha256,
               func.row_number().over(partition_by=fv.c.path,
                                      order_by=(fv.c.observed_on.desc(), fv.c.id.desc())).label("rn"))
        .where(fv.c.observed_on <= as_of).subquery()
    )
    last_stat = select(fs.c.path, func.max(fs.c.id).label("id")).group_by(fs.c.path).subquery()
    # Two queries joined here by path: joined in SQL on the path of the ranked subquery, SQLite
    # compared every stat with every version (4,100 files: 5 s, most of an unchanged re-ingest).
    with store.engine.connect() as conn:
        latest = {r[0]: r[1] for r in conn.execute(select(ranked.c.path, ranked.c.sha256).where(ranked.c.rn == 1))}
        rows = conn.execute(
            select(fs.c.path, fs.c.size, fs.c.mtime_ns, fs.c.recorded_ns, fs.c.sha256)
            .join(last_stat, last_stat.c.id == fs.c.id)
            .where(fs.c.sha256 != REMOVED)
        )
        return {r[0]: (r[1], r[2], r[3]) for r in rows if latest.get(r[0]) == r[4]}


def last_stages(conn: Connection, opp_keys: Iterable[str], as_of: dt.date) -> dict[str, int]:
    """Per deal key (of those given): its last recorded stage by ``as_of`` (:meth:`Store.last_stage`
    for many keys in one query). Keys never recorded are absent."""
    keys = sorted(set(opp_keys))
    out: dict[str, int] = {}
    for start in range(0, len(keys), 5000):  # well under SQLite's limit of bound parameters
        out.update((r[0], r[1]) for r in conn.execute(_query("last_stages"),
                                                      {"keys": keys[start:start + 5000], "as_of": as_of}))
    return out
