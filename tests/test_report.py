"""The summary workbook, the feedback workbooks and the JSON figures."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from conftest import WEEK1, deal, save_mpc
from openpyxl.cell.cell import TYPE_STRING

from sheetsales.outputs import write as write_mod
from sheetsales.outputs.report import run_report
from sheetsales.reading.specs import TARGETS_TABLE
from sheetsales.service.cli import main
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest

WEEK2 = WEEK1 + dt.timedelta(days=7)


def table_records(path: Path, sheet: str, name: str) -> tuple[list[dict], dict | None]:
    """The rows of a named table (and its total row) as header -> value."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    table = ws.tables[name]
    cells = list(ws[table.ref])
    headers = [c.value for c in cells[0]]
    body = cells[1:]
    total = None
    if table.totalsRowCount:
        total = dict(zip(headers, [c.value for c in body[-1]], strict=True))
        body = body[:-1]
    rows = [dict(zip(headers, [c.value for c in r], strict=True)) for r in body]
    return [r for r in rows if any(v is not None for v in r.values())], total


def cached_values(path: Path, sheet: str) -> list[list]:
    """What a viewer that does not recalculate shows."""
    import python_calamine

    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(
        skip_empty_area=False)


@pytest.fixture
def worked_example(workspace: Workspace) -> Workspace:
    """DOMAIN.md §2: 1,000,000 at 20 % and 500,000 at 50 %."""
    save_mpc(workspace, "R01", [deal("大庆石化机械厂", "方案设计", 1_000_000, dt.date(2026, 12, 10)),
                                deal("天津港务集团", "方案确认", 500_000, dt.date(2027, 1, 20))])
    save_mpc(workspace, "R02", [deal("青岛啤酒设备公司", "商务谈判", 2_000_000, dt.date(2026, 11, 30)),
                                deal("坏数据公司", "方案设计", -1)])
    ingest(workspace, WEEK1)
    return workspace


def test_the_worked_example_comes_out_exactly(worked_example: Workspace) -> None:
    result = run_report(worked_example, WEEK1)
    ranked = [(o["customer"], o["amount"], o["probability"], o["weighted"]) for o in result.summary.opportunities
              if o["rep"] == "R01"]
    assert ranked == [("天津港务集团", 500_000, 0.5, 250_000), ("大庆石化机械厂", 1_000_000, 0.2, 200_000)]
    rows, total = table_records(result.summary_path, "商机", "Opportunities")
    assert [(r["客户"], r["加权金额"]) for r in rows] == [
        ("青岛啤酒设备公司", 1_600_000), ("天津港务集团", 250_000), ("大庆石化机械厂", 200_000)]
    assert total["加权金额"] == "=SUBTOTAL(109,Opportunities[加权金额])"
    cached = cached_values(result.summary_path, "商机")
    flat_cells = [v for row in cached for v in row]
    assert 2_050_000 in flat_cells and 3_500_000 in flat_cells  # totals cached for non-recalculating viewers


def test_every_sheet_holds_named_tables(worked_example: Workspace) -> None:
    path = run_report(worked_example, WEEK1).summary_path
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:8] == ["总览", "漏斗", "预测", "MPC周评", "商机", "小额快单", "预警", "数据问题"]
    tables = {name for ws in wb.worksheets for name in ws.tables}
    assert tables >= {"Funnel", "FunnelStates", "FunnelByRegion", "FunnelByTeam", "FunnelByRep", "Forecast",
                      "ForecastByRep", "MPCReview", "Opportunities", "SmallDeals", "Alerts", "DataIssues"}
    assert wb["漏斗"].freeze_panes == "A4"  # several tables: the title and the index of links stay
    assert len(wb["漏斗"]._charts) == 1 and len(wb["预测"]._charts) == 1


def test_funnel_by_stage_state_rep_team_region(worked_example: Workspace) -> None:
    summary = run_report(worked_example, WEEK1).summary
    company = {r["stage_order"]: (r["count"], r["amount"], r["weighted"]) for r in summary.funnel
               if r["level"] == "company"}
    assert company[3] == (1, 1_000_000, 200_000) and company[5] == (1, 500_000, 250_000)
    assert company[7] == (1, 2_000_000, 1_600_000) and company[1] == (0, 0, 0)
    for level in ("region", "team", "rep"):
        for order, (count, amount, weighted) in company.items():
            rows = [r for r in summary.funnel if r["level"] == level and r["stage_order"] == order]
            assert sum(r["count"] for r in rows) == count
            assert sum(r["amount"] for r in rows) == pytest.approx(amount)
            assert sum(r["weighted"] for r in rows) == pytest.approx(weighted)
    states = {r["funnel_state"]: r["weighted"] for r in summary.funnel_states if r["level"] == "company"}
    assert states == {"search": 0, "funnel": 450_000, "best": 1_600_000}
    rows, total = table_records(run_report(worked_example, WEEK1).summary_path, "漏斗", "Funnel")
    assert [r["商机数"] for r in rows] == [0, 0, 1, 0, 1, 0, 1, 0]
    assert total["加权金额"] == "=SUBTOTAL(109,Funnel[加权金额])"


