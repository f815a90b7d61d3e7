"""The report's fast paths give the same outputs as the slow ones: feedback picked from an index by
person, checked as a package, skipped when unchanged (the summary too), built in a process pool."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import random
import zipfile
from pathlib import Path

import pytest
import python_calamine
from conftest import WEEK1, deal, save_mpc

from sheetsales.analyses.analyse import Summary
from sheetsales.outputs import write as write_mod
from sheetsales.outputs.report import run_report
from sheetsales.outputs.write import OutputCheckError, check_package, write_feedback, write_summary
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest

WEEK2 = WEEK1 + dt.timedelta(days=7)


def values(path: Path) -> list:
    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    return [(n, wb.get_sheet_by_name(n).to_python()) for n in wb.sheet_names]


def organisation(n_reps: int, seed: int = 3) -> Summary:
    """A director, two supervisors (one under the other) and ``n_reps`` reps with issues, alerts and deals,
    some addressed to people outside the team."""
    rng = random.Random(seed)
    people = [{"rep": "D01", "rep_name": "总监", "team": "HQ", "region": "HQ", "supervisor": ""},
              {"rep": "S01", "rep_name": "主管一", "team": "T1", "region": "华北", "supervisor": "D01"},
              {"rep": "S02", "rep_name": "主管二", "team": "T2", "region": "华北", "supervisor": "S01"}]
    people += [{"rep": f"R{i:02d}", "rep_name": f"销售{i}", "team": "T1", "region": "华北",
                "supervisor": rng.choice(["S01", "S02", "D01"])} for i in range(1, n_reps + 1)]
    ids = [p["rep"] for p in people] + ["X99"]  # X99: not in the team
    summary = Summary(as_of=WEEK1, lang="zh-CN", currency="CNY", people=people)
    summary.issues = [{"rep": rng.choice(ids), "rep_name": "", "position": f"A{i}", "code": "negative-amount",
                       "severity": rng.choice(["error", "warning"]), "message": f"问题{i}", "file": "f.xlsx",
                       "sheet": "MPC", "cell": f"E{i}"} for i in range(60)]
    summary.alerts = [{"code": rng.choice(["stage-overdue", "duplicate-claim"]), "severity": "warning",
                       "deal": f"D-{i}", "customer": f"客户{rng.randrange(9)}", "message": f"提醒{i}",
                       "people": rng.sample(ids, rng.randrange(1, 4))} for i in range(50)]
    summary.opportunities = [{"deal": f"D-{i}", "rep": rng.choice(ids), "customer": f"客户{i}", "amount": 1000 * i,
                              "weighted": 100 * i, "status": "open", "sign_date": WEEK1} for i in range(80)]
    return summary


def scanned(rec: dict[str, list[dict]], person: str, who: set[str]) -> dict[str, list[dict]]:
    """The selection made by scanning every record once per person: a person's own issues, alerts and
    deals, and one row of figures for everyone in their scope."""
    return {"issues": [r for r in rec["issues"] if r["rep"] == person],
            "alerts": [r for r in rec["alerts"] if r["person"] == person],
            "opportunities": [r for r in rec["opportunities"] if r["rep"] == person],
            "team": [r for r in rec["team"] if r["rep"] in who]}


def walked(people: list[dict], person: str) -> set[str]:
    """The scope as it was computed before: the supervisor tree walked afresh for each person."""
    out, todo = set(), [person]
    while todo:
        pid = todo.pop()
        if pid not in out:
            out.add(pid)
            todo += [p["rep"] for p in people if p["supervisor"] == pid]
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_index_picks_what_scanning_every_record_picked_in_the_same_order(seed: int) -> None:
    summary = organisation(14, seed)
    rec = write_mod._decorate(summary)
    index = write_mod.FeedbackIndex(summary, rec)
    for person in summary.people:
        who = walked(summary.people, person["rep"])
        assert index.scopes[person["rep"]] == who
        core = {k: v for k, v in index.records(index.positions(person["rep"])).items() if "/" not in k}
        assert core == scanned(rec, person["rep"], who)  # the sections' tables: tests/test_sections.py
    boss = index.records(index.positions("D01"))
    assert len(boss["issues"]) == sum(1 for r in summary.issues if r["rep"] == "D01")  # addressed to them
    company = {p["rep"] for p in summary.people}
    assert {r["rep"] for r in boss["team"]} == {r["rep"] for r in rec["team"] if r["rep"] in company}


def test_a_digest_changes_with_a_record_of_the_scope_only() -> None:
    summary = organisation(12)
    digests = {}
    for changed in (None, "R01", "X99"):
        if changed:
            summary.issues.append({"rep": changed, "position": "Z9", "code": "negative-amount", "severity": "error",
                                   "message": "新问题"})
        index = write_mod.FeedbackIndex(summary, write_mod._decorate(summary))
        digests[changed] = {p["rep"]: index.digest(p, index.positions(p["rep"])) for p in summary.people}
    up = {p for p in digests[None] if "R01" in write_mod.scope(summary, p)}
    assert {p for p in digests[None] if digests[None][p] != digests["R01"][p]} == up
    assert digests["R01"] == digests["X99"]  # someone outside the team: nobody's feedback changes


def test_the_package_check_passes_a_good_workbook_and_catches_broken_ones(tmp_path: Path) -> None:
    summary = organisation(2)
    [good] = [p for p in write_feedback(summary, tmp_path / "fb", workers=1) if p.stem == "R01"]
    sheets = ["数据问题", "预警", "商机"]
    check_package(good, sheets)
    with pytest.raises(OutputCheckError, match="missing sheets"):
        check_package(good, [*sheets, "漏斗"])
    data = good.read_bytes()

    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(OutputCheckError):
        check_package(truncated, sheets)

    flipped = tmp_path / "flipped.xlsx"  # one byte of a compressed sheet changed: its CRC fails
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    flipped.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    with pytest.raises(OutputCheckError):
        check_package(flipped, sheets)

    no_sheet = tmp_path / "no_sheet.xlsx"  # the workbook lists a sheet whose part is missing
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(no_sheet, "w") as dst:
        for item in src.infolist():
            if item.filename != "xl/worksheets/sheet2.xml":
                dst.writestr(item, src.read(item))
    with pytest.raises(OutputCheckError, match="has no part"):
        check_package(no_sheet, sheets)


def test_a_feedback_workbook_failing_its_check_is_reported_and_the_previous_one_stays(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    save_mpc(workspace, "R02", [deal("青岛啤酒设备公司")])
    ingest(workspace, WEEK1)
    run_report(workspace, WEEK1)
    folder = workspace.reports / "feedback"
    before = (folder / "R02.xlsx").read_bytes()
    build = write_mod._build_feedback

    def junk_for_r02(summary, person, records, path):  # noqa: ANN001
        if person["rep"] == "R02":
            path.write_bytes(b"PK\x03\x04junk")
        else:
            build(summary, person, records, path)

    monkeypatch.setattr(write_mod, "_build_feedback", junk_for_r02)
    result = run_report(workspace, WEEK2)
    assert [(p.target.name, p.error.split(":")[0], p.copy) for p in result.problems] == [
        ("R02.xlsx", "OutputCheckError", None)]
    assert (folder / "R02.xlsx").read_bytes() == before
    assert sorted(p.name for p in result.feedback) == ["D01.xlsx", "R01.xlsx", "R03.xlsx", "S01.xlsx"]
    assert not [p for p in folder.iterdir() if ".tmp" in p.name]


def test_an_unchanged_summary_is_not_rewritten_a_new_day_or_a_change_or_damage_rewrites_it(
        workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    ingest(workspace, WEEK1)
    path = run_report(workspace, WEEK1).summary_path
    first = path.stat().st_mtime_ns
    again = run_report(workspace, WEEK1)
    assert again.summary_path == path and again.problems == []
    assert path.stat().st_mtime_ns == first  # nothing changed: not rebuilt

    result = run_report(workspace, WEEK1 + dt.timedelta(days=1))  # the title shows the date
    assert path.stat().st_mtime_ns != first
    assert "2026-11-03" in str(values(path)[0])
    second = path.stat().st_mtime_ns

    save_mpc(workspace, "R01", [deal("大庆石化机械厂"), deal("天津港务集团")])
    ingest(workspace, WEEK1 + dt.timedelta(days=1))
    result = run_report(workspace, WEEK1 + dt.timedelta(days=1))
    assert path.stat().st_mtime_ns != second and "天津港务集团" in str(values(path))

    path.write_bytes(b"someone broke it")
    result = run_report(workspace, WEEK1 + dt.timedelta(days=1))
    assert result.summary_path == path and "天津港务集团" in str(values(path))


def test_an_unchanged_summary_written_beside_a_locked_target_is_tried_again(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from sheetsales.outputs import outputs
    from sheetsales.outputs.outputs import ReplacePolicy, target_of

    summary = organisation(3)
    path = tmp_path / "summary.xlsx"
    path.write_bytes(b"old")

    def locked(src: Path, dst: Path) -> None:
        if Path(dst) == path:
            raise PermissionError(32, "in use", str(dst))
        os.replace(src, dst)

    monkeypatch.setattr(outputs, "POLICY", ReplacePolicy(delays=(), replace=locked, sleep=lambda s: None))
    copy = write_summary(summary, path)
    assert target_of(copy) == path and path.read_bytes() == b"old"
    monkeypatch.setattr(outputs, "POLICY", ReplacePolicy())
    assert write_summary(summary, path) == path  # the same content: still written, its target was never replaced
    assert values(path) == values(copy)


class FailsInAWorker:
    """A value whose text cannot be made in a pool's worker (a bug that meets one person's data there)."""

    def __str__(self) -> str:
        if multiprocessing.parent_process() is not None:
            raise ValueError("a bug met this value")
        return "fine here"


class KillsTheWorker:
    """A value whose unpickling ends the worker process, as the kernel's out-of-memory killer would."""

    def __reduce__(self) -> tuple:
        return (os._exit, (3,))

    def __str__(self) -> str:
        return "built here"


