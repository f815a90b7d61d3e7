"""Upgrades keep every workspace: the store's schema is versioned with Alembic.

A workspace written by the release before versioning (tests/fixtures/unversioned-workspace, made by
tests/fixtures/make_unversioned_workspace.py with that release's code) opens with the figures that
release reported; a database newer than this release is refused and left alone.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import sqlite3
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import WEEK1, deal, save_mpc
from sqlalchemy import create_engine, inspect, select

from sheetsales.service.cli import main
from sheetsales.service.workspace import Workspace
from sheetsales.storage import migrations
from sheetsales.storage.ingest import ingest
from sheetsales.storage.store import NewerStore, Store, file_versions, metadata, sqlite_url

FIXTURES = Path(__file__).parent / "fixtures"
UNVERSIONED = FIXTURES / "unversioned-workspace"
UNVERSIONED_AS_OF = WEEK1 + dt.timedelta(days=33)


def report_json(root: Path, as_of: dt.date, keys: object = None) -> dict:
    """``report --json``; with ``keys`` (a dict), only its keys: the sections added since the fixture
    was made are new keys, the figures it has must stay the same."""
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["report", str(root), "--json", "--no-write", "--as-of", as_of.isoformat()]) == 0
    got = json.loads(out.getvalue())
    if keys is None:
        return got
    # Records may have gained fields since (e.g. the forecast's actual): the fields the fixture has compare.
    def project(value: object, like: object) -> object:
        if isinstance(value, list) and isinstance(like, list) and like and isinstance(like[0], dict):
            fields = set().union(*like)
            return [{f: r.get(f) for f in r if f in fields} if isinstance(r, dict) else r for r in value]
        return value
    return {k: project(got.get(k), keys[k]) for k in keys}  # type: ignore[index]


def schema_diff(url: str, compare_type: bool = True) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": compare_type}), metadata)
    finally:
        engine.dispose()


def revision_of(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]


def test_the_revisions_are_the_scripts_and_head_is_their_head() -> None:
    scripts = ScriptDirectory(migrations.SCRIPT_LOCATION)
    assert scripts.get_heads() == [migrations.HEAD]
    assert [s.revision for s in reversed(list(scripts.walk_revisions()))] == list(migrations.REVISIONS)


def test_the_migrations_build_the_schema_the_store_describes(tmp_path: Path) -> None:
    """Alembic's autogenerate finds no difference between the migrated database and ``store.metadata``:
    a change to the tables without a new revision fails here."""
    url = sqlite_url(tmp_path / "migrated.db")
    engine = create_engine(url)
    with engine.begin() as conn:
        migrations.upgrade(conn)
    engine.dispose()
    assert schema_diff(url) == []
    # A new database opened by the store gets the same schema, stamped at the head.
    fresh = tmp_path / "fresh.db"
    Store(sqlite_url(fresh)).close()
    assert schema_diff(sqlite_url(fresh)) == []
    assert revision_of(fresh) == [migrations.HEAD]


def test_a_workspace_of_the_release_before_versioning_opens_with_the_same_figures(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(UNVERSIONED, root)
    with sqlite3.connect(root / "sheetsales.db") as conn:  # the fixture is what that release wrote
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "alembic_version" not in tables and "transfers" in tables
        history = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                   for t in ("file_versions", "transfers", "decision_results", "extensions")}
    assert history == {"file_versions": 16, "transfers": 16, "decision_results": 3, "extensions": 1}
    expected = json.loads((FIXTURES / "unversioned-workspace.json").read_text(encoding="utf-8"))
    assert report_json(root, UNVERSIONED_AS_OF, expected) == expected
    assert revision_of(root / "sheetsales.db") == [migrations.HEAD]  # stamped: 0001 is that schema
    # The tables added since were created. Its VARCHAR(n) columns are now TEXT: one type to SQLite (it never
    # enforced a length), so only the names, tables, indexes and constraints are compared.
    assert schema_diff(sqlite_url(root / "sheetsales.db"), compare_type=False) == []
    # The upgraded workspace records new saves after its history.
    ws = Workspace.open(root)
    ws.handout(ws_playbook(ws), UNVERSIONED_AS_OF)
    save_mpc(ws, "R01", [deal("大庆石化机械厂", "方案设计", 1_200_000)])
    ingest(ws, UNVERSIONED_AS_OF + dt.timedelta(days=1))
    store = ws.store()
    try:
        rows = store.rows(file_versions, UNVERSIONED_AS_OF + dt.timedelta(days=1))
    finally:
        store.close()
    [*_, previous, latest] = [r for r in rows if r["path"] == "R01/MPC一览表_R01.xlsx"]
    assert latest["parent_id"] == previous["id"] and latest["readable"] and latest["id"] > 16
    assert report_json(root, UNVERSIONED_AS_OF, expected) == expected  # the past is unchanged


def ws_playbook(ws: Workspace):
    from sheetsales.method.playbook import read_playbook

    playbook, _ = read_playbook(ws.playbook_path, ws.lang)
    return playbook


def test_a_workspace_of_this_release_without_its_version_is_stamped_with_the_same_figures(
        workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲", "方案设计"), deal("乙", "方案确认", 600_000)])
    ingest(workspace, WEEK1)
    ingest(workspace, WEEK1 + dt.timedelta(days=31))  # confiscations
    as_of = WEEK1 + dt.timedelta(days=31)
    before = report_json(workspace.root, as_of)
    db = workspace.root / "sheetsales.db"
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE alembic_version")
    assert report_json(workspace.root, as_of) == before
    assert revision_of(db) == [migrations.HEAD]


def test_a_database_of_a_newer_sheetsales_is_refused_and_left_alone(
        workspace: Workspace, capsys: pytest.CaptureFixture) -> None:
    save_mpc(workspace, "R01", [deal("甲")])
    ingest(workspace, WEEK1)
    db = workspace.root / "sheetsales.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
        recorded = conn.execute("SELECT count(*) FROM file_versions").fetchone()[0]
    size = db.stat().st_size
    with pytest.raises(NewerStore, match="9999"):
        workspace.store()
    capsys.readouterr()
    assert main(["ingest", str(workspace.root), "-q"]) == 2
    err = capsys.readouterr().err
    assert "newer sheetsales" in err and "更新版本" in err and "9999" in err and "Traceback" not in err
    assert main(["report", str(workspace.root), "--json", "--no-write"]) == 2
    assert revision_of(db) == ["9999"] and db.stat().st_size == size
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM file_versions").fetchone()[0] == recorded > 0


def test_a_database_at_an_older_revision_is_upgraded_by_the_scripts(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The upgrade path itself, with a second revision of a test's own: the store runs it on open."""
    scripts = tmp_path / "migrations"
    shutil.copytree(migrations.SCRIPT_LOCATION, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_probe.py").write_text(
        '"""A probe table."""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = '9999'\ndown_revision = '{migrations.HEAD}'\nbranch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade() -> None:\n"
        "    op.create_table('probe', sa.Column('id', sa.Integer(), primary_key=True))\n\n\n"
        "def downgrade() -> None:\n    op.drop_table('probe')\n", encoding="utf-8")
    db = tmp_path / "store.db"
    Store(sqlite_url(db)).close()  # at this release's head
    monkeypatch.setattr(migrations, "SCRIPT_LOCATION", str(scripts))
    monkeypatch.setattr(migrations, "REVISIONS", (*migrations.REVISIONS, "9999"))
    monkeypatch.setattr(migrations, "HEAD", "9999")
    store = Store(sqlite_url(db))
    try:
        assert store.revision() == "9999"
        assert "probe" in inspect(store.engine).get_table_names()
        with store.engine.connect() as conn:
            assert conn.execute(select(file_versions.c.id)).all() == []
    finally:
        store.close()