def test_forecast_against_targets_rolls_up(worked_example: Workspace) -> None:
    wb = openpyxl.load_workbook(worked_example.playbook_path)
    targets = wb[TARGETS_TABLE.zh]
    targets.append(["R01", "2026-12", 300_000])
    targets.append(["R02", "2026-Q4", 900_000])  # 300,000 a month
    targets.append(["华东组", "2027", 12_000_000])  # team target wins over the reps' sum
    wb.save(worked_example.playbook_path)
    ingest(worked_example, WEEK1 + dt.timedelta(days=1))
    summary = run_report(worked_example, WEEK1 + dt.timedelta(days=1)).summary
    fc = {(r["level"], r["group"], r["month"]): r for r in summary.forecast}
    assert fc[("rep", "R01", "2026-12")]["weighted"] == 200_000
    assert fc[("rep", "R01", "2026-12")]["target"] == 300_000
    assert fc[("rep", "R01", "2026-12")]["gap"] == -100_000
    assert fc[("rep", "R02", "2026-11")]["weighted"] == 1_600_000
    assert fc[("rep", "R02", "2026-11")]["gap"] == 1_300_000
    assert fc[("team", "华东组", "2026-12")]["target"] == 600_000  # sum of R01 and R02
    assert fc[("team", "华东组", "2027-01")]["target"] == 1_000_000  # explicit yearly / 12
    assert fc[("company", "*", "2027-01")]["weighted"] == 250_000
    assert fc[("region", "华东", "2026-12")]["target"] == 600_000


def test_mpc_review_lists_every_kind_of_change(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲"), deal("乙", "业绩展示"), deal("丙"), deal("丁"), deal("戊"), deal("己"),
                                deal("庚")])
    ingest(workspace, WEEK1)
    save_mpc(workspace, "R01", [
        deal("甲", "业绩展示"),  # advanced
        deal("乙", "方案设计"),  # moved back
        deal("丙", status="已签约"),  # won
        deal("丁", status="已丢单"),  # lost
        deal("戊", amount=1_500_000),  # amount changed
        deal("己", sign=dt.date(2027, 2, 1)),  # date changed
        deal("辛"),  # new; 庚 is gone
    ])
    ingest(workspace, WEEK2)
    review = run_report(workspace, WEEK2).summary.mpc_review
    assert sorted((r["customer"], r["change"]) for r in review) == [
        ("丁", "lost"), ("丙", "won"), ("乙", "moved_back"), ("己", "date_changed"), ("庚", "gone"),
        ("戊", "amount_changed"), ("甲", "advanced"), ("辛", "new")]
    amount = next(r for r in review if r["change"] == "amount_changed")
    assert (amount["before"], amount["after"]) == (1_000_000, 1_500_000)


def test_reps_text_is_written_as_text_never_as_a_formula(workspace: Workspace) -> None:
    path = save_mpc(workspace, "R01", [deal("placeholder")])
    wb = openpyxl.load_workbook(path)
    cell = wb["MPC一览表"]["D4"]
    cell.value = '=HYPERLINK("http://evil.example","点我")'
    cell.data_type = TYPE_STRING  # typed as text, as Excel stores a leading apostrophe
    wb.save(path)
    ingest(workspace, WEEK1)
    out = run_report(workspace, WEEK1).summary_path
    ws = openpyxl.load_workbook(out)["商机"]
    texts = [c for row in ws.iter_rows() for c in row if c.value == '=HYPERLINK("http://evil.example","点我")']
    assert len(texts) == 1 and texts[0].data_type == TYPE_STRING


def test_a_crash_while_writing_leaves_the_previous_summary_intact(worked_example: Workspace, monkeypatch) -> None:
    path = run_report(worked_example, WEEK1).summary_path
    before = path.read_bytes()
    feedback = worked_example.reports / "feedback" / "R01.xlsx"

    def crash(summary, tmp, names=None):  # noqa: ANN001
        tmp.write_bytes(b"half a workbook")
        raise RuntimeError("power cut")

    monkeypatch.setattr(write_mod, "_build_summary", crash)
    result = run_report(worked_example, WEEK2)  # reported, not raised: the other outputs are written
    assert result.summary_path is None
    assert [(p.target, p.error, p.copy) for p in result.failed] == [(path, "RuntimeError: power cut", None)]
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir() if p.is_file() and not p.name.startswith(".")) == [
        "summary.xlsx"]
    assert feedback in result.feedback and "2026-11-09" in str(cached_values(feedback, "商机"))  # written anew


