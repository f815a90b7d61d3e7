"""The store on PostgreSQL: the same schema, the same refusals, the same figures as on SQLite, and
several offices sharing one database one run at a time.

Needs a PostgreSQL server: ``SHEETSALES_TEST_PG`` is the URL of a database in which the tests may
create and drop databases of their own (``tools/pg-test-cluster start DIR`` starts a private one
and prints it; .ci/run does so). Without it the tests are skipped, and with
``SHEETSALES_REQUIRE_PG=1`` (as CI sets) they fail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import WEEK1, deal, save_mpc
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from sheetsales.method.playbook import Playbook
from sheetsales.service.workspace import Workspace, WorkspaceBusy, init_workspace
from sheetsales.storage import migrations
from sheetsales.storage.store import (
    AlreadyRecorded,
    Store,
    _insert_once,
    decisions,
    file_versions,
    metadata,
    transfers,
)

CLI = [sys.executable, "-m", "sheetsales.service.cli"]
DEMO_AS_OF = "2026-12-02"


@pytest.fixture
def new_database() -> Iterator[Callable[[], str]]:
    """Makes empty databases on the test server (dropped afterwards); returns their URLs."""
    base = os.environ.get("SHEETSALES_TEST_PG", "")
    if not base:
        if os.environ.get("SHEETSALES_REQUIRE_PG") == "1":
            pytest.fail("SHEETSALES_REQUIRE_PG=1 but SHEETSALES_TEST_PG (a PostgreSQL URL) is not set")
        pytest.skip("no PostgreSQL: set SHEETSALES_TEST_PG (tools/pg-test-cluster start DIR prints one)")
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    made: list[str] = []

    def make() -> str:
        name = f"sheetsales_t_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(base).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def schema_diff(url: str) -> list:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()


def test_the_schema_on_postgres_is_the_one_the_store_describes(new_database: Callable[[], str]) -> None:
    opened, migrated = new_database(), new_database()
    store = Store(opened)  # a new database: created and stamped
    try:
        assert store.engine.dialect.name == "postgresql" and store.revision() == migrations.HEAD
    finally:
        store.close()
    engine = create_engine(migrated, poolclass=NullPool)
    with engine.begin() as conn:  # the same schema through the migration scripts
        migrations.upgrade(conn)
    engine.dispose()
    assert schema_diff(opened) == [] and schema_diff(migrated) == []
    Store(migrated).close()  # at the head already: opened as it is



def test_processes_that_open_a_new_database_at_once_create_it_once(new_database: Callable[[], str]) -> None:
    """The schema is created under a transaction-level advisory lock: the others find it made."""
    url = new_database()
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_it() -> None:
        try:
            start.wait(10)
            Store(url).close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [migrations.HEAD]
    engine.dispose()

def test_the_store_on_postgres_records_once_and_keeps_long_text(new_database: Callable[[], str]) -> None:
    store = Store(new_database())
    day = WEEK1
    long_path = "华东/" + "很长的文件夹名" * 100 + "/MPC一览表_R01.xlsx"  # PostgreSQL would enforce a VARCHAR(500)
    version = {"observed_on": day, "path": long_path, "sha256": "a" * 64, "size": 10, "archive": "x" * 800,
               "kind": "mpc", "rep": "一位名字很长的销售工程师" * 5, "week": "2026-W45", "readable": True}
    try:
        with store.transaction() as conn:
            ingest_id = store.add_ingest(conn, day)
            first = store.add_file_version(conn, ingest_id=ingest_id, **version)
        with pytest.raises(AlreadyRecorded), store.transaction() as conn:  # the same content again
            store.add_file_version(conn, ingest_id=ingest_id, **version)
        with pytest.raises(AlreadyRecorded), store.transaction() as conn:  # the unique (path, parent_id)
            _insert_once(conn, file_versions, {**version, "ingest_id": ingest_id, "sha256": "b" * 64, "parent_id": 0},
                         "a second version after none")
        with store.transaction() as conn:
            second = store.add_file_version(conn, ingest_id=ingest_id, **{**version, "sha256": "c" * 64})
            decision_id = conn.execute(decisions.insert().values(
                file_version_id=second, observed_on=day, author="S01", file="决策_S01.xlsx", sheet="决策", row=2,
                fingerprint="f" * 40, deal="R01-1234abcd", decision="延期", days=10)).inserted_primary_key[0]
            store.add_decision_result(conn, decision_id=decision_id, observed_on=day, outcome="applied")
            store.add_transfer(conn, ingest_id=ingest_id, observed_on=day, deal="R01-1234abcd", from_person="R01",
                               to_person="S01", reason="confiscated", stage=3)
        with pytest.raises(AlreadyRecorded), store.transaction() as conn:
            store.add_decision_result(conn, decision_id=decision_id, observed_on=day, outcome="applied")
        with pytest.raises(AlreadyRecorded), store.transaction() as conn:
            store.add_transfer(conn, ingest_id=ingest_id, observed_on=day, deal="R01-1234abcd", from_person="R01",
                               to_person="S01", reason="confiscated", stage=3)
        [state] = store.path_states(day).values()
        assert (state["id"], state["sha256"], state["readable"], state["first_id"]) == (second, "c" * 64, True, first)
        assert isinstance(state["readable"], bool)
        assert store.rows(file_versions, day)[0]["observed_on"] == day  # a date, not text
        assert store.rows(file_versions, day - dt.timedelta(days=1)) == []
        counts = store.counts()
        assert (counts["file_versions"], counts["decision_results"], counts["transfers"]) == (2, 1, 1)
    finally:
        store.close()



def test_the_read_bookkeeping_on_postgres(new_database: Callable[[], str]) -> None:
    """A read started and never ended is a read the process did not survive, whatever the path."""
    store = Store(new_database())
    try:
        mark = store.change_mark()
        read_id = store.start_read(None, "R01/MPC一览表_R01.xlsx", "d" * 64)
        assert store.crashed_read("d" * 64) and store.crashed_read("d" * 64, "R01/MPC一览表_R01.xlsx")
        assert not store.crashed_read("d" * 64, "R02/MPC一览表_R02.xlsx") and not store.crashed_read("e" * 64)
        store.finish_read(read_id, "failed")
        assert not store.crashed_read("d" * 64)
        assert store.change_mark() != mark  # a failed read is reported
    finally:
        store.close()

def run(args: list[str], env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.Popen:
    return subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def finish(proc: subprocess.Popen, timeout: float = 600) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


def test_the_demo_on_postgres_has_the_figures_it_has_on_sqlite(new_database: Callable[[], str],
                                                               tmp_path: Path) -> None:
    """Eight weeks of a 13-rep team (errors, confiscations, decisions, a lock passed on), once on each."""
    url = new_database()
    env_sqlite = {"SHEETSALES_DATABASE_URL": ""}
    env_pg = {"SHEETSALES_DATABASE_URL": url}
    procs = [run(["demo", str(tmp_path / "sqlite"), "--as-of", DEMO_AS_OF], env_sqlite),
             run(["demo", str(tmp_path / "pg"), "--as-of", DEMO_AS_OF], env_pg)]
    for proc in procs:
        finish(proc)
    assert not (tmp_path / "pg" / "sheetsales.db").exists()  # the figures below came from PostgreSQL
    figures = [json.loads(finish(run(["report", str(tmp_path / name), "--json", "--no-write", "--as-of", DEMO_AS_OF],
                                     env)))
               for name, env in (("sqlite", env_sqlite), ("pg", env_pg))]
    assert figures[0]["opportunities"] and figures[0]["alerts"]
    assert figures[1] == figures[0]


# --- two offices, one database -----------------------------------------------------------------
def two_office_playbook() -> Playbook:
    """The default team, R03 moved to a second office's region (华南), still under S01."""
    team = tuple(dataclasses.replace(p, region="华南") if p.id == "R03" else p for p in Playbook().team)
    return Playbook(team=team)


