"""The demo end to end: real workbooks filled, ingested week by week and reported.

The eight-week demo runs once for the module; the tests read what it produced through the
same functions the report uses (``build_summary``), the store, and by opening the written workbooks.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from sheetsales.i18n import t
from sheetsales.method.playbook import read_playbook
from sheetsales.method.rules import ALERTS
from sheetsales.outputs.report import build_summary
from sheetsales.outputs.write import summary_sheet_names
from sheetsales.service.cli import main
from sheetsales.service.demo import (
    DEMO_MARKER,
    LOCK_PASSED,
    NEAR_NAMES,
    WORKED_CASE,
    DemoError,
    DemoResult,
    run_demo,
)
from sheetsales.service.demo_log import LOG_REWRITES
from sheetsales.service.workspace import Workspace, init_workspace
from sheetsales.storage.store import (
    activities,
    contracts,
    decision_results,
    decisions,
    extensions,
    file_versions,
    transfers,
)

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
    store = ws.store()
    try:
        weeks = {r["week"] for r in store.weekly_rows(activities, AS_OF)}
        signed = store.weekly_rows(contracts, AS_OF)
        versions = store.rows(file_versions, AS_OF)
    finally:
        store.close()
    # each week: every rep's MPC list and weekly report; decisions workbooks when someone decides
    saved = [v for v in versions if v["kind"] == "decisions"]
    kinds = Counter(v["kind"] for v in versions if v["kind"])
    assert result.files_ingested == sum(kinds.values())
    assert kinds["mpc"] == WEEKS * 13
    assert kinds["weekly"] == WEEKS * 13 + len(LOG_REWRITES)  # and R05 saved last week's report again
    assert {v["rep"] for v in saved} == {"D01", "S01", "S02", "R05"}  # handed out to managers; R05 made one
    assert all(v["readable"] for v in versions)
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
    core = summary_sheet_names("zh-CN")
    assert wb.sheetnames[:len(core)] == core  # the core sheets, then the sections'
    wb.close()
    # the deleted deal reaches its rep and his supervisor (who is to decide) as alerts
    assert "deal-dropped" in _cells(ws.reports / "feedback" / "R09.xlsx", t("sheet.alerts", "zh-CN"))
    s02 = _cells(ws.reports / "feedback" / "S02.xlsx", t("sheet.alerts", "zh-CN"))
    assert {"deal-dropped", "decision-pending"} <= set(s02)


def test_funnel_has_deals_everywhere(summary) -> None:
    company = [r for r in summary.funnel if r["level"] == "company"]
    assert sum(r["count"] for r in company) >= 60
    assert sum(1 for r in company if r["count"]) >= 6  # deals spread over the (evidenced) stages
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


def test_reps_fill_milestones_qualification_and_c931(summary) -> None:
    opps = summary.opportunities
    # most deals count where their rep says they are: the milestones behind the claim are ticked
    at_claim = sum(1 for o in opps if o["stage_order"] == o["claimed_stage_order"])
    assert at_claim >= 0.9 * len(opps)
    assert {o["claimed_by"] for o in opps if o["stage_order"] < o["claimed_stage_order"]} >= {"R04", "R07", "R12"}
    # deals claiming 60% or more mostly have 8C+1F behind them
    high = [o for o in opps if (o["win_rate"] or 0) >= 0.6]
    backed = [o for o in high if int(o["c931"].split("C")[0]) >= 8 and int(o["c931"].split("+")[1][0]) >= 1]
    assert high and len(backed) >= 0.8 * len(high)
    # most deals in the funnel have all nine qualifying questions answered (few "unqualified" alerts)
    funnel = [o for o in opps if o["claimed_stage_order"] >= 3]
    unqualified = {a["deal"] for a in summary.alerts if a["code"] == "unqualified"}
    assert funnel and 0 < len(unqualified) <= 0.1 * len(funnel)


def test_every_alert_appears_and_most_deals_are_healthy(summary) -> None:
    codes = Counter(a["code"] for a in summary.alerts)
    assert set(codes) == set(ALERTS), set(ALERTS) - set(codes)
    flagged = {a["deal"] for a in summary.alerts}
    open_deals = summary.opportunities + summary.small_deals
    assert len(flagged & {o["deal"] for o in open_deals}) <= len(open_deals) / 3
    assert all(a["people"] and a["message"] for a in summary.alerts)
    severities = {a["code"]: a["severity"] for a in summary.alerts}
    assert {c: ALERTS[c][0] for c in severities} == severities


def test_worked_case_counts_at_its_evidenced_stage(summary) -> None:
    """The seed's case: claimed at 方案设计, but the milestones of 项目立项 and 初步接触 are not ticked."""
    case = next(o for o in summary.opportunities if o["customer"] == WORKED_CASE[0][0])
    assert (case["stage"], case["stage_order"]) == ("项目立项", 1)
    assert (case["claimed_stage"], case["claimed_stage_order"]) == ("方案设计", 3)
    assert (case["probability"], case["weighted"]) == (0.05, round(WORKED_CASE[3] * 0.05, 2))
    alert = next(a for a in summary.alerts if a["code"] == "stage-without-milestones" and a["deal"] == case["deal"])
    assert alert["people"] == [case["rep"], "S02"]
    assert "方案设计" in alert["message"] and "项目立项" in alert["message"] and "上门拜访,搞定线人" in alert["message"]
    funnel = {r["stage_order"]: r for r in summary.funnel if r["level"] == "rep" and r["group"] == case["rep"]}
    assert funnel[1]["amount"] >= WORKED_CASE[3]