def test_a_workbook_failing_its_check_is_not_moved_into_place(worked_example: Workspace, monkeypatch) -> None:
    path = run_report(worked_example, WEEK1).summary_path
    before = path.read_bytes()
    monkeypatch.setattr(write_mod, "_build_summary", lambda summary, tmp, names=None: tmp.write_bytes(b"PK\x03\x04junk"))
    result = run_report(worked_example, WEEK2)
    assert [(p.target, p.error.split(":")[0]) for p in result.failed] == [(path, "OutputCheckError")]
    assert path.read_bytes() == before
    assert len(result.feedback) == 5


def record_amounts(ws: Workspace, rep: str, amounts: list[float]) -> None:
    """Record a version of ``rep``'s MPC list straight into the store, bypassing validation, whose deals
    carry ``amounts`` (what a reader that let such values through would have recorded)."""
    from sheetsales.storage.store import opportunities

    store = ws.store()
    try:
        latest = store.latest_mpc_versions(WEEK1)[rep]
        rows = store.opportunities_of([latest["id"]])
        with store.transaction() as conn:
            ingest_id = store.add_ingest(conn, WEEK1)
            fv_id = store.add_file_version(conn, ingest_id=ingest_id, observed_on=WEEK1, path=latest["path"],
                                           sha256="f" * 64, size=1, archive="-", kind="mpc", rep=rep, week=None,
                                           readable=True)
            store.add_rows(conn, opportunities, [
                {**{k: v for k, v in r.items() if k != "id"}, "file_version_id": fv_id, "amount": amount}
                for r, amount in zip(rows, amounts, strict=True)])
    finally:
        store.close()


def test_non_finite_and_huge_amounts_in_the_store_never_stop_the_report(worked_example: Workspace,
                                                                          capsys: pytest.CaptureFixture) -> None:
    record_amounts(worked_example, "R01", [float("inf"), 9e307])
    record_amounts(worked_example, "R02", [9e307])  # with R01's 9e307: a total past what a float holds
    result = run_report(worked_example, WEEK1)
    assert result.problems == [] and result.summary_path == worked_example.reports / "summary.xlsx"
    assert sorted(p.name for p in result.feedback) == ["D01.xlsx", "R01.xlsx", "R02.xlsx", "R03.xlsx", "S01.xlsx"]
    rows, total = table_records(result.summary_path, "商机", "Opportunities")
    amounts = {r["客户"]: r["金额"] for r in rows}
    assert amounts["大庆石化机械厂"] == "inf"  # written as text: Excel holds no infinity
    assert amounts["天津港务集团"] == 9e307 and amounts["青岛啤酒设备公司"] == 9e307
    r01, _ = table_records(worked_example.reports / "feedback" / "R01.xlsx", "商机", "MyOpportunities")
    assert {r["金额"] for r in r01} == {"inf", 9e307}
    assert main(["report", str(worked_example.root), "--as-of", WEEK1.isoformat()]) == 0
    capsys.readouterr()
    assert main(["report", str(worked_example.root), "--as-of", WEEK1.isoformat(), "--json", "--no-write"]) == 0

    def refuse(constant: str) -> None:
        raise AssertionError(f"not strict JSON: {constant}")

    data = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert {o["customer"]: o["amount"] for o in data["opportunities"]}["大庆石化机械厂"] == "inf"
    from sheetsales.service.schedule import scheduled_run

    done = scheduled_run(worked_example, WEEK1)  # the digest too
    assert done.digest is not None and done.report.problems == []


