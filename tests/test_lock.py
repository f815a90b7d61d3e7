"""One writer per workspace: the lock, what a second run is told, and the store's refusal of duplicates."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import WEEK1, deal, save_mpc
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from sheetsales.method.playbook import Playbook
from sheetsales.method.rules import settle
from sheetsales.reading.names import opportunity_key
from sheetsales.reading.specs import DECISIONS_TABLE
from sheetsales.reading.templates import template_filename
from sheetsales.service.cli import EXIT_BUSY, main
from sheetsales.service.watch import InboxTracker
from sheetsales.service.workspace import LOCK_FILE, LOCK_INFO, Workspace, WorkspaceBusy, lock_holder
from sheetsales.storage.ingest import ingest, load_playbook
from sheetsales.storage.store import (
    AlreadyRecorded,
    Store,
    decision_results,
    extensions,
    file_versions,
    transfers,
)

CLI = [sys.executable, "-m", "sheetsales.service.cli"]


def decide(ws: Workspace, boss: str, rows: list[dict]) -> Path:
    from sheetsales.reading.fill import fill_table

    path = ws.inbox / boss / template_filename("decisions", ws.lang, boss)
    if not path.exists():
        ws.write_template(path, "decisions", Playbook(), boss)
    return fill_table(path, DECISIONS_TABLE, rows)


def team_saves(ws: Workspace) -> None:
    """Several reps' lists and a supervisor's extension: what two racing ingests would each record."""
    save_mpc(ws, "R01", [deal("大庆石化机械厂"), deal("天津港务集团", "方案确认", 500_000)])
    save_mpc(ws, "R02", [deal("青岛啤酒设备公司", "商务谈判", 2_000_000), deal("坏数据公司", amount=-1)])
    save_mpc(ws, "R03", [deal(f"客户{i:02d}", amount=100_000 + i) for i in range(40)])
    decide(ws, "S01", [{"deal": opportunity_key("R01", "大庆石化机械厂", "数控机床"), "decision": "延期", "days": 10,
                        "reason": "客户换领导"}])


def figures(root: Path) -> dict:
    out = subprocess.run([*CLI, "report", str(root), "--json", "--no-write", "--as-of", WEEK1.isoformat()],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def holder(ws: Workspace, seconds: float | None) -> subprocess.Popen:
    """Another process that takes the workspace lock, says so, and keeps it for ``seconds`` (None: until a
    line arrives on its standard input)."""
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from sheetsales.service.workspace import Workspace
        ws = Workspace.open(Path({str(ws.root)!r}))
        with ws.lock(command="sheetsales ingest"):
            print("held", flush=True)
            time.sleep({seconds}) if {seconds is not None} else sys.stdin.readline()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def set_timeout(ws: Workspace, seconds: float) -> None:
    cfg = ws.root / "sheetsales.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + f"\n[lock]\ntimeout = {seconds}\n", encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Two runs at once
# --------------------------------------------------------------------------------------------
def test_two_concurrent_ingests_give_exactly_the_figures_of_one(workspace: Workspace, tmp_path: Path) -> None:
    team_saves(workspace)
    reference = Path(shutil.copytree(workspace.root, tmp_path / "reference"))
    single = subprocess.run([*CLI, "ingest", str(reference), "-q", "--as-of", WEEK1.isoformat()],
                            capture_output=True, text=True, timeout=300)
    assert single.returncode == 1, single.stderr  # R02's list has an error: reported, the rest recorded
    procs = [subprocess.Popen([*CLI, "ingest", str(workspace.root), "-q", "--as-of", WEEK1.isoformat()],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    for rc, _out, err in results:
        assert rc in (0, 1) and "Traceback" not in err, err
    assert figures(workspace.root) == figures(reference)
    store, ref = Workspace.open(workspace.root).store(), Workspace.open(reference).store()
    try:
        mine, theirs = store.counts(), ref.counts()
    finally:
        store.close()
        ref.close()
    for table in ("file_versions", "opportunities", "decisions", "decision_results", "extensions", "transfers",
                  "issues"):
        assert mine[table] == theirs[table], table
    assert mine["extensions"] == 1  # the supervisor's extension, applied once
    # Both ran (their exit status above); the second found everything recorded: it recorded an empty
    # ingest, or, when the first one's listing was trusted (every save older than 2 s), found the inbox
    # as the first left it and recorded nothing (sheetsales.storage.quiet).
    assert mine["ingests"] in (1, 2)


def test_a_second_run_waits_saying_who_holds_the_workspace_then_goes_on(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    proc = holder(workspace, None)
    info = lock_holder(workspace.root)
    assert (info["pid"], info["command"]) == (proc.pid, "sheetsales ingest")
    run = subprocess.Popen([*CLI, "ingest", str(workspace.root), "-q", "--as-of", WEEK1.isoformat()],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    told = run.stderr.readline()  # it says who holds the workspace, then waits
    assert f"另一个 sheetsales 进程正在使用此工作区(进程 {proc.pid}" in told and "最多等待 600 秒" in told
    time.sleep(0.5)
    assert run.poll() is None  # still waiting
    proc.communicate("go\n", timeout=30)  # the holder finishes
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    workbooks = sum(1 for p in workspace.inbox.rglob("*.xlsx"))  # the templates handed out and R01's list
    assert f"已读取 {workbooks} 个新文件" in out  # then it read everything


def test_a_run_that_waited_too_long_exits_with_a_clear_error_and_changes_nothing(workspace_en: Workspace) -> None:
    ws = workspace_en
    set_timeout(ws, 1)
    save_mpc(ws, "R01", [deal("Acme Machinery Co., Ltd.", "Solution design", category="CNC machine")])
    proc = holder(ws, None)
    try:
        for command in (["ingest", str(ws.root)], ["report", str(ws.root)], ["report", str(ws.root), "--json",
                                                                              "--no-write"]):
            out = subprocess.run([*CLI, *command, "--as-of", WEEK1.isoformat()], capture_output=True, text=True,
                                 timeout=120)
            assert out.returncode == EXIT_BUSY, (command, out.stderr)
            assert "Traceback" not in out.stderr
            assert f"Another sheetsales run holds the workspace (pid {proc.pid} on" in out.stderr
            assert "waiting up to 1 s" in out.stderr
            assert f"still held by another sheetsales run (pid {proc.pid}" in out.stderr
            assert "Nothing was changed" in out.stderr and "[lock] timeout" in out.stderr
        assert not (ws.reports / "summary.xlsx").exists()
        store = ws.store()
        try:
            assert store.counts()["file_versions"] == 0
        finally:
            store.close()
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_a_holder_killed_with_sigkill_does_not_block_the_workspace(workspace: Workspace) -> None:
    set_timeout(workspace, 5)
    save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    proc = holder(workspace, None)
    assert lock_holder(workspace.root)["pid"] == proc.pid
    proc.send_signal(signal.SIGKILL)  # no clean-up at all: the lock file and its side file stay
    proc.wait(timeout=30)
    assert (workspace.root / LOCK_FILE).exists() and (workspace.root / LOCK_INFO).exists()
    started = time.monotonic()
    out = subprocess.run([*CLI, "ingest", str(workspace.root), "-q", "--as-of", WEEK1.isoformat()],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "另一个" not in out.stderr  # the operating system released the lock with the process
    assert time.monotonic() - started < 5
    assert not (workspace.root / LOCK_INFO).exists()  # the side file is the current holder's, removed at the end


def test_the_lock_is_reentrant_in_a_thread_and_exclusive_between_threads(workspace: Workspace) -> None:
    told: list[str] = []
    outcome: list[str] = []

    def other() -> None:
        try:
            with workspace.lock(timeout=0.3, on_wait=told.append):
                outcome.append("held")
        except WorkspaceBusy as exc:
            outcome.append(str(exc))

    with workspace.lock(command="sheetsales test"):
        with workspace.lock():  # nested: free
            assert workspace.holds_lock
        assert workspace.holds_lock
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=30)
    assert not workspace.holds_lock
    assert len(told) == 1 and f"进程 {os.getpid()}" in told[0] and "sheetsales test" in told[0]
    assert len(outcome) == 1 and "仍被另一个 sheetsales 进程占用" in outcome[0]
    with workspace.lock(timeout=0):  # free again
        pass


def test_a_lock_wait_ends_when_the_run_is_asked_to_stop(workspace: Workspace) -> None:
    proc = holder(workspace, None)
    try:
        started = time.monotonic()
        with pytest.raises(WorkspaceBusy), workspace.lock(timeout=60, cancel=lambda: time.monotonic() - started > 0.5):
            pass
        assert time.monotonic() - started < 10
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_the_lock_files_are_not_the_watchers_business(workspace: Workspace) -> None:
    tracker = InboxTracker(workspace.inbox, extra=(workspace.playbook_path,))
    with workspace.lock():
        for name in (LOCK_FILE, LOCK_INFO):
            assert (workspace.root / name).exists()
            assert not tracker.notice(workspace.root / name)
    assert tracker.idle()


def test_a_bad_lock_setting_is_a_usage_error(workspace: Workspace, capsys: pytest.CaptureFixture) -> None:
    set_timeout(workspace, -1)
    assert main(["ingest", str(workspace.root)]) == 2
    assert "[lock]" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# The store refuses duplicates even without the lock
# --------------------------------------------------------------------------------------------
def test_the_store_refuses_a_file_version_recorded_twice(workspace: Workspace) -> None:
    store = workspace.store()
    version = {"observed_on": WEEK1, "path": "R01/MPC一览表_R01.xlsx", "sha256": "a" * 64, "size": 1,
               "archive": "-", "kind": "mpc", "rep": "R01", "week": None, "readable": True}
    try:
        with store.transaction() as conn:
            ingest_id = store.add_ingest(conn, WEEK1)
        # Two processes both found the path without this content and recorded it: the second is refused.
        with store.transaction() as conn:
            first = store.add_file_version(conn, ingest_id=ingest_id, **version)
        with pytest.raises(AlreadyRecorded), store.transaction() as conn:
            store.add_file_version(conn, ingest_id=ingest_id, **version)
        # The next content is recorded after the first, and knows it.
        with store.transaction() as conn:
            second = store.add_file_version(conn, ingest_id=ingest_id, **{**version, "sha256": "b" * 64})
        with store.engine.connect() as conn:
            rows = conn.execute(select(file_versions.c.id, file_versions.c.parent_id)
                                .order_by(file_versions.c.id)).all()
        assert [tuple(r) for r in rows] == [(first, 0), (second, first)]
        # Two versions after the same predecessor (a race neither side could see): the constraint refuses.
        with pytest.raises(IntegrityError), store.transaction() as conn:
            conn.execute(insert(file_versions).values(ingest_id=ingest_id, parent_id=first,
                                                      **{**version, "sha256": "c" * 64}))
    finally:
        store.close()


def test_the_store_refuses_a_decision_applied_twice_and_a_transfer_made_twice(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    deal_key = opportunity_key("R01", "大庆石化机械厂", "数控机床")
    decide(workspace, "S01", [{"deal": deal_key, "decision": "延期", "days": 10, "reason": "客户换领导"}])
    ingest(workspace, WEEK1)
    store = workspace.store()
    try:
        decision = store.latest_decision_rows(WEEK1)[0]
        with store.transaction() as conn:
            ingest_id = store.add_ingest(conn, WEEK1)
        for add, values in ((store.add_decision_result, {"decision_id": decision["id"], "observed_on": WEEK1,
                                                         "outcome": "applied", "reason": None}),
                            (store.add_extension, {"decision_id": decision["id"], "observed_on": WEEK1,
                                                   "deal": deal_key, "stage": 3, "days": 10, "reason": "",
                                                   "by_person": "S01"})):
            with pytest.raises(AlreadyRecorded), store.transaction() as conn:
                add(conn, **values)
        move = {"ingest_id": ingest_id, "observed_on": WEEK1, "deal": deal_key, "from_person": "R01",
                "to_person": "S01", "reason": "confiscated", "stage": 3}
        with store.transaction() as conn:
            first = store.add_transfer(conn, **move)
        with pytest.raises(AlreadyRecorded), store.transaction() as conn:
            store.add_transfer(conn, **move)  # the same confiscation again
        with store.transaction() as conn:  # the deal's next transfer follows the first
            back = store.add_transfer(conn, **{**move, "from_person": "S01", "to_person": "R01", "reason": "returned"})
        with pytest.raises(IntegrityError), store.transaction() as conn:  # two transfers after the same one
            conn.execute(insert(transfers).values(**{**move, "parent_id": first, "reason": "reassigned"}))
        with store.engine.connect() as conn:
            assert conn.execute(select(transfers.c.id, transfers.c.parent_id).order_by(transfers.c.id)).all() == [
                (first, 0), (back, first)]
            assert len(conn.execute(select(decision_results)).all()) == 1
            assert len(conn.execute(select(extensions)).all()) == 1
    finally:
        store.close()


def test_a_settlement_raced_by_another_process_is_rolled_back_alone(workspace: Workspace,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ingests without the lock: the other one settles the same decision while this one is settling."""
    save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    decide(workspace, "S01", [{"deal": opportunity_key("R01", "大庆石化机械厂", "数控机床"), "decision": "延期",
                               "days": 10, "reason": "客户换领导"}])
    original = Store.latest_decision_rows
    raced: list[bool] = []

    def racing(self: Store, as_of: dt.date) -> list[dict]:
        rows = original(self, as_of)
        if not raced:  # this settlement has decided what is new; the other process settles first
            raced.append(True)
            other = workspace.store()
            try:
                playbook, _ = load_playbook(workspace, other, as_of)
                with other.transaction() as conn:
                    other_ingest = other.add_ingest(conn, as_of)
                assert settle(other, other_ingest, playbook, as_of)["applied"] == 1
            finally:
                other.close()
        return rows

    monkeypatch.setattr(Store, "latest_decision_rows", racing)
    result = ingest(workspace, WEEK1)
    assert raced and result.settle_error == ""
    assert {p.label.split("/")[0] for p in result.files} >= {"R01", "S01"}  # this ingest's files stay recorded
    store = workspace.store()
    try:
        counts = store.counts()
    finally:
        store.close()
    assert (counts["decision_results"], counts["extensions"]) == (1, 1)  # applied once


def test_a_database_from_an_earlier_sheetsales_is_refused_with_a_clear_message(
        workspace: Workspace, capsys: pytest.CaptureFixture) -> None:
    """No migrations yet: a store without the uniqueness columns is not written to at all."""
    import sqlite3

    db = workspace.root / "sheetsales.db"
    db.unlink()
    with sqlite3.connect(db) as conn:  # the file_versions table as the first release created it
        conn.execute("CREATE TABLE file_versions (id INTEGER PRIMARY KEY, ingest_id INTEGER NOT NULL, "
                     "observed_on DATE NOT NULL, path VARCHAR(500) NOT NULL, sha256 VARCHAR(64) NOT NULL, "
                     "size INTEGER NOT NULL, archive VARCHAR(500) NOT NULL, kind VARCHAR(20), rep VARCHAR(40), "
                     "week VARCHAR(10), readable BOOLEAN NOT NULL)")
    from sheetsales.storage.store import OutdatedStore

    with pytest.raises(OutdatedStore, match="file_versions.parent_id"):
        workspace.store()
    assert main(["ingest", str(workspace.root), "-q"]) == 2
    err = capsys.readouterr().err
    assert "earlier sheetsales" in err and "较早版本" in err and "Traceback" not in err