def test_many_feedback_workbooks_are_built_in_a_pool_with_the_same_content_and_order(tmp_path: Path) -> None:
    summary = organisation(12)
    assert len(summary.people) > write_mod.PARALLEL_MIN
    serial = write_feedback(summary, tmp_path / "one", workers=1)
    pooled = write_feedback(summary, tmp_path / "two", workers=2)
    assert [p.stem for p in pooled] == [p["rep"] for p in summary.people] == [p.stem for p in serial]
    for a, b in zip(serial, pooled, strict=True):
        assert values(a) == values(b)
    assert write_feedback(summary, tmp_path / "two", workers=2) == pooled  # unchanged: nothing to build


def test_a_workbook_failing_in_a_worker_is_reported_and_the_others_are_written(tmp_path: Path) -> None:
    summary = organisation(12)
    summary.opportunities.append({"deal": "D-bad", "rep": "R05", "customer": FailsInAWorker(), "status": "open",
                                  "amount": 1.0, "weighted": 0.5})
    problems: list = []
    written = write_feedback(summary, tmp_path, problems, workers=2)
    assert [(p.target.name, p.error) for p in problems] == [("R05.xlsx", "ValueError: a bug met this value")]
    assert [p.stem for p in written] == [p["rep"] for p in summary.people if p["rep"] != "R05"]
    assert not (tmp_path / "R05.xlsx").exists() and not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_a_worker_that_dies_leaves_its_workbooks_to_the_process(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    summary = organisation(12)
    summary.opportunities.append({"deal": "D-kill", "rep": "R07", "customer": KillsTheWorker(), "status": "open",
                                  "amount": 1.0, "weighted": 0.5})
    problems: list = []
    written = write_feedback(summary, tmp_path, problems, workers=2)
    assert problems == []
    assert [p.stem for p in written] == [p["rep"] for p in summary.people]
    assert "built here" in str(values(tmp_path / "R07.xlsx"))
    assert "is built in this process: BrokenProcessPool" in caplog.text
