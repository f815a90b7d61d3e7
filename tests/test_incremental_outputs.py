"""A report rewrites only the outputs whose content changed (issue 8): the summary, the saver's
feedback, their supervisor chain's where their figures show, their region's summary; every other
output stays byte-identical with its modification time. A deleted or replaced output, a new date or
a new language rewrites; a skipped output is still what a full rebuild writes.

A team of two regions: a director (level 8, company), a regional manager of 华东 (level 6), a sales
manager of 华北 (level 5), two reps in 华东 and one in 华北.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from conftest import WEEK1, deal, save_mpc

from sheetsales.method.playbook import Person, Playbook
from sheetsales.outputs.manifest import MANIFEST, Manifest, fingerprint
from sheetsales.outputs.report import run_report
from sheetsales.outputs.write import summary_digest, write_summary
from sheetsales.service.workspace import Workspace, init_workspace
from sheetsales.storage.ingest import ingest

TEAM = (
    Person("D01", "周总监", "全国", "销售部", "", 8),
    Person("S01", "王区经", "华东", "华东组", "D01", 6),
    Person("S02", "陈经理", "华北", "华北组", "D01", 5),
    Person("R01", "张一", "华东", "华东组", "S01", 2),
    Person("R02", "李二", "华东", "华东组", "S01", 2),
    Person("R03", "赵三", "华北", "华北组", "S02", 2),
)
DAY = WEEK1 + dt.timedelta(days=4)
EVERY_OUTPUT = ["feedback/D01.xlsx", "feedback/R01.xlsx", "feedback/R02.xlsx", "feedback/R03.xlsx",
                "feedback/S01.xlsx", "feedback/S02.xlsx", "regions/华东.xlsx", "regions/华北.xlsx", "summary.xlsx"]


def rows(rep: str, **changes: object) -> list[dict]:
    return [deal(f"{rep}甲方机械厂", stage="项目评估", **changes), deal(f"{rep}乙方重工")]


@pytest.fixture
def team_ws(tmp_path: Path) -> Workspace:
    ws = init_workspace(tmp_path / "ws", lang="zh-CN", playbook=replace(Playbook.default("zh-CN"), team=TEAM),
                        as_of=WEEK1)
    for rep in ("R01", "R02", "R03"):
        save_mpc(ws, rep, rows(rep))
    ingest(ws, DAY)
    return ws


def outputs(ws: Workspace) -> dict[str, tuple[bytes, int]]:
    """Every workbook of the reports folder: its bytes and modification time."""
    return {p.relative_to(ws.reports).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(ws.reports.rglob("*.xlsx")) if not p.name.startswith(".")}


def rewritten(before: dict, after: dict) -> list[str]:
    assert sorted(before) == sorted(after)
    return sorted(name for name in after if after[name] != before[name])


def names(ws: Workspace, paths: list[Path]) -> list[str]:
    return sorted(p.relative_to(ws.reports).as_posix() for p in paths)


def cells(path: Path) -> list:
    wb = openpyxl.load_workbook(path)
    return [(ws.title, [list(r) for r in ws.iter_rows(values_only=True)]) for ws in wb.worksheets]


def test_a_report_of_identical_figures_writes_nothing(team_ws: Workspace) -> None:
    legacy = [team_ws.reports / ".sheetsales-summary.json", team_ws.reports / "feedback" / ".sheetsales-feedback.json",
              team_ws.reports / "regions" / ".sheetsales-华东.json"]  # what earlier releases kept per output
    for old in legacy:
        old.parent.mkdir(parents=True, exist_ok=True)
        old.write_text("{}", encoding="utf-8")
    first = run_report(team_ws, DAY)
    assert names(team_ws, first.written) == EVERY_OUTPUT and first.unchanged == []
    assert not [old for old in legacy if old.exists()] and (team_ws.reports / MANIFEST).exists()
    before = outputs(team_ws)
    again = run_report(team_ws, DAY)
    assert again.written == [] and names(team_ws, again.unchanged) == EVERY_OUTPUT
    assert rewritten(before, outputs(team_ws)) == []
    assert again.summary_path == team_ws.reports / "summary.xlsx" and len(again.feedback) == len(TEAM)


def test_a_save_rewrites_the_summary_the_savers_feedback_and_region_only(team_ws: Workspace) -> None:
    run_report(team_ws, DAY)
    before = outputs(team_ws)
    save_mpc(team_ws, "R01", rows("R01", model="XK-7150"))  # a deal's model: shown in R01's own rows only
    ingest(team_ws, DAY)
    result = run_report(team_ws, DAY)
    changed = ["feedback/R01.xlsx", "regions/华东.xlsx", "summary.xlsx"]
    assert rewritten(before, outputs(team_ws)) == changed == names(team_ws, result.written)
    assert names(team_ws, result.unchanged) == sorted(set(EVERY_OUTPUT) - set(changed))


def test_a_changed_amount_rewrites_the_supervisor_chain_too(team_ws: Workspace) -> None:
    run_report(team_ws, DAY)
    before = outputs(team_ws)
    save_mpc(team_ws, "R01", rows("R01", amount=1_500_000))
    ingest(team_ws, DAY)
    result = run_report(team_ws, DAY)
    # S01 and D01 see R01's figures in their team's rows. 华北's summary changes too, and only for its
    # production forecast: the conversion section's production table is the company's (by month and
    # category), in every region's summary.
    assert rewritten(before, outputs(team_ws)) == [
        "feedback/D01.xlsx", "feedback/R01.xlsx", "feedback/S01.xlsx", "regions/华东.xlsx", "regions/华北.xlsx",
        "summary.xlsx"] == names(team_ws, result.written)
    # What was skipped is what a full rebuild in a fresh reports folder writes.
    fresh = Workspace.open(shutil.copytree(team_ws.root, team_ws.root.with_name("fresh"),
                                           ignore=shutil.ignore_patterns("reports")))
    assert names(fresh, run_report(fresh, DAY).written) == EVERY_OUTPUT
    for name in EVERY_OUTPUT:
        assert cells(team_ws.reports / name) == cells(fresh.reports / name), name


def test_a_deleted_or_replaced_output_is_written_again(team_ws: Workspace) -> None:
    run_report(team_ws, DAY)
    (team_ws.reports / "feedback" / "R02.xlsx").unlink()
    (team_ws.reports / "regions" / "华北.xlsx").unlink()
    summary = team_ws.reports / "summary.xlsx"
    data = summary.read_bytes()
    summary.write_bytes(data)  # the same bytes, written again by someone: its time changed
    before = outputs(team_ws)
    result = run_report(team_ws, DAY)
    assert names(team_ws, result.written) == ["feedback/R02.xlsx", "regions/华北.xlsx", "summary.xlsx"]
    assert (team_ws.reports / "feedback" / "R02.xlsx").read_bytes().startswith(b"PK")
    assert summary.stat().st_mtime_ns != before["summary.xlsx"][1]


def test_a_new_date_or_language_rewrites_everything(team_ws: Workspace) -> None:
    run_report(team_ws, DAY)
    assert names(team_ws, run_report(team_ws, DAY + dt.timedelta(days=1)).written) == EVERY_OUTPUT
    english = replace(team_ws, lang="en")
    assert names(english, run_report(english, DAY + dt.timedelta(days=1)).written) == EVERY_OUTPUT
    assert openpyxl.load_workbook(team_ws.reports / "summary.xlsx").sheetnames[0] == "Overview"


def test_an_output_beside_a_locked_target_leaves_no_entry(team_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from sheetsales.outputs import outputs as outputs_mod
    from sheetsales.outputs.outputs import ReplacePolicy, target_of

    run_report(team_ws, DAY)
    save_mpc(team_ws, "R01", rows("R01", model="XK-7150"))
    ingest(team_ws, DAY)
    summary = team_ws.reports / "summary.xlsx"

    def locked(src: Path, dst: Path) -> None:
        if Path(dst) == summary:
            raise PermissionError(32, "in use", str(dst))
        os.replace(src, dst)

    monkeypatch.setattr(outputs_mod, "POLICY", ReplacePolicy(delays=(), replace=locked, sleep=lambda s: None))
    result = run_report(team_ws, DAY)
    assert target_of(result.summary_path) == summary
    assert "summary.xlsx" not in Manifest.load(team_ws.reports).entries
    monkeypatch.setattr(outputs_mod, "POLICY", ReplacePolicy())
    again = run_report(team_ws, DAY)  # Excel closed: the target gets the new summary
    assert names(team_ws, again.written) == ["summary.xlsx"] and again.summary_path == summary
    assert cells(summary) == cells(result.summary_path)


class Unknown:
    def __str__(self) -> str:
        return "未知"


def test_a_fingerprint_is_the_same_in_every_process_and_missing_means_rewrite(team_ws: Workspace,
                                                                               tmp_path: Path) -> None:
    code = ("import datetime as dt; from sheetsales.outputs.manifest import fingerprint; "
            "print(fingerprint({'b': {'华东', '华北', 'x', 'y'}, 'a': [dt.date(2026, 11, 6), 1.5, None]}))")
    seen = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                           capture_output=True, text=True, check=True).stdout.strip() for seed in ("1", "2", "3")}
    assert len(seen) == 1 and seen != {"None"}
    assert seen == {fingerprint({"a": [dt.date(2026, 11, 6), 1.5, None], "b": {"y", "x", "华北", "华东"}})}

    result = run_report(team_ws, DAY)
    summary = result.summary
    summary.issues.append({"rep": "R01", "rep_name": "张一", "position": "A9", "code": "negative-amount",
                           "severity": "error", "message": Unknown(), "file": "f.xlsx", "sheet": "MPC",
                           "cell": "E9"})  # a value of no known kind: no fingerprint
    assert summary_digest(summary) is None
    path = tmp_path / "summary.xlsx"
    write_summary(summary, path)
    first = path.stat().st_mtime_ns
    write_summary(summary, path)  # never skipped on a fingerprint it could not take
    assert path.stat().st_mtime_ns != first and "未知" in str(cells(path))
    assert (tmp_path / MANIFEST).exists()


def test_the_summarys_fingerprint_is_what_its_figures_come_from(team_ws: Workspace,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A report does not hash the summary's figures (a third of its build after a save): its fingerprint
    is the key its figures were computed from, so only a new key (a record, the settings, the day)
    rewrites it, and the other outputs still go by their content."""
    import sheetsales.outputs.write as write

    def no_hashing(summary: object) -> str:
        raise AssertionError("the summary's figures were hashed")

    monkeypatch.setattr(write, "summary_digest", no_hashing)
    run_report(team_ws, DAY)
    before = outputs(team_ws)
    assert run_report(team_ws, DAY).written == []  # the kept figures, the same key
    settings = team_ws.root / "sheetsales.toml"
    os.utime(settings, ns=(settings.stat().st_atime_ns, settings.stat().st_mtime_ns + 10**9))
    touched = run_report(team_ws, DAY)  # a new key, the same figures: the summary only
    assert names(team_ws, touched.written) == ["summary.xlsx"] == rewritten(before, outputs(team_ws))
    save_mpc(team_ws, "R01", rows("R01", model="XK-7150"))
    ingest(team_ws, DAY)
    assert "summary.xlsx" in names(team_ws, run_report(team_ws, DAY).written)