def test_a_feedback_workbook_that_fails_to_build_is_reported_and_the_others_are_written(
        worked_example: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    folder = worked_example.reports / "feedback"
    build = write_mod._build_feedback

    def broken_for_r02(summary, person, records, path):  # noqa: ANN001
        if person["rep"] == "R02":
            raise ValueError("a bug met R02's data")
        build(summary, person, records, path)

    monkeypatch.setattr(write_mod, "_build_feedback", broken_for_r02)
    result = run_report(worked_example, WEEK1)
    assert [(p.target, p.error) for p in result.problems] == [(folder / "R02.xlsx", "ValueError: a bug met R02's data")]
    assert result.failed == result.problems
    assert result.summary_path == worked_example.reports / "summary.xlsx" and result.summary_path.is_file()
    assert sorted(p.name for p in result.feedback) == ["D01.xlsx", "R01.xlsx", "R03.xlsx", "S01.xlsx"]
    assert all(p.is_file() for p in result.feedback) and not (folder / "R02.xlsx").exists()
    assert main(["report", str(worked_example.root), "--as-of", WEEK1.isoformat()]) == 1
    out = capsys.readouterr().out
    assert "R02.xlsx 未能写入" in out and "ValueError" in out and "汇总已写入" in out


def test_feedback_per_person(worked_example: Workspace) -> None:
    result = run_report(worked_example, WEEK1)
    assert sorted(p.name for p in result.feedback) == ["D01.xlsx", "R01.xlsx", "R02.xlsx", "R03.xlsx", "S01.xlsx"]
    folder = worked_example.reports / "feedback"
    r02, _ = table_records(folder / "R02.xlsx", "数据问题", "MyIssues")
    assert [(r["代码"], r["位置"]) for r in r02] == [("negative-amount", "R02/MPC一览表_R02.xlsx!MPC一览表!E5")]
    r01, _ = table_records(folder / "R01.xlsx", "数据问题", "MyIssues")
    assert r01 == []
    boss, _ = table_records(folder / "S01.xlsx", "数据问题", "MyIssues")
    assert boss == []  # a supervisor's own issues; the team's are counted per person, in detail in theirs
    team, _ = table_records(folder / "S01.xlsx", "本周概况", "MyTeam")
    assert {r["销售"]: r["数据错误"] for r in team} == {"R01": 0, "R02": 1, "R03": 0}
    r01_opps, _ = table_records(folder / "R01.xlsx", "商机", "MyOpportunities")
    assert {r["客户"] for r in r01_opps} == {"大庆石化机械厂", "天津港务集团"}


def test_report_json_has_stable_english_keys(worked_example: Workspace, capsys) -> None:
    assert main(["report", str(worked_example.root), "--as-of", WEEK1.isoformat(), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"funnel", "forecast", "mpc_review", "opportunities", "issues"} <= set(data)
    assert all(isinstance(data[k], list) for k in ("funnel", "forecast", "mpc_review", "opportunities", "issues"))
    opp = data["opportunities"][1]
    assert set(opp) >= {"deal", "rep", "customer", "stage", "probability", "amount", "weighted", "sign_date",
                        "days_in_stage"}
    assert (opp["customer"], opp["weighted"], opp["sign_date"]) == ("天津港务集团", 250_000, "2027-01-20")
    issue = data["issues"][0]
    assert (issue["code"], issue["position"], issue["severity"]) == (
        "negative-amount", "R02/MPC一览表_R02.xlsx!MPC一览表!E5", "error")


def test_english_workspace_summary(workspace_en: Workspace) -> None:
    save_mpc(workspace_en, "R01", [deal("Acme Machinery Co., Ltd.", "Solution design", 1_000_000,
                                        category="CNC machine")])
    ingest(workspace_en, WEEK1)
    result = run_report(workspace_en, WEEK1)
    wb = openpyxl.load_workbook(result.summary_path)
    assert wb.sheetnames[:8] == ["Overview", "Funnel", "Forecast", "MPC review", "Opportunities", "Small deals",
                                 "Alerts", "Data issues"]
    rows, _ = table_records(result.summary_path, "Opportunities", "Opportunities")
    assert [(r["Customer"], r["Stage"], r["Weighted"]) for r in rows] == [
        ("Acme Machinery Co., Ltd.", "Solution design", 200_000)]


def test_unchanged_feedback_is_not_rewritten(worked_example: Workspace) -> None:
    folder = worked_example.reports / "feedback"
    run_report(worked_example, WEEK1)
    before = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.xlsx")}
    save_mpc(worked_example, "R02", [deal("青岛啤酒设备公司", "商务谈判", 2_100_000, dt.date(2026, 11, 30))])
    ingest(worked_example, WEEK1)
    run_report(worked_example, WEEK1)
    after = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.xlsx")}
    changed = sorted(name for name in after if after[name] != before[name])
    # R02's deal and issue changed; S01 and D01 see their team's issues and alerts.
    assert changed == ["D01.xlsx", "R02.xlsx", "S01.xlsx"]
    (folder / "R01.xlsx").write_bytes(b"someone broke it")
    run_report(worked_example, WEEK1)
    assert (folder / "R01.xlsx").read_bytes().startswith(b"PK")  # a damaged file is written again