def test_confiscations_and_supervisors_decisions(demo, summary) -> None:
    _, _, ws = demo
    store = ws.store()
    try:
        moves = store.rows(transfers, AS_OF)
        outcomes = {r["decision_id"]: r for r in store.rows(decision_results, AS_OF)}
        rows = store.rows(decisions, AS_OF)
    finally:
        store.close()
    reasons = Counter(m["reason"] for m in moves)
    assert reasons["confiscated"] >= 3 and reasons["returned"] == 1 and reasons["reassigned"] == 1
    assert reasons["closed"] == 1
    by_deal = {o["deal"]: o for o in summary.opportunities}
    # S01 gave a confiscated deal back to its rep: R05 owns it again
    returned = next(m for m in moves if m["reason"] == "returned")
    assert (returned["from_person"], returned["to_person"]) == ("S01", "R05")
    assert any(m["reason"] == "confiscated" and m["deal"] == returned["deal"] and m["to_person"] == "S01"
               for m in moves)
    deal = by_deal[returned["deal"]]
    assert (deal["rep"], deal["claimed_by"], deal["status"]) == ("R05", "R05", "open")
    # S02 reassigned a confiscated deal of R09 to R08, who now lists it
    reassigned = next(m for m in moves if m["reason"] == "reassigned")
    assert (reassigned["from_person"], reassigned["to_person"]) == ("S02", "R08")
    deal = by_deal[reassigned["deal"]]
    assert (deal["rep"], deal["claimed_by"], deal["status"]) == ("R08", "R09", "open")
    assert deal["team"] == "华北组"
    # a third confiscated deal still waits for S02
    pending = [o for o in summary.opportunities if o["status"] == "confiscated" and o["claimed_by"] == "R12"]
    assert pending and {o["rep"] for o in pending} == {"S02"}
    for o in pending:
        assert {(a["code"], tuple(a["people"])) for a in summary.alerts if a["deal"] == o["deal"]} >= {
            ("deal-confiscated", ("R12", "S02")), ("decision-pending", ("S02",))}
    # S01 closed the deal R04 dropped from his list: it is counted nowhere any more
    closed = next(m for m in moves if m["reason"] == "closed")
    assert closed["deal"].startswith("R04-") and closed["deal"] not in by_deal
    # invalid decisions: a rep deciding on his own deal, and a mistyped deal id
    invalid = sorted((r["author"], outcomes[r["id"]]["reason"]) for r in rows
                     if outcomes.get(r["id"], {}).get("outcome") == "invalid")
    assert invalid == [("R05", "no-authority"), ("S02", "unknown-deal")]
    assert sorted(a["people"][0] for a in summary.alerts if a["code"] == "decision-invalid") == ["R05", "S02"]


def test_extension_postponed_a_confiscation(demo, summary) -> None:
    _, _, ws = demo
    store = ws.store()
    try:
        granted = store.rows(extensions, AS_OF)
        moves = store.rows(transfers, AS_OF)
    finally:
        store.close()
    assert [(e["by_person"], e["days"]) for e in granted] == [("S01", 14)]
    deal = next(o for o in summary.opportunities if o["deal"] == granted[0]["deal"])
    limit = next(s["limit_days"] for s in summary.stages if s["stage_order"] == deal["claimed_stage_order"])
    # past the stage's own limit, yet still with its rep: the extension kept it from being confiscated
    assert limit < deal["days_in_stage"] <= limit + granted[0]["days"]
    assert (deal["rep"], deal["status"]) == ("R03", "open")
    assert not any(m["deal"] == deal["deal"] for m in moves)
    near = next(a for a in summary.alerts if a["code"] == "stage-deadline-near" and a["deal"] == deal["deal"])
    assert f"{limit + granted[0]['days']} 天" in near["message"]


def test_duplicate_claim_and_small_deal(summary) -> None:
    dup = next(a for a in summary.alerts if a["code"] == "duplicate-claim")
    assert dup["rep"] == "R02" and dup["deal"].startswith("R03-")
    assert set(dup["people"]) == {"R02", "R03", "S01"}
    # the later claim is counted nowhere; the first claim stays R03's
    assert not any(o["claimed_by"] == "R02" and o["customer"] == dup["customer"] for o in summary.opportunities)
    assert any(o["deal"] == dup["deal"] and o["rep"] == "R03" for o in summary.opportunities)
    assert summary.small_deals and all(o["amount"] < 50_000 for o in summary.small_deals)
    assert not {o["deal"] for o in summary.small_deals} & {o["deal"] for o in summary.opportunities}