def test_region_summaries_are_cut_and_built_in_the_worker_or_here(team_ws: Workspace) -> None:
    """The region summaries are cut from the company summary sent once to the pool's worker; a job the
    worker cannot do (the summary never reached it) or that this process takes back gives the same
    workbooks, and an unchanged region is found unchanged either way."""
    from sheetsales.analyses.figures import summary_for
    from sheetsales.outputs import write
    from sheetsales.outputs.outputs import OutputProblem
    from sheetsales.outputs.report import finish_region_summaries

    first = run_report(team_ws, DAY)
    regions = sorted(p for p in first.written if p.parent.name == "regions")
    store = team_ws.store()
    try:
        summary = summary_for(team_ws, store, DAY)[0]
    finally:
        store.close()
    assert write._region_in_worker("no such report", "华东", team_ws.reports / "x.xlsx", None) is None
    fresh = team_ws.reports.with_name("fresh-reports")
    targets = {p.stem: fresh / "regions" / p.name for p in regions}
    for pool in (write.Pool(steal=True), None):
        manifest = Manifest.load(fresh)
        problems: list[OutputProblem] = []
        jobs = write.RegionJobs(summary, targets, manifest)
        jobs.start(pool)
        if pool is not None:
            pool.help()  # whatever the worker has not started is done here
        written = finish_region_summaries(jobs, problems)
        if pool is not None:
            pool.shutdown()
        assert problems == [] and sorted(p.name for p in written) == [p.name for p in regions]
        for p in regions:
            assert cells(fresh / "regions" / p.name) == cells(p)
        manifest.save()
        again = Manifest.load(fresh)
        jobs = write.RegionJobs(summary, targets, again)
        jobs.start(None)
        assert finish_region_summaries(jobs, problems) == list(targets.values()) and problems == []
        assert sorted(p.name for p in again.unchanged) == [p.name for p in regions] and again.written == []
        assert sorted(p.name for p in (fresh / "regions").iterdir()) == [p.name for p in regions]  # no debris
        shutil.rmtree(fresh)