def office(root: Path, regions: list[str], url: str, playbook: Playbook) -> Workspace:
    root.mkdir(parents=True)
    (root / "sheetsales.toml").write_text(
        f'language = "zh-CN"\nworkspace_id = "{root.name}"\ndatabase_url = "{url}"\n'
        f"[office]\nregions = {json.dumps(regions, ensure_ascii=False)}\n", encoding="utf-8")
    return init_workspace(root, playbook=playbook, as_of=WEEK1)


def test_two_offices_on_one_database_record_each_file_once_and_confiscate_once(
        new_database: Callable[[], str], tmp_path: Path) -> None:
    url = new_database()
    playbook = two_office_playbook()
    east = office(tmp_path / "east", ["全国", "华东"], url, playbook)
    south = office(tmp_path / "south", ["华南"], url, playbook)
    assert sorted(p.name for p in east.inbox.iterdir()) == ["D01", "R01", "R02", "S01"]
    assert sorted(p.name for p in south.inbox.iterdir()) == ["R03"]  # each office hands out its own people's
    save_mpc(east, "R01", [deal("大庆石化机械厂", "方案设计"), deal("天津港务集团", "方案确认", 600_000)])
    save_mpc(east, "R02", [deal("青岛啤酒设备公司", "商务谈判", 2_000_000)])
    save_mpc(south, "R03", [deal(f"广州客户{i:02d}", "方案设计", 100_000 + i) for i in range(20)])
    for day in (WEEK1, WEEK1 + dt.timedelta(days=31)):  # day 31: every deal at 方案设计/方案确认 is confiscated
        procs = [run(["ingest", str(ws.root), "-q", "--as-of", day.isoformat()]) for ws in (east, south)]
        for proc in procs:
            finish(proc)
    store = east.store()
    try:
        with store.engine.connect() as conn:
            fv = file_versions
            versions = conn.execute(select(fv.c.path, fv.c.sha256, func.count()).group_by(fv.c.path, fv.c.sha256)
                                    .having(func.count() > 1)).all()
            moves = conn.execute(select(transfers.c.deal, transfers.c.reason)).all()
            paths = set(conn.execute(select(fv.c.path)).scalars())
    finally:
        store.close()
    assert versions == []  # no file version recorded twice
    assert {p.split("/")[0] for p in paths} == {"D01", "R01", "R02", "R03", "S01"}  # both offices' files
    confiscated = [d for d, reason in moves if reason == "confiscated"]
    assert len(confiscated) == len(set(confiscated)) == 22  # every deal of both offices, once
    # Both offices report the one organisation: the same figures.
    as_of = (WEEK1 + dt.timedelta(days=31)).isoformat()
    east_figures, south_figures = (finish(run(["report", str(ws.root), "--json", "--no-write", "--as-of", as_of]))
                                   for ws in (east, south))
    assert json.loads(east_figures) == json.loads(south_figures)


