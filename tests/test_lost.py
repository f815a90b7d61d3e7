"""Lost deals (sheetsales/lost.py): the lost-deal report read and validated, joined to the deals the MPC
lists marked lost, the reasons, competitors, price gap and win rate computed by hand, and the alert for a
lost deal without a report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from conftest import WEEK1, deal, save_mpc

from sheetsales.issues import flat
from sheetsales.method.playbook import Playbook
from sheetsales.outputs.report import build_summary, run_report
from sheetsales.reading.fill import fill_table
from sheetsales.reading.specs import LOST_TABLE
from sheetsales.reading.templates import template_filename
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest, parse_input

WEEK2 = WEEK1 + dt.timedelta(days=7)
LATER = WEEK2 + dt.timedelta(days=8)  # the week-2 losses are 8 days old: past the default 7 days

R01_WEEK1 = [
    deal("江苏恒远精密机械有限公司", "方案确认", 1_000_000),
    deal("苏州瑞丰激光科技有限公司", "业绩展示", 500_000, category="激光切割机"),
    deal("常州金鼎检测有限公司", "方案设计", 300_000, category="检测设备"),
]
R01_WEEK2 = [
    deal("江苏恒远精密机械有限公司", "方案确认", 1_000_000, status="已丢单"),
    deal("苏州瑞丰激光科技有限公司", "业绩展示", 500_000, category="激光切割机", status="已丢单"),
    deal("常州金鼎检测有限公司", "签约成交", 300_000, category="检测设备"),
]
R02_WEEK1 = [deal("南京天成汽车零部件有限公司", "初步接触", 200_000)]
R02_WEEK2 = [deal("南京天成汽车零部件有限公司", "初步接触", 200_000, status="已丢单")]

REPORT = [
    {"customer": "江苏恒远精密机械有限公司", "category": "数控机床", "report_date": WEEK2, "reason": "价格",
     "winner": "大族", "winner_price": 900_000, "our_price": 990_000, "analysis": "对手报价低 10%"},
    {"customer": "苏州瑞丰激光科技有限公司", "category": "激光切割机", "reason": "产品不符合需求",
     "winner": "通快", "winner_price": 600_000, "our_price": 540_000, "analysis": "功率不够"},
    # Won, not lost: an issue at its row.
    {"customer": "常州金鼎检测有限公司", "category": "检测设备", "reason": "价格", "analysis": "误填"},
    # No such deal of R01: an issue at its row.
    {"customer": "无锡不存在有限公司", "category": "数控机床", "reason": "时机", "analysis": "?"},
]


@pytest.fixture
def lost_ws(workspace: Workspace) -> Workspace:
    save_mpc(workspace, "R01", R01_WEEK1)
    save_mpc(workspace, "R02", R02_WEEK1)
    ingest(workspace, WEEK1)
    save_mpc(workspace, "R01", R01_WEEK2)
    save_mpc(workspace, "R02", R02_WEEK2)
    ingest(workspace, WEEK2)
    return workspace


def lost_path(ws: Workspace, rep: str) -> object:
    return ws.inbox / rep / template_filename("lost", ws.lang, rep)


def test_a_rep_with_a_lost_deal_gets_a_lost_report_listing_their_lost_customers(lost_ws: Workspace) -> None:
    assert not lost_path(lost_ws, "R03").exists()  # nothing lost, no form
    result = ingest(lost_ws, WEEK2 + dt.timedelta(days=1))  # the hand-out of the next run
    assert lost_path(lost_ws, "R01") in result.handed_out and lost_path(lost_ws, "R02") in result.handed_out
    assert not lost_path(lost_ws, "R03").exists()
    wb = openpyxl.load_workbook(lost_path(lost_ws, "R01"))
    lists = wb["_lists"]
    column = next(c for c in lists.iter_cols(values_only=True) if c[0] == "deal")
    assert [v for v in column[1:] if v] == ["江苏恒远精密机械有限公司", "苏州瑞丰激光科技有限公司"]
    reasons = next(c for c in lists.iter_cols(values_only=True) if c[0] == "lost_reason")
    assert [v for v in reasons[1:] if v] == list(Playbook().lost_reasons)
    # The customer drop-down suggests: other text may still be typed (an information, not a stop).
    sheet = wb[LOST_TABLE.zh]
    dv = next(d for d in sheet.data_validations.dataValidation if str(d.sqref).startswith("A"))
    assert dv.type == "list" and dv.errorStyle == "information"


def test_the_report_is_validated_at_its_cells(lost_ws: Workspace) -> None:
    ingest(lost_ws, WEEK2 + dt.timedelta(days=1))
    path = fill_table(lost_path(lost_ws, "R01"), LOST_TABLE, [
        {"customer": "江苏恒远精密机械有限公司", "category": "数控机床", "reason": "运气", "analysis": "x"},
        {"customer": "苏州瑞丰激光科技有限公司", "category": "激光切割机", "reason": "价格", "our_price": "很贵"},
    ])
    parsed = parse_input(path, "R01/丢单报告_R01.xlsx", Playbook(), "zh-CN", folder_rep="R01", in_inbox=True)
    assert parsed.kind == "lost"
    found = flat(parsed.issues)
    cols = [c.key for c in LOST_TABLE.columns]
    reason_col, price_col, analysis_col = (chr(ord("A") + cols.index(k)) for k in ("reason", "our_price", "analysis"))
    assert (f"{reason_col}4", "unknown-choice") in found
    assert (f"{price_col}5", "not-a-number") in found or (f"{price_col}5", "wrong-type") in found
    assert (f"{analysis_col}5", "missing-value") in found


def report_and_summary(ws: Workspace, as_of: dt.date = LATER) -> dict:
    ingest(ws, WEEK2 + dt.timedelta(days=1))
    fill_table(lost_path(ws, "R01"), LOST_TABLE, REPORT)
    ingest(ws, as_of)
    return build_summary(ws, as_of).to_json()


def test_lost_deals_joined_to_their_reports_by_hand(lost_ws: Workspace) -> None:
    data = report_and_summary(lost_ws)
    deals = {d["customer"]: d for d in data["lost"]["lost_deals"]}
    assert set(deals) == {"江苏恒远精密机械有限公司", "苏州瑞丰激光科技有限公司", "南京天成汽车零部件有限公司"}
    a = deals["江苏恒远精密机械有限公司"]
    assert (a["rep"], a["amount"], a["stage_order"], a["lost_on"], a["days"], a["report"]) == \
        ("R01", 1_000_000, 5, WEEK2.isoformat(), 8, "reported")
    assert (a["reason"], a["winner"], a["winner_price"], a["our_price"]) == ("价格", "大族", 900_000, 990_000)
    assert a["price_gap"] == pytest.approx(0.10)  # (990,000 - 900,000) / 900,000
    b = deals["苏州瑞丰激光科技有限公司"]
    assert b["stage_order"] == 4 and b["price_gap"] == pytest.approx(-0.10)  # (540,000 - 600,000) / 600,000
    e = deals["南京天成汽车零部件有限公司"]
    assert (e["report"], e["reason"], e["stage_order"]) == ("overdue", None, 2)

    analysis = data["lost"]["lost_analysis"]
    by = {(r["dimension"], r["group"]): r for r in analysis}
    total = 1_000_000 + 500_000 + 200_000
    assert by[("reason", "价格")]["count"] == 1 and by[("reason", "价格")]["amount"] == 1_000_000
    assert by[("reason", "价格")]["share"] == pytest.approx(round(1_000_000 / total, 4))
    assert by[("reason", "(未交报告)")]["amount"] == 200_000
    assert by[("winner", "通快")]["price_gap"] == pytest.approx(-0.10)
    assert by[("rep", "R01")]["count"] == 2 and by[("rep", "R01")]["amount"] == 1_500_000
    # Both of R01's reports carry both prices: the average gap is (0.10 + -0.10) / 2 = 0.
    assert by[("rep", "R01")]["price_gap"] == pytest.approx(0.0) and by[("rep", "R01")]["priced"] == 2
    assert [r["group"] for r in analysis if r["dimension"] == "stage"] == ["初步接触", "业绩展示", "方案确认"]
    assert by[("team", "华东组")]["amount"] == total

    rates = {(r["level"], r["group"]): r for r in data["lost"]["win_rates"]}
    assert (rates[("rep", "R01")]["won"], rates[("rep", "R01")]["lost"]) == (1, 2)
    assert rates[("rep", "R01")]["win_rate"] == pytest.approx(round(1 / 3, 4))
    assert rates[("rep", "R02")]["win_rate"] == 0
    assert rates[("company", "*")]["win_rate"] == pytest.approx(0.25)  # 1 won of 4 closed
    assert rates[("category", "检测设备")]["win_rate"] == 1


def test_reports_for_deals_not_lost_are_issues_and_a_late_report_an_alert(lost_ws: Workspace) -> None:
    data = report_and_summary(lost_ws)
    report_issues = sorted((i["cell"], i["code"]) for i in data["issues"] if i["code"].startswith("lost-report"))
    assert report_issues == [("A6", "lost-report-not-lost"), ("A7", "lost-report-unknown-deal")]
    late = [a for a in data["alerts"] if a["code"] == "lost-without-report"]
    assert [(a["rep"], a["people"], a["customer"]) for a in late] == [("R02", ["R02", "S01"], "南京天成汽车零部件有限公司")]
    assert "8" in late[0]["message"]
    # The day before it is due (7 days), no alert; the replay of that day says so.
    earlier = build_summary(lost_ws, WEEK2 + dt.timedelta(days=7)).to_json()
    assert not [a for a in earlier["alerts"] if a["code"] == "lost-without-report"]
    assert {d["report"] for d in earlier["lost"]["lost_deals"] if d["rep"] == "R02"} == {"due"}


def test_the_lost_deals_sheet_and_feedback(lost_ws: Workspace) -> None:
    report_and_summary(lost_ws)
    run_report(lost_ws, LATER)
    wb = openpyxl.load_workbook(lost_ws.reports / "summary.xlsx")
    ws = wb["丢单分析"]
    assert {"LostByReason", "WinRateByRep", "LostByWinner", "LostDeals"} <= set(ws.tables)
    assert ws._charts, "a chart of the reasons"
    sup = openpyxl.load_workbook(lost_ws.reports / "feedback" / "S01.xlsx")["丢单分析"]
    assert len([r for r in sup.iter_rows(values_only=True) if r[1] in ("R01", "R02")]) == 3
    r02 = openpyxl.load_workbook(lost_ws.reports / "feedback" / "R02.xlsx")["丢单分析"]
    assert [r[1] for r in r02.iter_rows(values_only=True) if r[1] in ("R01", "R02")] == ["R02"]
    assert json.dumps(build_summary(lost_ws, LATER).to_json(), ensure_ascii=False)  # JSON-serialisable


def test_the_lost_deals_sheet_recalculated_by_libreoffice(soffice: str, lost_ws: Workspace, tmp_path: Path) -> None:
    """Every total of the Lost deals sheet, recalculated by LibreOffice, is the sum of its records."""
    from sheetsales.analyses import lost
    from sheetsales.i18n import t
    from sheetsales.outputs import soffice as lo

    report_and_summary(lost_ws)
    result = run_report(lost_ws, LATER)
    tables = result.summary.sections["lost"]
    sheet = t("sheet.lost", lost_ws.lang)
    computed = lo.export_csv_sheets(result.summary_path, tmp_path / "csv", recalc=True)[sheet]
    cols = lost._cols()
    records = {lost.TABLE_NAMES[d]: (cols["group"], [r for r in tables["lost_analysis"] if r["dimension"] == d])
               for d in lost.DIMENSIONS}
    records |= {lost.WIN_NAMES[lvl]: (cols["win"], [r for r in tables["win_rates"] if r["level"] == lvl])
                for lvl in lost.WIN_LEVELS}
    records["LostDeals"] = (cols["deals"], tables["lost_deals"])
    ws = openpyxl.load_workbook(result.summary_path)[sheet]
    assert set(ws.tables) == set(records)
    checked = 0
    for name, (columns, rows) in records.items():
        table = ws.tables[name]
        first, last = table.ref.split(":")
        col0 = openpyxl.utils.cell.column_index_from_string(openpyxl.utils.cell.coordinate_from_string(first)[0]) - 1
        total_row = openpyxl.utils.cell.coordinate_from_string(last)[1] - 1
        assert bool(table.totalsRowCount) == (bool(rows) and any(c.total for c in columns))
        for i, col in enumerate(columns):
            if not table.totalsRowCount or col.total != "sum":
                continue
            expected = sum(float(r[col.key] or 0) for r in rows)
            got = float(computed[total_row][col0 + i].replace(",", ""))
            assert got == pytest.approx(expected, abs=0.005), f"{name}[{col.key}]"
            # The cached value Excel shows before recalculating is the same figure.
            assert ws.cell(total_row + 1, col0 + i + 1).value.startswith("=SUBTOTAL(109,")
            checked += 1
    assert checked >= 25
    # By hand: 1,700,000 lost in all (1,000,000 + 500,000 + 200,000), 4 closed deals of which 1 won.
    reason = ws.tables["LostByReason"]
    last_row = openpyxl.utils.cell.coordinate_from_string(reason.ref.split(":")[1])[1] - 1
    assert float(computed[last_row][2].replace(",", "")) == 1_700_000


def test_the_template_command_lists_the_reps_lost_customers(lost_ws: Workspace, tmp_path: Path) -> None:
    from sheetsales.service.cli import main

    out = tmp_path / "lost.xlsx"
    assert main(["template", "lost", "-w", str(lost_ws.root), "--rep", "R01", "--output", str(out),
                 "--as-of", WEEK2.isoformat()]) == 0
    column = next(c for c in openpyxl.load_workbook(out)["_lists"].iter_cols(values_only=True) if c[0] == "deal")
    assert [v for v in column[1:] if v] == ["江苏恒远精密机械有限公司", "苏州瑞丰激光科技有限公司"]
