"""The demo end to end: real workbooks filled, ingested week by week and reported.

The eight-week demo runs once for the module; the tests read what it produced through the
same functions the report uses (``build_summary``) and by opening the written workbooks.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from sheetsales.cli import main
from sheetsales.demo import DEMO_MARKER, DemoError, DemoResult, run_demo
from sheetsales.i18n import t
from sheetsales.playbook import read_playbook
from sheetsales.report import build_summary
from sheetsales.store import activities, contracts
from sheetsales.workspace import Workspace, init_workspace
from sheetsales.write import summary_sheet_names

AS_OF = dt.date(2026, 11, 20)  # a Friday, ISO week 2026-W47
WEEKS = 8
DELIBERATE = {"text-date", "negative-amount", "unknown-stage", "formula-in-cell", "date-outside-week"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, list[str], Workspace]:
    root = tmp_path_factory.mktemp("demo") / "demo"
    lines: list[str] = []
    result = run_demo(root, AS_OF, weeks=WEEKS, out=lines.append)
    return result, lines, Workspace.open(root)


@pytest.fixture(scope="module")
def summary(demo: tuple[DemoResult, list[str], Workspace]):
    return build_summary(demo[2], AS_OF)


def _cells(path: Path, sheet: str) -> list[object]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return [v for row in wb[sheet].iter_rows(values_only=True) for v in row if v is not None]
    finally:
        wb.close()


def test_team_regions_and_targets(demo, summary) -> None:
    _, _, ws = demo
    playbook, issues = read_playbook(ws.playbook_path, ws.lang)
    assert playbook is not None, [i.render("en") for i in issues]
    reps = playbook.reps
    assert len(reps) >= 12
    assert {p.region for p in reps} == {"华东", "华北", "华南"}
    assert {p.team for p in reps} == {"华东组", "华北组", "华南组"}
    supervisors = {p.supervisor for p in reps}
    assert supervisors == {"S01", "S02"}
    assert all(playbook.person(s).level == 5 for s in supervisors)
    directors = [p for p in playbook.team if not p.supervisor]
    assert [(d.id, d.level) for d in directors] == [("D01", 8)]
    assert {playbook.person(s).supervisor for s in supervisors} == {"D01"}
    # S02 runs two regions
    assert {p.region for p in reps if p.supervisor == "S02"} == {"华北", "华南"}
    periods = {tg.period for tg in playbook.targets}
    assert {"2026-11", "2027-Q1", "2026", "2027"} <= periods
    assert {tg.owner for tg in playbook.targets if tg.period == "2026"} == {"华东组", "华北组", "华南组"}
    assert all(1_000_000 <= tg.amount for tg in playbook.targets if tg.period == "2026")
    # the summary sees the same people
    assert {p["rep"] for p in summary.people} == {p.id for p in playbook.team}


def test_eight_weeks_ingested(demo) -> None:
    result, lines, ws = demo
    assert result.weeks == [f"2026-W{w}" for w in range(40, 48)]
    assert result.ingest_dates[-1] == AS_OF
    assert all(d.weekday() == 4 for d in result.ingest_dates)  # every week ingested on its Friday
    assert result.files_ingested == WEEKS * 13 * 2  # each week: every rep's MPC list and weekly report
    store = ws.store()
    try:
        weeks = {r["week"] for r in store.weekly_rows(activities, AS_OF)}
        signed = store.weekly_rows(contracts, AS_OF)
    finally:
        store.close()
    assert weeks == set(result.weeks)
    assert signed, "won deals come with contract rows in the weekly report"
    week_lines = [line for line in lines if line.startswith("第 ")]
    assert len(week_lines) == WEEKS
    assert "2026-W47" in week_lines[-1] and "13 名销售" in week_lines[-1]
    assert any(str(result.summary_path.resolve()) in line for line in lines)
    assert any(str(ws.inbox.resolve()) in line for line in lines)


def test_summary_and_feedback_files(demo, summary) -> None:
    result, _, ws = demo
    assert result.summary_path == ws.reports / "summary.xlsx"
    assert result.summary_path.is_file()
    ids = {p["rep"] for p in summary.people}
    assert len(ids) == 16
    assert {p.stem for p in (ws.reports / "feedback").glob("*.xlsx")} == ids
    assert sorted(result.feedback) == sorted(ws.reports / "feedback" / f"{i}.xlsx" for i in ids)
    wb = openpyxl.load_workbook(result.summary_path, read_only=True)
    assert wb.sheetnames == summary_sheet_names("zh-CN")
    wb.close()
    # the deleted deal reaches its rep as a reminder
    reminders = _cells(ws.reports / "feedback" / "R09.xlsx", t("sheet.reminders", "zh-CN"))
    assert "deal-dropped" in reminders


def test_funnel_has_deals_everywhere(summary) -> None:
    company = [r for r in summary.funnel if r["level"] == "company"]
    assert sum(r["count"] for r in company) >= 60
    assert sum(1 for r in company if r["count"]) >= 6  # deals spread over the stages
    for region in ("华东", "华北", "华南"):
        assert sum(r["count"] for r in summary.funnel if r["level"] == "region" and r["group"] == region) > 0
    month = [r for r in summary.forecast if r["level"] == "company" and r["month"] == "2026-11"]
    assert month and month[0]["target"] > 0 and month[0]["weighted"] > 0


def test_mpc_review_shows_every_kind_of_change(demo, summary) -> None:
    _, _, ws = demo
    last = Counter(r["change"] for r in summary.mpc_review)
    for change in ("new", "advanced", "won", "lost", "gone"):
        assert last[change] > 0, (change, last)
    assert any(r["change"] == "gone" and r["rep"] == "R09" for r in summary.mpc_review)
    across: Counter[str] = Counter()
    for day in demo[0].ingest_dates[1:]:
        across.update(r["change"] for r in build_summary(ws, day).mpc_review)
    for change in ("new", "advanced", "moved_back", "won", "lost", "gone", "amount_changed", "date_changed"):
        assert across[change] > 0, (change, across)
    assert across["won"] >= 5 and across["lost"] >= 3


def test_deliberate_data_errors(demo, summary) -> None:
    result, _, ws = demo
    codes = Counter(i["code"] for i in summary.issues)
    assert DELIBERATE <= set(codes), codes
    assert result.issues == len(summary.issues)
    assert len(summary.issues) <= 10  # most rows are valid
    assert len(summary.opportunities) >= 60
    text_date = next(i for i in summary.issues if i["code"] == "text-date")
    assert "月底" in text_date["message"] and text_date["rep"] == "R05"
    # an amount typed as words in week 3 is fixed the week after
    week3 = {i["code"] for i in build_summary(ws, result.ingest_dates[2]).issues}
    assert "wrong-type" in week3 and "wrong-type" not in codes
    # the Data issues sheet of the workbook shows them
    shown = _cells(result.summary_path, t("sheet.issues", "zh-CN"))
    assert DELIBERATE <= set(shown)


def test_worked_example(summary) -> None:
    r01 = [o for o in summary.opportunities if o["rep"] == "R01"]
    first = next(o for o in r01 if o["amount"] == 1_000_000 and o["stage_order"] == 3)
    second = next(o for o in r01 if o["amount"] == 500_000 and o["stage_order"] == 5)
    assert (first["stage"], first["probability"], first["weighted"]) == ("方案设计", 0.2, 200_000)
    assert (second["stage"], second["probability"], second["weighted"]) == ("方案确认", 0.5, 250_000)
    assert summary.opportunities.index(second) < summary.opportunities.index(first)


def test_rebuild_in_english_is_identical(tmp_path: Path) -> None:
    """A second run into the same folder (in a fresh interpreter) wipes it and gives the same figures."""
    root = tmp_path / "demo_en"
    run_demo(root, AS_OF, lang="en", weeks=2, out=lambda _line: None)
    ws = Workspace.open(root)
    first = build_summary(ws, AS_OF)
    assert {p["region"] for p in first.people if p["rep"].startswith("R")} == {"East", "North", "South"}
    assert DELIBERATE <= {i["code"] for i in first.issues}
    assert any(o["category"] == "CNC machine tools" for o in first.opportunities)
    junk = ws.inbox / "R01" / "leftover.xlsx"
    junk.write_bytes(b"not a workbook")
    done = subprocess.run([sys.executable, "-m", "sheetsales.cli", "demo", str(root), "--as-of", AS_OF.isoformat(),
                           "--weeks", "2", "--lang", "en"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "week 2/2 2026-W47" in done.stdout
    assert not junk.exists()
    second = build_summary(Workspace.open(root), AS_OF)
    assert second.to_json() == first.to_json()


def test_cli_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "cli_demo"
    assert main(["demo", str(root), "--as-of", "2026-11-20", "--weeks", "2"]) == 0
    out = capsys.readouterr().out
    assert "第 2/2 周 2026-W47" in out
    assert (root / "reports" / "summary.xlsx").is_file()
    assert (root / DEMO_MARKER).is_file()


def test_refuses_a_folder_it_did_not_make(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    keep = folder / "forecast.xlsx"
    keep.write_bytes(b"someone's work")
    with pytest.raises(DemoError, match="not empty"):
        run_demo(folder, AS_OF, lang="en", weeks=1, out=lambda _line: None)
    assert keep.read_bytes() == b"someone's work"
    assert sorted(p.name for p in folder.iterdir()) == ["forecast.xlsx"]

    # a real workspace is never wiped, even though it has a sheetsales.toml
    real = init_workspace(tmp_path / "real", "zh-CN", as_of=AS_OF)
    assert main(["demo", str(real.root), "--as-of", "2026-11-20", "--weeks", "1"]) == 2
    assert "演示不会删除它" in capsys.readouterr().err
    assert (real.root / "sheetsales.toml").is_file() and real.playbook_path.is_file()

    with pytest.raises(DemoError):
        run_demo(tmp_path / "fresh", AS_OF, weeks=0, out=lambda _line: None)