def test_the_lock_passes_on_and_near_names_are_flagged(summary) -> None:
    """R05's claim is lost in the last week: R04's later claim of the same customer holds the lock."""
    first, second = LOCK_PASSED[0][0], LOCK_PASSED[1][0]
    [passed] = [r for r in summary.mpc_review if r["change"] == "lock_passed"]
    assert (passed["customer"], passed["rep"], passed["before"], passed["after"]) == (
        second, "R04", "R05 孙浩", "R04 赵敏")
    [deal] = [o for o in summary.opportunities if o["customer"] in (first, second)]
    assert (deal["rep"], deal["claimed_by"], deal["amount"], deal["days_in_stage"]) == ("R04", "R04", 900_000, 0)
    assert not [a for a in summary.alerts if a["customer"] in (first, second)]
    # 北京京诚 / 北京京成: a warning to the reps' supervisor, both deals counted
    [near] = [a for a in summary.alerts if a["code"] == "possible-duplicate"]
    assert (near["customer"], near["people"], near["rep"]) == (NEAR_NAMES[1][0], ["S02"], "R07")
    assert {o["rep"] for o in summary.opportunities if o["customer"] in NEAR_NAMES[0] + NEAR_NAMES[1]} == {
        "R06", "R07"}


def test_alerts_sheet_has_a_row_per_person(demo, summary) -> None:
    result, _, _ = demo
    wb = openpyxl.load_workbook(result.summary_path)
    try:
        sheet = wb[t("sheet.alerts", "zh-CN")]
        table = sheet.tables["Alerts"]
        rows = list(sheet.iter_rows(min_row=openpyxl.utils.cell.range_boundaries(table.ref)[1] + 1,
                                    values_only=True))
    finally:
        wb.close()
    shown = Counter((r[2], r[7], r[6] or "") for r in rows if r[7] in ALERTS)  # person, code, deal
    expected = Counter((p, a["code"], a["deal"]) for a in summary.alerts for p in a["people"])
    assert shown == expected
    assert sum(expected.values()) > len(summary.alerts)  # most alerts go to a rep and their supervisor


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
    done = subprocess.run([sys.executable, "-m", "sheetsales.service.cli", "demo", str(root), "--as-of", AS_OF.isoformat(),
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
    real = init_workspace(tmp_path / "real", "zh-CN", as_of=AS_OF, sample=True)
    assert main(["demo", str(real.root), "--as-of", "2026-11-20", "--weeks", "1"]) == 2
    assert "演示不会删除它" in capsys.readouterr().err
    assert (real.root / "sheetsales.toml").is_file() and real.playbook_path.is_file()

    with pytest.raises(DemoError):
        run_demo(tmp_path / "fresh", AS_OF, weeks=0, out=lambda _line: None)


def test_the_daily_log_rewritten_busy_and_verified(demo, summary, capsys: pytest.CaptureFixture[str]) -> None:
    result, _, ws = demo
    # R05 saved last week's report again with a row's hours inflated and another row deleted.
    rewritten = [(i["rep"], i["cell"]) for i in summary.issues if i["code"] == "log-rewritten"]
    assert rewritten == [("R05", "A4"), ("R05", "A5")]
    false = summary.sections["false_reports"]
    assert [f["rep"] for f in false["findings"] if f["kind"] == "rewritten"] == ["R05", "R05"]
    assert any(f["kind"] == "advance" for f in false["findings"])
    # R06 logs long days on deals that hardly move.
    busy = {a["rep"] for a in summary.alerts if a["code"] == "busy-not-converting"}
    assert "R06" in busy
    ranking = {r["rep"]: r for r in summary.sections["activity"]["ranking"]}
    assert len(ranking) == 13 and all(r["hours"] > 0 and r["score"] > 0 for r in ranking.values())
    assert ranking["R06"]["hours"] == max(r["hours"] for r in ranking.values() if r["team"] == ranking["R06"]["team"])
    statuses = Counter(task["status"] for task in summary.sections["plans"]["tasks"])
    assert {"done", "not_done", "pending"} <= set(statuses)
    # Every chain is intact, the rewrite notwithstanding.
    assert main(["verify", str(ws.root), "--as-of", AS_OF.isoformat()]) == 0
    assert "13" in capsys.readouterr().out
    sheets = openpyxl.load_workbook(result.summary_path, read_only=True).sheetnames
    for key in ("activity", "activity_deals", "false_reports", "plans"):
        assert t(f"sheet.{key}", "zh-CN") in sheets
