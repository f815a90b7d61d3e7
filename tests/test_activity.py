"""Diligence, effectiveness, false reports and the plan, on known input computed by hand (issue 10).

The default playbook's activity weights: visit 3, call 1, proposal 2, meeting 0.5 (non-sales).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from conftest import WEEK1, deal, save_mpc

from sheetsales.analyses import activity
from sheetsales.i18n import t
from sheetsales.outputs import soffice as lo
from sheetsales.outputs.report import build_summary, run_report
from sheetsales.reading.fill import fill_table
from sheetsales.reading.specs import LOG_TABLE, PLAN_TABLE
from sheetsales.reading.templates import template_filename
from sheetsales.service.cli import main
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest

D = {n: WEEK1 + dt.timedelta(days=n) for n in range(14)}  # D[0] Monday 2026-11-02 … D[13] Sunday 11-15


def weekly(ws: Workspace, rep: str, week: str = "2026-W45") -> Path:
    return ws.inbox / rep / template_filename("weekly", ws.lang, rep, week)


R01_LOG = [
    {"date": D[0], "deal": "甲公司", "t_visit": "✓", "hours": 2, "cost": 100},
    {"date": D[1], "deal": "乙公司", "t_call": "✓", "t_proposal": "✓", "hours": 3},
    {"date": D[1], "t_meeting": "✓", "hours": 1, "content": "周会"},
    {"date": D[2], "content": "整理资料", "hours": 2},  # nothing ticked, no customer: non-sales
]


@pytest.fixture
def team(workspace: Workspace) -> Workspace:
    """R01 works 甲公司 and 乙公司, which move on; 丁公司 moves on too, without a log row. R02 visits a new
    customer. Ingested Monday and Thursday; the report is as of Friday D[4]."""
    ws = workspace
    save_mpc(ws, "R01", [deal("甲公司", "方案设计"), deal("乙公司", "初步接触", milestones=1),
                         deal("丁公司", "初步接触", milestones=1)])
    ingest(ws, D[0])
    fill_table(weekly(ws, "R01"), LOG_TABLE, R01_LOG)
    fill_table(weekly(ws, "R02"), LOG_TABLE, [{"date": D[1], "deal": "丙公司", "t_visit": "✓", "hours": 4, "cost": 50}])
    save_mpc(ws, "R01", [deal("甲公司", "业绩展示"), deal("乙公司", "方案设计"), deal("丁公司", "方案设计")])
    ingest(ws, D[3])
    return ws


def test_curves_scores_and_activity_per_deal_and_stage(team: Workspace) -> None:
    tables = build_summary(team, D[4]).sections["activity"]
    r01 = [r for r in tables["daily"] if r["rep"] == "R01"]
    assert [(r["date"], r["hours"], r["cost"], r["score"], r["non_sales_share"]) for r in r01] == [
        (D[0], 2.0, 100.0, 3.0, 0.0), (D[1], 4.0, 0.0, 3.5, 0.25), (D[2], 2.0, 0.0, 0.0, 1.0)]
    month = next(r for r in tables["monthly"] if r["rep"] == "R01")
    assert (month["month"], month["days"], month["hours"], month["score"], month["cost"], month["non_sales_share"],
            month["hours_per_day"], month["score_per_day"]) == ("2026-11", 3, 8.0, 6.5, 100.0, 0.375, 2.67, 2.17)

    ranking = {r["rep"]: r for r in tables["ranking"]}
    assert set(ranking) == {"R01", "R02", "R03"}
    r01, r02 = ranking["R01"], ranking["R02"]
    assert (r01["hours"], r01["score"], r01["deals_worked"], r01["deals_converted"], r01["conversion"]) == (
        8.0, 6.5, 2, 2, 1.0)
    assert r01["score_per_hour"] == round(6.5 / 8, 4)
    assert (r02["hours"], r02["score"], r02["deals_worked"], r02["conversion"]) == (4.0, 3.0, 0, None)  # 丙公司 is new
    assert [(r["rep"], r["rank"]) for r in tables["ranking"]] == [("R01", 1), ("R02", 2), ("R03", 3)]

    deals = {d["customer"]: d for d in tables["deals"]}
    assert set(deals) == {"甲公司", "乙公司"}
    assert (deals["甲公司"]["hours"], deals["甲公司"]["score"], deals["甲公司"]["stage"]) == (2.0, 3.0, "业绩展示")
    # By the deal's stage on the day of the work: 甲公司 was at 方案设计 on Monday, 乙公司 at 初步接触 on Tuesday.
    assert [(s["stage_order"], s["rep"], s["deals"], s["hours"], s["score"]) for s in tables["stages"]] == [
        (2, "R01", 1, 3.0, 3.0), (3, "R01", 1, 2.0, 3.0)]


def test_a_rewritten_row_counts_as_first_recorded_and_is_a_false_report(team: Workspace) -> None:
    fill_table(weekly(team, "R01"), LOG_TABLE, [dict(R01_LOG[0], hours=9), *R01_LOG[1:]])
    ingest(team, D[4])
    summary = build_summary(team, D[4])
    assert summary.sections["activity"]["monthly"][0]["hours"] == 8.0  # the original stays in force
    false = summary.sections["false_reports"]
    findings = [(f["kind"], f["rep"], f["customer"], f["stage_order"]) for f in false["findings"]]
    # 丁公司 moved to 方案设计 with no log row since it was first seen; 甲公司's Monday row was rewritten.
    assert findings == [("rewritten", "R01", "甲公司", 3), ("advance", "R01", "丁公司", 3)]
    by_stage = {s["stage_order"]: s for s in false["by_stage"]}
    assert (by_stage[3]["rewritten"], by_stage[3]["advances"], by_stage[3]["advances_without_activity"],
            by_stage[3]["share"]) == (1, 2, 1, 0.5)
    assert (by_stage[4]["advances"], by_stage[4]["advances_without_activity"]) == (1, 0)
    r01 = next(p for p in false["by_person"] if p["rep"] == "R01")
    assert (r01["log_rows"], r01["rewritten"], r01["advances"], r01["advances_without_activity"]) == (4, 1, 3, 1)


def test_busy_not_converting_is_the_top_quarter_of_hours_and_the_bottom_quarter_of_conversion() -> None:
    def rep(rid: str, team: str, hours: float, conversion: float) -> dict:
        return {"rep": rid, "team": team, "hours": hours, "conversion": conversion, "busy_not_converting": False}

    # Team A: hours 40, 50, 60, 100 → Q3 = 70; conversion .2, .4, .5, .6 → Q1 = .35. Team B has three reps only.
    ranking = [rep("A1", "A", 100, 0.2), rep("A2", "A", 40, 0.5), rep("A3", "A", 50, 0.6), rep("A4", "A", 60, 0.4),
               rep("B1", "B", 100, 0.0), rep("B2", "B", 10, 1.0), rep("B3", "B", 10, 1.0)]
    activity._flag_busy(ranking)
    assert [r["rep"] for r in ranking if r["busy_not_converting"]] == ["A1"]
    assert (ranking[0]["team_hours_q3"], ranking[0]["team_conversion_q1"]) == (70.0, 0.35)
    assert activity.quartiles([40, 50, 60, 100]) == (47.5, 70.0)


def test_the_plan_is_compared_with_the_log_of_its_week(team: Workspace) -> None:
    plan = [
        {"day": D[7], "side": "销售工作", "rank": 1, "task": "跟进甲公司", "deal": "甲公司", "hours": 2},
        {"day": D[8], "side": "销售工作", "rank": 2, "task": "跟进乙公司", "deal": "乙公司", "hours": 2},
        {"day": D[9], "side": "销售工作", "rank": 3, "task": "跟进丁公司", "deal": "丁公司", "hours": 1},
        {"day": D[7], "side": "非销售工作", "rank": 1, "task": "周会", "hours": 1},
        {"day": D[11], "side": "非销售工作", "rank": 2, "task": "报销", "hours": 1},
    ]
    fill_table(weekly(team, "R01"), PLAN_TABLE, plan)
    ingest(team, D[7])  # hands out week 46
    fill_table(weekly(team, "R01", "2026-W46"), LOG_TABLE, [
        {"date": D[7], "deal": "甲公司", "t_visit": "✓", "hours": 3},
        {"date": D[9], "deal": "乙公司", "t_call": "✓", "hours": 1},
        {"date": D[7], "t_meeting": "✓", "hours": 1},
    ])
    ingest(team, D[9])
    tables = build_summary(team, D[9]).sections["plans"]
    assert [(x["task"], x["status"], x["logged_hours"]) for x in tables["tasks"]] == [
        ("跟进甲公司", "done", 3.0), ("周会", "done", 1.0), ("跟进乙公司", "later", 1.0), ("跟进丁公司", "not_done", 0),
        ("报销", "pending", 0)]
    week = next(w for w in tables["weeks"] if w["week"] == "2026-W46")
    assert (week["sales_planned"], week["sales_done"], week["sales_done_share"]) == (3, 2, 0.6667)
    assert (week["other_planned"], week["other_done"], week["other_done_share"]) == (2, 1, 1.0)
    assert (week["sales_planned_hours"], week["sales_logged_hours"], week["other_planned_hours"],
            week["other_logged_hours"]) == (5.0, 4.0, 2.0, 1.0)
    assert (week["planned_non_sales_share"], week["logged_non_sales_share"], week["top_task_done"]) == (
        0.2857, 0.2, True)


def test_a_plan_day_outside_next_week_is_a_data_issue(team: Workspace) -> None:
    fill_table(weekly(team, "R01"), PLAN_TABLE, [{"day": D[2], "side": "销售工作", "task": "跟进甲公司"}])
    result = ingest(team, D[4])
    issues = [(i.sheet, i.cell, i.code) for p in result.files if p.kind == "weekly" for i in p.issues]
    assert issues == [(PLAN_TABLE.zh, "A4", "date-outside-week")]


def test_report_json_has_the_activity_and_false_report_keys(team: Workspace) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["report", str(team.root), "--json", "--no-write", "--as-of", D[4].isoformat()]) == 0
    data = json.loads(out.getvalue())
    assert {"daily", "monthly", "ranking", "deals", "stages"} <= set(data["activity"])
    assert {"findings", "by_stage", "by_person"} <= set(data["false_reports"])
    assert {"tasks", "weeks"} <= set(data["plans"])
    first = data["activity"]["daily"][0]
    assert {"rep", "date", "hours", "cost", "score", "non_sales_share"} <= set(first)


def test_new_sheets_recalculated_by_libreoffice(soffice: str, team: Workspace, tmp_path: Path) -> None:
    result = run_report(team, D[4])
    computed = lo.export_csv_sheets(result.summary_path, tmp_path / "csv", recalc=True)
    lang = team.lang
    sheet = computed[t("sheet.activity", lang)]
    # The ranking's totals row (SUBTOTAL over the table) recalculated: 8 + 4 hours, 6.5 + 3 score.
    total = next(row for row in sheet if row and row[0] == t("total", lang))
    assert [float(x) for x in total[4:6]] == [12.0, 9.5]
    # The diligence data behind R01's chart: Monday 2, Tuesday 4, Wednesday 2 hours.
    dates = [row for row in sheet if row and row[0] in {d.isoformat() for d in (D[0], D[1], D[2])}]
    assert [float(row[1]) for row in dates[:3]] == [2.0, 4.0, 2.0]
    false = computed[t("sheet.false_reports", lang)]
    total = next(row for row in false if row and row[0] == t("total", lang))
    assert [float(x) for x in total[2:5]] == [0.0, 3.0, 1.0]  # rewritten, advances, advances without a log row
    assert t("sheet.plans", lang) in computed


def test_activity_by_stage_totals(team: Workspace) -> None:
    totals = {s["stage_order"]: s for s in build_summary(team, D[4]).sections["activity"]["stage_totals"]}
    assert len(totals) == 8
    assert (totals[2]["deals"], totals[2]["hours"], totals[2]["hours_per_deal"]) == (1, 3.0, 3.0)
    assert (totals[3]["deals"], totals[3]["hours"], totals[3]["score"]) == (1, 2.0, 3.0)
    assert (totals[5]["deals"], totals[5]["hours_per_deal"]) == (0, None)


def test_a_rep_sees_the_teams_ranking_anonymised_and_a_supervisor_sees_it_named(team: Workspace) -> None:
    tables = build_summary(team, D[4]).sections["activity"]
    team_of = {r["rep"]: r["team"] for r in tables["ranking"]}
    mates = sorted(r for r in team_of if r != "R01" and team_of[r] == team_of["R01"])
    assert mates  # the default team: R01's colleagues
    for_r01 = [r for r in tables["team_ranking"] if r["reader"] == "R01"]
    assert sorted(r["rank"] for r in for_r01) == sorted(r["rank"] for r in tables["ranking"] if r["rep"] in mates)
    assert {(r["rep"], r["rep_name"]) for r in for_r01} == {("", t("activity.anonymous", team.lang))}
    assert not [r for r in tables["team_ranking"] if r["reader"] == "S01"]  # all in S01's scope: named there

    run_report(team, D[4])
    import openpyxl

    names = {p: n for p, n in ((r["rep"], r["rep_name"]) for r in tables["ranking"])}
    sheet = openpyxl.load_workbook(team.reports / "feedback" / "R01.xlsx")[t("sheet.my_activity", team.lang)]
    cells = list(sheet[sheet.tables["MyRanking"].ref])
    rows = [[c.value for c in r] for r in cells[1:]]
    assert len([r for r in rows if r[0] is not None]) >= len(mates) + 1  # every place of the team
    text = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert names["R01"] in text and not {names[m] for m in mates} & text  # no colleague's name
    boss = openpyxl.load_workbook(team.reports / "feedback" / "S01.xlsx")[t("sheet.my_activity", team.lang)]
    boss_text = {str(c.value) for row in boss.iter_rows() for c in row if c.value is not None}
    assert {names[m] for m in mates} <= boss_text


@pytest.mark.filterwarnings("error:Duplicate header")  # XlsxWriter warns, and leaves the table out, on a repeated header
def test_two_reps_of_the_same_name_keep_their_curves_tables(team: Workspace, tmp_path: Path) -> None:
    """Two people may share a name (吴秀 and 吴秀): the curves' tables, one column per person, tell them
    apart by id, and the workbook holds both tables."""
    import dataclasses

    import openpyxl

    from sheetsales.outputs.write import write_summary

    summary = build_summary(team, D[4])
    tables = dict(summary.sections)
    ranking = [{**r, "rep_name": "吴秀"} if r["rep"] in ("R02", "R03") else r for r in tables["activity"]["ranking"]]
    tables["activity"] = {**tables["activity"], "ranking": ranking}
    path = write_summary(dataclasses.replace(summary, sections=tables), tmp_path / "summary.xlsx")
    ws = openpyxl.load_workbook(path)[t("sheet.activity", team.lang)]
    curves = [ws.tables[n] for n in ("DiligenceCurve", "EffectivenessCurve")]
    names = {r["rep"]: r["rep_name"] for r in ranking}
    for table in curves:
        assert [c.name for c in table.tableColumns][1:] == [
            names["R01"], "吴秀 (R02)", "吴秀 (R03)"]
    assert activity.pivot_headers("日期", [{"rep": "R1", "rep_name": "日期"}, {"rep": "R2", "rep_name": "Li"},
                                         {"rep": "R3", "rep_name": "LI"}]) == ["日期", "日期 (R1)", "Li (R2)", "LI (R3)"]
