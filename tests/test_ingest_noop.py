"""The no-op ingest (sheetsales.storage.quiet): an inbox nothing touched since the last ingest is known so
from its listing, and the command says what a full run would say; anything that changed is still seen.

The state a run leaves is trusted only when every file is older than 2 s at its listing (a write in the
same tick of a coarse clock could keep a file's times): the tests wait that long where a state must be
left, as a user's next run would.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

from conftest import WEEK1, deal, save_mpc

from sheetsales.reading.templates import template_filename
from sheetsales.service.cli import main
from sheetsales.service.workspace import Workspace
from sheetsales.storage import quiet


def _settle() -> None:
    """Let every file written so far become older than the racy window."""
    time.sleep(quiet.RACY_NS / 1e9 + 0.2)


def _ingest(ws: Workspace, capsys, as_of: dt.date = WEEK1, *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(["ingest", str(ws.root), "--as-of", as_of.isoformat(), *extra])
    out = capsys.readouterr()
    return rc, out.out, out.err


def _counts(ws: Workspace) -> dict[str, int]:
    store = ws.store()
    try:
        return store.counts()
    finally:
        store.close()


def _versions(ws: Workspace, label: str) -> list[str]:
    store = ws.store()
    try:
        with store.engine.connect() as conn:
            from sqlalchemy import select

            from sheetsales.storage.store import file_versions as fv

            return [r[0] for r in conn.execute(select(fv.c.sha256).where(fv.c.path == label).order_by(fv.c.id))]
    finally:
        store.close()


def _quiet_state(ws: Workspace, capsys, as_of: dt.date = WEEK1) -> tuple[int, str, str]:
    """A full run that leaves a state (every file older than the window); its output."""
    _settle()
    result = _ingest(ws, capsys, as_of)
    assert (ws.root / quiet.QUIET_STATE).is_file()
    return result


def test_an_unchanged_inbox_costs_a_listing_and_says_what_a_full_run_says(workspace: Workspace, capsys,
                                                                          monkeypatch) -> None:
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)  # progress as plain lines, compared below
    save_mpc(workspace, "R01", [deal("甲公司", amount=-5)])  # an error that stays open
    (workspace.inbox / "X99").mkdir()  # someone no longer on the team: reported at every run
    (workspace.inbox / "X99" / "旧文件.xlsx").write_bytes(b"not a workbook")
    rc, _, _ = _ingest(workspace, capsys)
    assert rc == 1  # the error, read now
    full = _quiet_state(workspace, capsys)  # nothing new: a full run, which leaves the state
    ingests = _counts(workspace)["ingests"]
    assert full[0] == 0 and "已读取 0 个新文件或新版本" in full[1]
    assert "inbox/X99" in full[1] and "目前未解决:2 个错误" in full[1]
    for _ in range(2):
        assert _ingest(workspace, capsys) == full  # the same lines, progress and exit status
        assert _counts(workspace)["ingests"] == ingests  # and nothing recorded: no full run happened
    # -q: no progress, the same lines; another day: a full run (the day's hand-outs, its settlement).
    rc, out, err = _ingest(workspace, capsys, WEEK1, "-q")
    assert (rc, out, err) == (0, full[1], "")
    assert _ingest(workspace, capsys, WEEK1 + dt.timedelta(days=1), "-q")[0] == 0
    assert _counts(workspace)["ingests"] == ingests + 1


def test_a_changed_file_is_seen_when_only_its_time_or_only_its_size_changed(workspace: Workspace, capsys) -> None:
    notes = workspace.inbox / "R01" / "notes.csv"
    notes.write_text("a,1\n", encoding="utf-8")
    _ingest(workspace, capsys, WEEK1, "-q")
    _quiet_state(workspace, capsys)
    assert len(_versions(workspace, "R01/notes.csv")) == 1
    # New content of the same size, a new modification time.
    notes.write_text("b,2\n", encoding="utf-8")
    _ingest(workspace, capsys, WEEK1, "-q")
    assert len(_versions(workspace, "R01/notes.csv")) == 2
    _quiet_state(workspace, capsys)
    # New content of another size, the modification time put back as it was.
    before = os.stat(notes)
    notes.write_text("c,30\n", encoding="utf-8")
    os.utime(notes, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(notes).st_mtime_ns == before.st_mtime_ns
    _ingest(workspace, capsys, WEEK1, "-q")
    assert len(_versions(workspace, "R01/notes.csv")) == 3
    _quiet_state(workspace, capsys)
    # Only the modification time: a full run, which finds the same bytes (no new version).
    ingests = _counts(workspace)["ingests"]
    os.utime(notes, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    _ingest(workspace, capsys, WEEK1, "-q")
    assert len(_versions(workspace, "R01/notes.csv")) == 3
    assert _counts(workspace)["ingests"] == ingests + 1
    # A file removed, a file added: seen too.
    _quiet_state(workspace, capsys)
    notes.unlink()
    _ingest(workspace, capsys, WEEK1, "-q")
    assert _versions(workspace, "R01/notes.csv")[-1] == "removed"


def test_hand_outs_still_happen(workspace: Workspace, capsys) -> None:
    import openpyxl

    _ingest(workspace, capsys, WEEK1, "-q")
    _quiet_state(workspace, capsys)
    # A template deleted is handed out again.
    mpc = workspace.inbox / "R02" / template_filename("mpc", workspace.lang, "R02")
    mpc.unlink()
    _ingest(workspace, capsys, WEEK1, "-q")
    assert mpc.is_file()
    # Someone added to the playbook's team gets their folder and templates.
    _quiet_state(workspace, capsys)
    wb = openpyxl.load_workbook(workspace.playbook_path)
    wb["团队"].append(["R09", "王五", "华东", "华东一组", "S01", 2])
    wb.save(workspace.playbook_path)
    _ingest(workspace, capsys, WEEK1, "-q")
    assert (workspace.inbox / "R09" / template_filename("mpc", workspace.lang, "R09")).is_file()
    # A new week's weekly report, on the first run of that week.
    _quiet_state(workspace, capsys)
    next_week = WEEK1 + dt.timedelta(days=7)
    _ingest(workspace, capsys, next_week, "-q")
    week = f"{next_week.isocalendar()[0]}-W{next_week.isocalendar()[1]:02d}"
    assert (workspace.inbox / "R01" / template_filename("weekly", workspace.lang, "R01", week)).is_file()


def test_a_store_changed_by_another_run_is_never_skipped(workspace: Workspace, capsys) -> None:
    """Another process's record (the watcher's ingest, an ingest of another day) moves the store's mark."""
    from sheetsales.storage.ingest import ingest

    _ingest(workspace, capsys, WEEK1, "-q")
    _quiet_state(workspace, capsys)
    ingests = _counts(workspace)["ingests"]
    with workspace.lock():
        ingest(workspace, WEEK1, only=[])  # what the watcher runs: records an ingest
    assert quiet.unchanged(workspace, WEEK1) is None
    _ingest(workspace, capsys, WEEK1, "-q")
    assert _counts(workspace)["ingests"] == ingests + 2


def test_only_a_sqlite_file_is_marked(tmp_path: Path) -> None:
    assert quiet.sqlite_path("postgresql+psycopg://u@h/db") is None
    assert quiet.sqlite_path(quiet.sqlite_url(tmp_path / "missing.db")) is None
    assert quiet.store_mark(quiet.sqlite_url(tmp_path / "missing.db")) is None
    assert not (tmp_path / "missing.db").exists()  # never created by looking


def test_the_no_op_imports_none_of_the_pipeline(workspace: Workspace, capsys) -> None:
    """What makes it cheap: no SQLAlchemy, no workbook library, no analysis is imported (0.4 s of a full run)."""
    import json
    import subprocess
    import sys

    _ingest(workspace, capsys, WEEK1, "-q")
    _quiet_state(workspace, capsys)
    script = ("import json, sys; from sheetsales.service.cli import main; "
              f"rc = main(['ingest', {str(workspace.root)!r}, '--as-of', {WEEK1.isoformat()!r}, '-q']); "
              "print(json.dumps([rc, sorted(m for m in ('sqlalchemy', 'openpyxl', 'xlsxwriter', 'python_calamine', "
              "'sheetsales.storage.store', 'sheetsales.analyses.analyse') if m in sys.modules)]))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == [0, []]
