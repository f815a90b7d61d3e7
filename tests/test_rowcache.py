"""Rows kept by a resident process equal the store's own reading, and are read again only where they grew.

The demo's weeks are ingested and reported with the rows kept (as ``sheetsales watch`` keeps them):
every ingest and report reads the store's tables, so the kept rows are brought up to date many
times over. Afterwards every table read from what was kept, at every date of the demo, must equal
the store's own query, each table must have been read whole once only, and the summary analysed
from kept rows must equal the one analysed from the database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select

from sheetsales.analyses.analyse import analyse
from sheetsales.service.demo import run_demo
from sheetsales.service.workspace import Workspace
from sheetsales.storage import rowcache
from sheetsales.storage.ingest import load_playbook
from sheetsales.storage.store import WHOLE_TABLES, Store, activities

AS_OF = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def kept_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, list[dt.date]]:
    rowcache.keep()
    try:
        result = run_demo(tmp_path_factory.mktemp("rowcache") / "demo", AS_OF, weeks=3, out=lambda _line: None)
        ws = Workspace.open(result.root)
        store = ws.store()
        try:
            whole = {t.name: rowcache.reloads(store, t) for t in WHOLE_TABLES}
        finally:
            store.close()
    finally:
        rowcache.keep(False)
    assert whole == {t.name: 1 for t in WHOLE_TABLES}, "a table was read whole more than once"
    return ws, [*result.ingest_dates, AS_OF]


def _direct(store: Store, table, as_of: dt.date) -> list[dict]:  # noqa: ANN001
    """The store's own query (what :meth:`Store.rows` runs when nothing is kept)."""
    with store.engine.connect() as conn:
        found = conn.execute(select(table).where(table.c.observed_on <= as_of)
                             .order_by(table.c.observed_on, table.c.id)).mappings()
        return [dict(r) for r in found]


def test_kept_rows_equal_the_stores_reading_at_every_date(kept_demo: tuple[Workspace, list[dt.date]]) -> None:
    ws, dates = kept_demo
    store = ws.store()
    try:
        expected = {(t.name, d): _direct(store, t, d) for t in WHOLE_TABLES for d in dates}
        known = {d: store.last_known_opportunities(d) for d in dates}
        rowcache.keep()
        try:
            for (name, d), rows in expected.items():
                table = next(t for t in WHOLE_TABLES if t.name == name)
                assert store.rows(table, d) == rows, (name, d)
            assert sum(len(rows) for rows in expected.values()) > 1000  # the demo filled them
            for d in dates:
                assert store.last_known_opportunities(d) == known[d], d
            # a copy is handed out: changing it changes nothing kept
            store.rows(activities, AS_OF)[0]["rep"] = "changed"
            assert store.rows(activities, AS_OF) == expected[("activities", AS_OF)]
        finally:
            rowcache.keep(False)
    finally:
        store.close()


def test_the_summary_from_kept_rows_equals_the_one_from_the_database(kept_demo: tuple[Workspace, list[dt.date]]) -> None:
    ws, _dates = kept_demo
    store = ws.store()
    try:
        playbook, _ = load_playbook(ws, store, AS_OF)
        plain = analyse(store, playbook, AS_OF, ws.lang)
        rowcache.keep()
        try:
            analyse(store, playbook, AS_OF, ws.lang)  # loads what is kept
            kept = analyse(store, playbook, AS_OF, ws.lang)
        finally:
            rowcache.keep(False)
        assert len(plain.opportunities) > 20
        for f in dataclasses.fields(plain):
            assert getattr(kept, f.name) == getattr(plain, f.name), f.name
    finally:
        store.close()


def test_new_rows_are_read_alone_and_a_row_missing_behind_reloads_the_table(tmp_path: Path,
                                                                            kept_demo: tuple[Workspace, list[dt.date]]) -> None:
    ws, _dates = kept_demo
    copy = tmp_path / "copy.db"  # a store of its own, changed behind the kept rows' back
    copy.write_bytes((ws.root / "sheetsales.db").read_bytes())
    store = Store(f"sqlite:///{copy}")
    rowcache.keep()
    try:
        before = store.rows(activities, AS_OF)
        assert rowcache.reloads(store, activities) == 1
        with store.engine.begin() as conn:  # another process records one more row (a later day)
            row = dict(conn.execute(select(activities).order_by(activities.c.id.desc())).mappings().first())
            later = row | {"id": row["id"] + 1, "observed_on": AS_OF}
            conn.execute(insert(activities).values(**later))
        assert store.rows(activities, AS_OF) == [*before, later]
        assert rowcache.reloads(store, activities) == 1  # read alone
        with store.engine.begin() as conn:  # a row gone and another come: the count tells
            conn.execute(delete(activities).where(activities.c.id == before[0]["id"]))
            conn.execute(insert(activities).values(**(later | {"id": later["id"] + 1})))
        expected = _direct(store, activities, AS_OF)
        assert store.rows(activities, AS_OF) == expected
        assert rowcache.reloads(store, activities) == 2
        assert store.rows(activities, AS_OF - dt.timedelta(days=30)) == [
            r for r in expected if r["observed_on"] <= AS_OF - dt.timedelta(days=30)]
    finally:
        rowcache.keep(False)
        store.close()
