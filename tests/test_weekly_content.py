"""What the weekly report says (sheetsales/weekly.py): key events and market news per rep, expenses by type
per rep, team and month against the playbook's budgets, and over-budget — figures by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from conftest import WEEK1

from sheetsales.method.playbook import DEFAULT_TEAM, Budget, Playbook, read_playbook, write_playbook
from sheetsales.outputs.report import build_summary, run_report
from sheetsales.reading.fill import fill_form, fill_table
from sheetsales.reading.specs import EXPENSES_TABLE, WEEKLY_FORM
from sheetsales.reading.templates import template_filename
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest

AS_OF = dt.date(2026, 11, 18)
BUDGETS = (Budget("R01", "2026-11", travel=3_000, entertainment=1_000), Budget("R02", "2026", travel=24_000))


def weekly(ws: Workspace, rep: str, week: str, form: dict, rows: list[dict]) -> Path:
    path = ws.inbox / rep / template_filename("weekly", ws.lang, rep, week)
    if not path.exists():
        ws.write_template(path, "weekly", Playbook(), rep, week)
    fill_form(path, WEEKLY_FORM, form)
    return fill_table(path, EXPENSES_TABLE, rows)


@pytest.fixture
def spent(workspace: Workspace) -> Workspace:
    ws = workspace
    write_playbook(ws.playbook_path, Playbook(team=DEFAULT_TEAM, budgets=BUDGETS), ws.lang)
    ingest(ws, WEEK1)
    weekly(ws, "R01", "2026-W46", {"key_events": "签下恒远精密合同", "market_news": "钢材价格上涨 5%"}, [
        {"date": dt.date(2026, 11, 10), "travel": 2_000, "entertainment": 800},
        {"date": dt.date(2026, 11, 12), "travel": 1_500, "other": 100}])
    weekly(ws, "R02", "2026-W46", {"key_events": "拜访无锡重工", "market_news": ""}, [
        {"date": dt.date(2026, 11, 11), "travel": 1_000}])
    ingest(ws, AS_OF)
    return ws


def test_budgets_round_trip_through_the_playbook(tmp_path: Path) -> None:
    path = tmp_path / "playbook.xlsx"
    write_playbook(path, Playbook(team=DEFAULT_TEAM, budgets=BUDGETS), "en")
    playbook, issues = read_playbook(path, "en")
    assert playbook is not None and playbook.budgets == BUDGETS, issues


def test_notes_and_expenses_against_budget_by_hand(spent: Workspace) -> None:
    data = build_summary(spent, AS_OF).to_json()["weekly"]
    assert [(n["week"], n["rep"], n["key_events"], n["market_news"]) for n in data["notes"]] == [
        ("2026-W46", "R02", "拜访无锡重工", ""), ("2026-W46", "R01", "签下恒远精密合同", "钢材价格上涨 5%")]
    rows = {(r["level"], r["group"], r["month"], r["type"]): r for r in data["expenses"]}
    travel = rows[("rep", "R01", "2026-11", "travel")]
    assert (travel["spent"], travel["budget"], travel["over"]) == (3_500, 3_000, True)  # 2,000 + 1,500
    assert travel["share"] == pytest.approx(round(3_500 / 3_000, 4))
    assert (rows[("rep", "R01", "2026-11", "entertainment")]["over"], rows[("rep", "R01", "2026-11", "other")]["budget"]) \
        == (False, None)
    assert (rows[("rep", "R01", "2026-11", "total")]["spent"], rows[("rep", "R01", "2026-11", "total")]["budget"]) == \
        (4_400, 4_000)
    assert rows[("rep", "R02", "2026-11", "travel")]["budget"] == 2_000  # 24,000 over twelve months
    team = rows[("team", "华东组", "2026-11", "travel")]
    assert (team["spent"], team["budget"], team["over"]) == (4_500, 5_000, False)  # the members' budgets


def test_over_budget_alerts(spent: Workspace) -> None:
    alerts = [a for a in build_summary(spent, AS_OF).to_json()["alerts"] if a["code"] == "over-budget"]
    assert sorted((a["rep"], tuple(a["people"]), "3,500" in a["message"] or "4,400" in a["message"])
                  for a in alerts) == [("R01", ("R01", "S01"), True)] * 2
    # In January of the next year the November overspending is history: no alert.
    later = build_summary(spent, dt.date(2027, 1, 5)).to_json()["alerts"]
    assert not [a for a in later if a["code"] == "over-budget"]


def test_the_weekly_content_sheet(spent: Workspace) -> None:
    run_report(spent, AS_OF)
    ws = openpyxl.load_workbook(spent.reports / "summary.xlsx")["周报内容"]
    assert {"WeeklyNotes", "ExpensesByTeam", "ExpensesByRep", "ExpensesByType"} <= set(ws.tables)
    sup = openpyxl.load_workbook(spent.reports / "feedback" / "S01.xlsx")["周报内容"]
    assert {"MyWeeklyNotes", "MyExpenses"} <= set(sup.tables)
    texts = {c for row in sup.iter_rows(values_only=True) for c in row if isinstance(c, str)}
    assert {"签下恒远精密合同", "拜访无锡重工"} <= texts  # the supervisor reads the team's reports


def test_the_weekly_content_sheet_recalculated_by_libreoffice(soffice: str, spent: Workspace, tmp_path: Path) -> None:
    from sheetsales.analyses import weekly
    from sheetsales.outputs import soffice as lo

    result = run_report(spent, AS_OF)
    rows = result.summary.sections["weekly"]["expenses"]
    computed = lo.export_csv_sheets(result.summary_path, tmp_path / "csv", recalc=True)["周报内容"]
    cached = openpyxl.load_workbook(result.summary_path, data_only=True)["周报内容"]
    sheet = openpyxl.load_workbook(result.summary_path)["周报内容"]
    cols = weekly._cols()["spend"]
    picks = {"ExpensesByTeam": [r for r in rows if r["level"] == "team" and r["type"] == "total"],
             "ExpensesByRep": [r for r in rows if r["level"] == "rep" and r["type"] == "total"],
             "ExpensesByType": [r for r in rows if r["level"] == "rep" and r["type"] != "total"]}
    checked = 0
    for name, records in picks.items():
        table = sheet.tables[name]
        first, last = table.ref.split(":")
        col0 = openpyxl.utils.cell.column_index_from_string(openpyxl.utils.cell.coordinate_from_string(first)[0]) - 1
        total_row = openpyxl.utils.cell.coordinate_from_string(last)[1] - 1
        for i, col in enumerate(cols):
            if col.total != "sum":
                continue
            expected = sum(float(r[col.key] or 0) for r in records)
            assert float(computed[total_row][col0 + i].replace(",", "")) == pytest.approx(expected, abs=0.005)
            assert cached.cell(total_row + 1, col0 + i + 1).value == pytest.approx(expected, abs=0.005)
            checked += 1
    assert checked == 6
    # By hand: the team spent 5,400 in November (R01 4,400, R02 1,000), against 6,000 budgeted.
    team = sheet.tables["ExpensesByTeam"]
    row = openpyxl.utils.cell.coordinate_from_string(team.ref.split(":")[1])[1] - 1
    assert (float(computed[row][3].replace(",", "")), float(computed[row][4].replace(",", ""))) == (5_400, 6_000)


def test_the_digest_carries_each_reps_latest_notes(spent: Workspace) -> None:
    from sheetsales.outputs.digest import render_digest

    html = render_digest(build_summary(spent, AS_OF))
    assert "本周大事与市场动态" in html
    assert "签下恒远精密合同" in html and "钢材价格上涨 5%" in html and "拜访无锡重工" in html



def test_the_mpc_review_shows_each_reps_latest_key_events_and_market_news(spent: Workspace) -> None:
    # R01 writes again the week after: the review shows R01's newer report and R02's only one.
    weekly(spent, "R01", "2026-W47", {"key_events": "恒远精密首付款到账", "market_news": ""}, [])
    day = AS_OF + dt.timedelta(days=6)
    ingest(spent, day)
    run_report(spent, day)
    ws = openpyxl.load_workbook(spent.reports / "summary.xlsx")["MPC周评"]
    assert {"MPCReview", "MPCReviewNotes"} <= set(ws.tables)
    cells = list(ws[ws.tables["MPCReviewNotes"].ref])
    header = [c.value for c in cells[0]]
    rows = [dict(zip(header, [c.value for c in r], strict=True)) for r in cells[1:]]
    assert [(r["周次"], r["销售"], r["本周大事"], r["本周市场动态"]) for r in rows] == [
        ("2026-W47", "R01", "恒远精密首付款到账", None), ("2026-W46", "R02", "拜访无锡重工", None)]
