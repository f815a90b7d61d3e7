"""One file, one fate: a file that breaks ingest (or the process reading it) breaks nothing else.

Real workspaces, real files, a real store; the CLI runs as a subprocess where the test needs to see
exactly what a manager sees (no traceback) or to kill it in the middle of a read.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import WEEK1, deal, mpc_path, save_mpc

from sheetsales.outputs.report import build_summary
from sheetsales.reading.fill import fill_table
from sheetsales.reading.specs import CONTRACTS_TABLE
from sheetsales.reading.templates import template_filename
from sheetsales.service.cli import main
from sheetsales.service.workspace import Workspace
from sheetsales.storage import ingest as ingest_module
from sheetsales.storage.ingest import ingest

WEEK2 = WEEK1 + dt.timedelta(days=7)
WEEK3 = WEEK2 + dt.timedelta(days=7)
EXE = str(Path(sys.executable).with_name("sheetsales"))


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def _amounts(ws: Workspace, as_of: dt.date) -> dict[str, float]:
    return {o["customer"]: o["amount"] for o in build_summary(ws, as_of).opportunities}


def _current(ws: Workspace, as_of: dt.date, code: str) -> list[dict]:
    store = ws.store()
    try:
        return [r for r in store.current_issues(as_of) if r["code"] == code]
    finally:
        store.close()


def _mpc_files(result) -> list:  # noqa: ANN001 - what a run read, but the weekly reports it handed out
    return [p for p in result.files if "MPC" in p.label]


def _put_value(path: Path, cell: str, text: str) -> None:
    """Rewrite one cell's stored value in the first sheet's XML, as other programs write it."""
    src = zipfile.ZipFile(path)
    parts = {i.filename: src.read(i.filename) for i in src.infolist()}
    src.close()
    xml = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
    xml, n = re.subn(rf'(<c r="{cell}"[^>]*>)<v>[^<]*</v>', rf"\g<1><v>{text}</v>", xml)
    assert n == 1
    parts["xl/worksheets/sheet1.xml"] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)


def test_nan_in_one_list_does_not_keep_another_reps_change_out(workspace: Workspace) -> None:
    root, day1, day2 = str(workspace.root), WEEK1.isoformat(), WEEK2.isoformat()
    save_mpc(workspace, "R01", [deal("甲公司", amount=1_000_000)])
    save_mpc(workspace, "R02", [deal("乙公司", amount=500_000)])
    assert _cli("ingest", root, "--as-of", day1, "-q").returncode == 0
    _put_value(mpc_path(workspace, "R01"), "E4", "NaN")  # a script wrote the amount as NaN
    save_mpc(workspace, "R02", [deal("乙公司", amount=600_000)])  # saved at the same time
    done = _cli("ingest", root, "--as-of", day2, "-q")
    assert "Traceback" not in done.stdout + done.stderr
    nan_is_a_cell_error = re.search(r"MPC一览表_R01\.xlsx!MPC一览表!E4  \[not-a-number\]", done.stdout)
    assert nan_is_a_cell_error or (done.returncode == 1 and done.stdout.count("[file-failed]") == 1)
    report = _cli("report", root, "--as-of", day2, "--json", "--no-write")
    assert report.returncode == 0 and "Traceback" not in report.stderr
    opps = {o["customer"]: o["amount"] for o in json.loads(report.stdout)["opportunities"]}
    assert opps == {"甲公司": 1_000_000, "乙公司": 600_000}  # R01's last good amount stays


def test_an_internal_failure_fails_that_file_alone_until_it_changes(workspace: Workspace, monkeypatch,
                                                                     capsys, caplog) -> None:
    caplog.set_level("INFO", logger="sheetsales")
    save_mpc(workspace, "R01", [deal("甲公司", amount=1_000_000)])
    save_mpc(workspace, "R02", [deal("乙公司", amount=500_000)])
    ingest(workspace, WEEK1)
    save_mpc(workspace, "R01", [deal("甲公司", amount=1_100_000)])
    save_mpc(workspace, "R02", [deal("乙公司", amount=700_000)])
    store_mpc = ingest_module._store_mpc

    def broken(conn, store, fv_id, as_of, parsed):  # noqa: ANN001 - a seam for an internal error
        store_mpc(conn, store, fv_id, as_of, parsed)  # R02's rows are written, then the transaction fails
        if parsed.rep == "R02":
            raise RuntimeError("internal trouble\nsecond line of detail")

    monkeypatch.setattr(ingest_module, "_store_mpc", broken)
    assert main(["ingest", str(workspace.root), "--as-of", WEEK2.isoformat(), "-q"]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    label = mpc_path(workspace, "R02").relative_to(workspace.inbox).as_posix()
    # the traceback is in the log (a service's log file or journal), with the file it belongs to
    [record] = [r for r in caplog.records if r.exc_info and label in r.getMessage()]
    assert record.exc_info[0] is RuntimeError and record.levelname == "INFO"
    assert [line for line in out.splitlines() if "[file-failed]" in line] == [
        f"{label}  [file-failed] 处理这个文件时发生内部错误(RuntimeError:internal trouble)。本文件未被记录,"
        "其他人的文件不受影响;在内容改变之前不会再读取它。请检查最近修改的单元格后重新保存;如果问题持续,请联系管理员(详情见日志)。"]
    assert _amounts(workspace, WEEK2) == {"甲公司": 1_100_000, "乙公司": 500_000}  # R02's rows rolled back
    [failed] = _current(workspace, WEEK2, "file-failed")
    assert (failed["file"], failed["rep"], failed["params"]) == (
        label, "R02", {"error": "RuntimeError", "detail": "internal trouble"})
    assert [(r["file"], r["code"]) for r in build_summary(workspace, WEEK2).issues] == [(label, "file-failed")]

    monkeypatch.setattr(ingest_module, "_store_mpc", store_mpc)
    again = ingest(workspace, WEEK2)  # the same content is not read again
    assert _mpc_files(again) == [] and again.failed == []
    assert len(_current(workspace, WEEK2, "file-failed")) == 1
    save_mpc(workspace, "R02", [deal("乙公司", amount=800_000)])  # the rep saves again
    fixed = ingest(workspace, WEEK3)
    assert [p.label for p in _mpc_files(fixed)] == [label] and fixed.failed == []
    assert _amounts(workspace, WEEK3) == {"甲公司": 1_100_000, "乙公司": 800_000}
    assert _current(workspace, WEEK3, "file-failed") == []


def test_an_exception_in_the_reader_is_file_failed_not_a_crash(workspace: Workspace, monkeypatch) -> None:
    save_mpc(workspace, "R01", [deal("甲公司")])
    save_mpc(workspace, "R02", [deal("乙公司")])
    read_mpc = ingest_module._read_mpc

    def broken(raw, playbook, lang, parsed, *rest):  # noqa: ANN001 - a seam for an internal error
        if "R02" in raw.label:
            raise MemoryError()
        read_mpc(raw, playbook, lang, parsed, *rest)

    monkeypatch.setattr(ingest_module, "_read_mpc", broken)
    result = ingest(workspace, WEEK1)
    failed = [(p.label, i.code, dict(i.params)) for p in result.files for i in p.issues if i.code == "file-failed"]
    assert failed == [("R02/MPC一览表_R02.xlsx", "file-failed", {"error": "MemoryError", "detail": ""})]
    assert result.failed == ["R02/MPC一览表_R02.xlsx"]
    assert sorted(_amounts(workspace, WEEK1)) == ["甲公司"]
    monkeypatch.setattr(ingest_module, "_read_mpc", read_mpc)
    # The read ended (with an exception): that is a failure, not a crash of the reader.
    assert _mpc_files(ingest(workspace, WEEK2)) == []
    assert _current(workspace, WEEK2, "reader-crashed") == []


def test_a_quantity_no_database_can_hold_fails_one_weekly_report_not_the_run(workspace: Workspace) -> None:
    week = "2026-W45"
    path = workspace.inbox / "R01" / template_filename("weekly", workspace.lang, "R01", week)
    fill_table(path, CONTRACTS_TABLE, [{"customer": "甲公司", "category": "数控机床", "quantity": 1e20,
                                        "amount": 100_000}])
    save_mpc(workspace, "R02", [deal("乙公司")])
    result = ingest(workspace, WEEK1)  # today's recording raised OverflowError and nothing was recorded
    codes = [i.code for p in result.files if p.label == f"R01/{path.name}" for i in p.issues]
    assert codes == ["file-failed"] or (codes and "file-failed" not in codes and result.failed == [])
    assert sorted(_amounts(workspace, WEEK1)) == ["乙公司"]


def test_a_failing_settlement_keeps_what_was_recorded(workspace: Workspace, monkeypatch, capsys) -> None:
    save_mpc(workspace, "R01", [deal("甲公司")])

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003 - a seam for an internal error
        raise KeyError("no such deal")

    monkeypatch.setattr(ingest_module, "settle", broken)
    assert main(["ingest", str(workspace.root), "--as-of", WEEK1.isoformat(), "-q"]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert err.count("结算(决策、没收)失败(KeyError: 'no such deal')") == 1
    assert sorted(_amounts(workspace, WEEK1)) == ["甲公司"]


def _started_reads(db: Path, label: str) -> list[tuple]:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute(
                "SELECT r.id FROM reads r LEFT JOIN read_ends e ON e.read_id = r.id WHERE r.path = ? "
                "AND e.id IS NULL", (label,)).fetchall()
    except sqlite3.OperationalError:  # the table is not there yet
        return []


def _ingest_stalled_in(workspace: Workspace, label: str, as_of: dt.date, **popen: Any) -> subprocess.Popen:
    """A real `sheetsales ingest` that holds still once it has recorded that it started reading ``label``."""
    return subprocess.Popen([EXE, "ingest", str(workspace.root), "--as-of", as_of.isoformat(), "-q"],
                            env={**os.environ, "SHEETSALES_STALL_READING": label}, stdout=subprocess.DEVNULL,
                            **popen)


def _wait_for_the_read(workspace: Workspace, label: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while not _started_reads(workspace.root / "sheetsales.db", label):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)


def test_a_file_that_was_being_read_when_the_process_died_is_skipped_until_it_changes(
        workspace: Workspace, capsys) -> None:
    save_mpc(workspace, "R01", [deal("甲公司")])
    save_mpc(workspace, "R02", [deal("乙公司")])
    save_mpc(workspace, "R03", [deal("丙公司")])
    ingest(workspace, WEEK1)
    poison = mpc_path(workspace, "R02")
    label = poison.relative_to(workspace.inbox).as_posix()
    save_mpc(workspace, "R02", [deal("乙公司", amount=2_000_000)])
    save_mpc(workspace, "R03", [deal("丙公司", amount=3_000_000)])  # R03's folder is read after R02's
    proc = _ingest_stalled_in(workspace, label, WEEK2, stderr=subprocess.DEVNULL)
    try:
        _wait_for_the_read(workspace, label, proc)
    finally:
        proc.kill()  # kill -9 in the middle of the read
        proc.wait()
    assert proc.returncode == -9
    result = ingest(workspace, WEEK2)
    crashed = [(p.label, [(i.code, i.rep) for i in p.issues]) for p in result.files if p.label == label]
    assert crashed == [(label, [("reader-crashed", "R02")])]
    assert result.failed == [label]
    assert _amounts(workspace, WEEK2) == {"甲公司": 1_000_000, "乙公司": 1_000_000, "丙公司": 3_000_000}
    assert [(r["file"], r["rep"]) for r in _current(workspace, WEEK2, "reader-crashed")] == [(label, "R02")]
    # check says the same, without reading the content that took the reader down
    assert main(["check", str(poison), "--as-of", WEEK2.isoformat()]) == 1
    assert "[reader-crashed]" in capsys.readouterr().out
    # No file takes the service down twice: the same content is not read again …
    assert _mpc_files(ingest(workspace, WEEK3)) == []
    # … until the rep saves it again.
    save_mpc(workspace, "R02", [deal("乙公司", amount=2_500_000)])
    fixed = ingest(workspace, WEEK3)
    assert [(p.label, p.issues) for p in _mpc_files(fixed)] == [(label, [])]
    assert _amounts(workspace, WEEK3)["乙公司"] == 2_500_000
    assert _current(workspace, WEEK3, "reader-crashed") == []


@pytest.mark.parametrize("name", ["R01/\udcff\udcfe.xlsx"])
def test_a_file_name_that_is_not_utf8_is_recorded_like_any_other(workspace: Workspace, name: str) -> None:
    bad = workspace.inbox / name  # a name in another encoding, as a Linux share may hold
    bad.write_bytes(b"not a workbook")
    save_mpc(workspace, "R02", [deal("乙公司")])
    result = ingest(workspace, WEEK1)  # today: UnicodeEncodeError from the store, nothing recorded
    assert [(p.label, [i.code for i in p.issues]) for p in result.files if p.label.startswith("R01/\ufffd")] == [
        ("R01/\ufffd\ufffd.xlsx", ["not-a-workbook"])]
    assert sorted(_amounts(workspace, WEEK1)) == ["乙公司"]


def test_a_run_stopped_with_sigterm_is_not_a_reader_crash(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲公司")])
    label = mpc_path(workspace, "R01").relative_to(workspace.inbox).as_posix()
    proc = _ingest_stalled_in(workspace, label, WEEK1, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_the_read(workspace, label, proc)
    finally:
        proc.terminate()  # a cron timeout, a service stop
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "Traceback" not in err
    result = ingest(workspace, WEEK1)
    assert [(p.label, p.issues) for p in _mpc_files(result) if p.label == label] == [(label, [])]
    assert sorted(_amounts(workspace, WEEK1)) == ["甲公司"]


def test_a_file_that_fails_before_it_is_archived_is_reported_and_tried_again(workspace: Workspace,
                                                                           monkeypatch) -> None:
    save_mpc(workspace, "R01", [deal("甲公司")])
    save_mpc(workspace, "R02", [deal("乙公司")])
    archive = Workspace.stage_and_archive

    def broken(self, source):  # noqa: ANN001 - a seam for an internal error
        if "R01" in source.name:
            raise ValueError("staging refused")
        return archive(self, source)

    monkeypatch.setattr(Workspace, "stage_and_archive", broken)
    result = ingest(workspace, WEEK1)
    assert [(p.label, [i.code for i in p.issues]) for p in _mpc_files(result) if "R01" in p.label] == [
        ("R01/MPC一览表_R01.xlsx", ["file-failed"])]
    assert "R01/MPC一览表_R01.xlsx" in result.failed
    assert sorted(_amounts(workspace, WEEK1)) == ["乙公司"]
    monkeypatch.setattr(Workspace, "stage_and_archive", archive)
    assert sorted(_amounts(workspace, WEEK1)) == ["乙公司"]
    ingest(workspace, WEEK1)  # nothing was recorded of it: the next run reads it
    assert sorted(_amounts(workspace, WEEK1)) == ["乙公司", "甲公司"]
