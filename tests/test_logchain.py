"""The daily log cannot be rewritten (seed 003): an accepted row stays in force whatever later saves do,
every accepted row is chained by hash to the person's previous one, and ``sheetsales verify`` proves
the chains intact or names the first broken link."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
from contextlib import redirect_stdout
from pathlib import Path

import openpyxl
from conftest import WEEK1

from sheetsales.issues import flat
from sheetsales.method import logchain
from sheetsales.reading.fill import fill_table
from sheetsales.reading.specs import LOG_TABLE, LOG_TABLE_V1, META_SHEET
from sheetsales.reading.templates import template_filename
from sheetsales.service.cli import main
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest
from sheetsales.storage.store import log_entries, log_rewrites

WEEK = "2026-W45"
TUE, WED = WEEK1 + dt.timedelta(days=1), WEEK1 + dt.timedelta(days=2)
ROWS = [
    {"date": WEEK1, "deal": "甲公司", "t_visit": "✓", "hours": 2, "cost": 120, "content": "拜访设备处"},
    {"date": TUE, "deal": "乙公司", "t_call": "✓", "t_proposal": "✓", "hours": 3},
    {"date": TUE, "t_meeting": "✓", "hours": 1, "content": "周会"},
]


def weekly(ws: Workspace, rep: str = "R01", week: str = WEEK) -> Path:
    return ws.inbox / rep / template_filename("weekly", ws.lang, rep, week)


def save_log(ws: Workspace, rows: list[dict], on: dt.date, rep: str = "R01") -> list:
    fill_table(weekly(ws, rep), LOG_TABLE, rows)
    result = ingest(ws, on)
    return [i for p in result.files if p.kind == "weekly" and p.rep == rep for i in p.issues]


def accepted(ws: Workspace, as_of: dt.date = WEEK1 + dt.timedelta(days=30)) -> list[dict]:
    return ws.store().rows(log_entries, as_of)


def verify_cli(ws: Workspace, as_of: dt.date = WEEK1 + dt.timedelta(days=30)) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["verify", str(ws.root), "--as-of", as_of.isoformat()])
    return code, out.getvalue()


def test_rows_are_accepted_once_and_chained(workspace: Workspace) -> None:
    assert save_log(workspace, ROWS, TUE) == []
    entries = accepted(workspace)
    assert [(e["seq"], e["row"], e["deal"], e["types"], e["hours"]) for e in entries] == [
        (1, 4, "甲公司", "visit", 2.0), (2, 5, "乙公司", "call,proposal", 3.0), (3, 6, None, "meeting", 1.0)]
    assert entries[0]["prev_hash"] == logchain.GENESIS
    assert [e["prev_hash"] for e in entries[1:]] == [e["hash"] for e in entries[:-1]]
    # The same rows saved again, sorted differently and with a new one: only the new one is accepted.
    more = [ROWS[2], ROWS[0], ROWS[1], {"date": WED, "deal": "丙公司", "t_visit": "✓", "hours": 4}]
    assert save_log(workspace, more, WED) == []
    entries = accepted(workspace)
    assert [(e["seq"], e["deal"]) for e in entries] == [(1, "甲公司"), (2, "乙公司"), (3, None), (4, "丙公司")]
    assert entries[3]["prev_hash"] == entries[2]["hash"]
    assert workspace.store().counts()["log_rewrites"] == 0
    assert verify_cli(workspace)[0] == 0


def test_an_altered_row_keeps_the_original_in_force(workspace: Workspace) -> None:
    save_log(workspace, ROWS, TUE)
    inflated = [dict(ROWS[0], hours=8), ROWS[1], ROWS[2]]  # the rep inflates an entry already recorded
    issues = save_log(workspace, inflated, WED)
    assert flat(issues) == [("A4", "log-rewritten")]
    assert "2 h" in issues[0].message() and "8 h" in issues[0].message() and "上门拜访" in issues[0].message()
    assert [e["hours"] for e in accepted(workspace)] == [2.0, 3.0, 1.0]  # the original stays in force
    rewrites = workspace.store().rows(log_rewrites, WED)
    assert [(r["kind"], r["row"], json.loads(r["rewritten"])["hours"]) for r in rewrites] == [("altered", 4, "8")]
    assert rewrites[0]["entry_id"] == accepted(workspace)[0]["id"]
    # Saved again unchanged: still told, but the same edit is kept as evidence once.
    new = {"date": WED, "deal": "丁公司", "t_call": "✓", "hours": 1}
    issues = save_log(workspace, [*inflated, new], WED + dt.timedelta(days=1))
    assert flat(issues) == [("A4", "log-rewritten")]
    assert workspace.store().counts()["log_rewrites"] == 1
    assert len(accepted(workspace)) == 4  # the new row is accepted all the same
    # Restored: nothing more to say.
    assert save_log(workspace, [*ROWS, new], WED + dt.timedelta(days=2)) == []
    assert verify_cli(workspace)[0] == 0


def test_a_deleted_row_keeps_the_original_in_force(workspace: Workspace) -> None:
    save_log(workspace, ROWS, TUE)
    issues = save_log(workspace, [ROWS[0], ROWS[2]], WED)  # the proposal row is deleted
    assert flat(issues) == [("A5", "log-rewritten")]
    assert issues[0].params["rewritten"] == logchain.DROPPED
    assert [e["deal"] for e in accepted(workspace)] == ["甲公司", "乙公司", None]
    rewrites = workspace.store().rows(log_rewrites, WED)
    assert [(r["kind"], r["rewritten"]) for r in rewrites] == [("dropped", None)]


def test_verify_finds_a_row_altered_in_the_database(workspace: Workspace) -> None:
    save_log(workspace, ROWS, TUE)
    save_log(workspace, ROWS, TUE, rep="R02")
    code, out = verify_cli(workspace)
    assert code == 0 and "6" in out
    db = workspace.root / "sheetsales.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE log_entries SET hours = 7 WHERE rep = 'R02' AND seq = 2")
    code, out = verify_cli(workspace)
    assert code == 1
    assert "R02" in out and "第 2 行" in out and "哈希" in out
    result = logchain.verify(workspace.store(), WED)
    assert (result.broken.rep, result.broken.seq, result.broken.reason) == ("R02", 2, "hash")


def test_verify_finds_a_row_deleted_or_rehashed_in_the_database(workspace: Workspace) -> None:
    save_log(workspace, ROWS, TUE)
    db = workspace.root / "sheetsales.db"
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM log_entries WHERE rep = 'R01' AND seq = 2")
    assert logchain.verify(workspace.store(), WED).broken.reason == "gap"
    assert verify_cli(workspace)[0] == 1

    # An altered row whose own hash was recomputed still breaks the next row's link.
    save_log(workspace, ROWS, TUE, rep="R02")
    store = workspace.store()
    row = next(e for e in store.rows(log_entries, WED) if e["rep"] == "R02" and e["seq"] == 1)
    row["hours"] = 9.0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE log_entries SET hours = 9, hash = ? WHERE id = ?",
                     (logchain.entry_hash(row, row["prev_hash"]), row["id"]))
    entries = [e for e in store.rows(log_entries, WED) if e["rep"] == "R02"]
    assert logchain.verify_rows(entries).broken.reason == "link"


def test_verify_replays_as_of(workspace: Workspace) -> None:
    save_log(workspace, ROWS[:1], TUE)
    save_log(workspace, ROWS, WED)
    with sqlite3.connect(workspace.root / "sheetsales.db") as conn:
        conn.execute("UPDATE log_entries SET hours = 0 WHERE seq = 3")
    assert verify_cli(workspace, TUE)[0] == 0  # that row was not yet recorded on Tuesday
    assert verify_cli(workspace, WED)[0] == 1


def test_a_version_1_weekly_report_is_still_read(workspace: Workspace) -> None:
    path = weekly(workspace)
    wb = openpyxl.load_workbook(path)  # a report handed out before version 2: the old log sheet
    log = wb[LOG_TABLE.zh]
    for c, col in enumerate(LOG_TABLE_V1.columns, start=1):
        log.cell(3, c, col.zh + (" *" if col.required else ""))
    for c in range(len(LOG_TABLE_V1.columns) + 1, len(LOG_TABLE.columns) + 1):
        log.cell(3, c, None)
    meta = wb[META_SHEET]
    version_row = next(r for r in range(1, meta.max_row + 1) if meta.cell(r, 1).value == "version")
    meta.cell(version_row, 2, "1")
    wb.save(path)
    fill_table(path, LOG_TABLE_V1, [{"date": WEEK1, "content": "拜访甲公司", "unit": "甲公司", "hours": 2}])
    result = ingest(workspace, TUE)
    issues = [i for p in result.files if p.kind == "weekly" and p.rep == "R01" for i in p.issues]
    assert issues == []
    assert [(e["content"], e["deal"], e["types"], e["hours"]) for e in accepted(workspace)] == [
        ("拜访甲公司", None, None, 2.0)]


def test_upgrading_a_store_chains_the_logs_it_already_holds(workspace: Workspace) -> None:
    from sqlalchemy import create_engine

    from sheetsales.storage import migrations
    from sheetsales.storage.store import sqlite_url

    save_log(workspace, ROWS, TUE)
    save_log(workspace, [dict(ROWS[0], hours=8), ROWS[2]], WED)  # one row altered, one deleted
    as_of = WED + dt.timedelta(days=1)

    def chain() -> tuple[list, list]:
        store = workspace.store()
        entries = [{k: v for k, v in e.items() if k != "id"} for e in store.rows(log_entries, as_of)]
        rewrites = [(r["kind"], r["row"], r["entry_id"]) for r in store.rows(log_rewrites, as_of)]
        store.close()
        return entries, rewrites

    before = chain()
    assert len(before[0]) == 3 and len(before[1]) == 2
    # The store as the revision before the chain left it: no log_entries, no log_rewrites.
    engine = create_engine(sqlite_url(workspace.root / "sheetsales.db"))
    with engine.begin() as conn:
        from alembic import command

        command.downgrade(migrations.alembic_config(conn), "0002")
    engine.dispose()
    with sqlite3.connect(workspace.root / "sheetsales.db") as conn:
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'log_entries'").fetchall()
    after = chain()  # opening the store upgrades it: the weekly reports' versions are replayed into the chains
    assert after[1] == before[1]
    # Only version 1's columns survive the downgrade: the same rows, without the deal and the ticks.
    assert [(e["seq"], e["row"], e["hours"], e["content"]) for e in after[0]] == [
        (e["seq"], e["row"], e["hours"], e["content"]) for e in before[0]]
    assert verify_cli(workspace)[0] == 0


def test_a_chain_cannot_fork(workspace: Workspace) -> None:
    import pytest

    from sheetsales.storage.store import AlreadyRecorded

    save_log(workspace, ROWS[:1], TUE)
    store = workspace.store()
    first = store.rows(log_entries, WED)[0]
    twin = {k: v for k, v in first.items() if k != "id"}
    with pytest.raises(AlreadyRecorded), store.transaction() as conn:  # a second process appending row 1 again
        store.add_log_entry(conn, **twin)
    assert store.counts()["log_entries"] == 1
    # Written past the constraint (a database edited by hand), the repeated number is the first broken link.
    twin["id"] = first["id"] + 1
    assert logchain.verify_rows([first, twin]).broken.reason == "fork"