def test_the_database_lock_makes_another_office_wait_and_says_who_holds_it(
        new_database: Callable[[], str], tmp_path: Path) -> None:
    url = new_database()
    playbook = two_office_playbook()
    east = office(tmp_path / "east", ["全国", "华东"], url, playbook)
    south = office(tmp_path / "south", ["华南"], url, playbook)
    told: list[str] = []
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with east.lock(command="sheetsales ingest"):
            entered.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert entered.wait(30)
        with pytest.raises(WorkspaceBusy) as busy, south.lock(timeout=0.6, on_wait=told.append):
            pass  # the folders differ, so only the database can say the workspace is taken
    finally:
        release.set()
        holder.join(30)
    assert len(told) == 1 and f"进程 {os.getpid()}" in told[0] and "sheetsales ingest" in told[0]
    assert "sheetsales ingest" in str(busy.value)
    with south.lock(timeout=5):  # released with the holder's run
        pass


def test_the_office_setting_is_checked(tmp_path: Path) -> None:
    from sheetsales.service.workspace import WorkspaceError

    root = tmp_path / "ws"
    init_workspace(root, as_of=WEEK1, sample=True)
    assert Workspace.open(root).regions == ()  # no [office]: one workspace serves everyone
    cfg = root / "sheetsales.toml"
    text_before = cfg.read_text(encoding="utf-8")
    for bad in ('[office]\nregions = "华东"\n', "[office]\nregion = [\"华东\"]\n", "[office]\nregions = [1]\n"):
        cfg.write_text(text_before + bad, encoding="utf-8")
        with pytest.raises(WorkspaceError, match=r"\[office\]"):
            Workspace.open(root)


def test_a_database_that_cannot_be_reached_is_a_message(workspace: Workspace, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """No server at the URL (nothing listens on this socket folder): exit 2, both languages, no traceback."""
    from sheetsales.service.cli import main
    from sheetsales.storage.store import StoreUnreachable

    url = f"postgresql+psycopg://sheetsales:secret@/sheetsales?host={tmp_path}&port=1"
    with pytest.raises(StoreUnreachable, match="Cannot connect"):
        Store(url)
    monkeypatch.setenv("SHEETSALES_DATABASE_URL", url)
    assert main(["report", str(workspace.root), "--json", "--no-write"]) == 2
    err = capsys.readouterr().err
    assert "无法连接数据库" in err and "Cannot connect" in err and "Traceback" not in err
    assert "secret" not in err  # the password is not shown
