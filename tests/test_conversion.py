"""How deals move (sheetsales/conversion.py), on five deals over four weekly saves, every figure by hand.

    deal  rep  2 Nov        9 Nov      16 Nov      23 Nov
    A     R01  项目立项      初步接触    方案设计     签约成交 (won)
    B     R01  项目立项      项目立项    lost
    C     R01  初步接触      初步接触    方案设计     方案设计
    D     R02  方案设计      lost
    E     R02  项目立项      项目立项    项目立项     初步接触
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from conftest import WEEK1, deal, save_mpc

from sheetsales.analyses import conversion
from sheetsales.method.playbook import DEFAULT_TEAM, SETTING_DEFAULTS, Playbook, write_playbook
from sheetsales.outputs.report import build_summary, run_report
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest

DAYS = [WEEK1 + dt.timedelta(days=7 * i) for i in range(4)]
AS_OF = DAYS[-1]
A = ("江苏恒远精密机械有限公司", "激光切割机", 800_000, dt.date(2026, 12, 15))
B = ("苏州瑞丰汽车零部件有限公司", "数控机床", 600_000, dt.date(2027, 2, 1))
C = ("常州金鼎检测有限公司", "数控机床", 1_000_000, dt.date(2026, 12, 20))
D = ("南京天成汽车零部件有限公司", "检测设备", 400_000, dt.date(2027, 1, 10))
E = ("无锡华晟数控设备有限公司", "数控机床", 500_000, dt.date(2026, 12, 15))
PLAN = {  # deal -> (stage, status) at each save
    A: [("项目立项", ""), ("初步接触", ""), ("方案设计", ""), ("签约成交", "")],
    B: [("项目立项", ""), ("项目立项", ""), ("项目立项", "已丢单"), ("项目立项", "已丢单")],
    C: [("初步接触", ""), ("初步接触", ""), ("方案设计", ""), ("方案设计", "")],
    D: [("方案设计", ""), ("方案设计", "已丢单"), ("方案设计", "已丢单"), ("方案设计", "已丢单")],
    E: [("项目立项", ""), ("项目立项", ""), ("项目立项", ""), ("初步接触", "")],
}


def row(d: tuple, stage: str, status: str) -> dict:
    customer, category, amount, sign = d
    extra = {"status": status} if status else {}
    if d is C:
        extra["delivery_date"] = dt.date(2027, 1, 20)
    return deal(customer, stage, amount, sign, category=category, **extra)


@pytest.fixture
def moved(workspace: Workspace) -> Workspace:
    settings = {k: v[0] for k, v in SETTING_DEFAULTS.items()} | {"calibration_min_deals": 3}
    write_playbook(workspace.playbook_path, Playbook(team=DEFAULT_TEAM, settings=settings), workspace.lang)
    for i, day in enumerate(DAYS):
        save_mpc(workspace, "R01", [row(d, *PLAN[d][i]) for d in (A, B, C)])
        save_mpc(workspace, "R02", [row(d, *PLAN[d][i]) for d in (D, E)])
        ingest(workspace, day)
    return workspace


def test_conversion_days_and_win_rate_per_stage_by_hand(moved: Workspace) -> None:
    data = build_summary(moved, AS_OF).to_json()["conversion"]
    company = {r["stage_order"]: r for r in data["conversion"] if r["level"] == "company"}
    # Stage 1: all five reached it (D entered at 3, past it); none sits there; A, C, D, E moved on.
    assert (company[1]["reached"], company[1]["resolved"], company[1]["advanced"]) == (5, 5, 4)
    assert company[1]["conversion"] == 0.8
    # Stage 2: A, C, D, E reached it; E still sits there; A, C, D moved on.
    assert (company[2]["reached"], company[2]["resolved"], company[2]["advanced"], company[2]["conversion"]) == \
        (4, 3, 3, 1.0)
    # Stage 3: A, C, D; C still sits there; of A and D only A (won) went on.
    assert (company[3]["reached"], company[3]["resolved"], company[3]["advanced"], company[3]["conversion"]) == \
        (3, 2, 1, 0.5)
    # Days per completed stay: stage 1 A 7, B 14, E 21; stage 2 A 7, C 14; stage 3 A 7, D 7.
    assert (company[1]["median_days"], company[1]["average_days"]) == (14, 14.0)
    assert (company[2]["median_days"], company[2]["average_days"]) == (10.5, 10.5)
    assert (company[3]["median_days"], company[3]["stays"]) == (7, 2)
    # Win rate by the furthest stage reached: B lost at 1; A won and D lost from 3.
    assert (company[1]["closed_here"], company[1]["win_rate_here"]) == (1, 0)
    assert (company[3]["closed_here"], company[3]["won_here"], company[3]["win_rate_here"]) == (2, 1, 0.5)
    r02 = {r["stage_order"]: r for r in data["conversion"] if r["level"] == "rep" and r["group"] == "R02"}
    assert (r02[1]["reached"], r02[1]["advanced"], r02[1]["average_days"]) == (2, 2, 21.0)


def test_calibration_and_the_alert(moved: Workspace) -> None:
    data = build_summary(moved, AS_OF).to_json()
    calib = {c["stage_order"]: c for c in data["conversion"]["calibration"]}
    # Closed: A (won), B (lost at 1), D (lost at 3). Stage 1: all three reached it, one won.
    assert (calib[1]["deals"], calib[1]["won"], calib[1]["empirical"]) == (3, 1, pytest.approx(0.3333))
    assert calib[1]["difference"] == pytest.approx(0.3333 - 0.05) and calib[1]["miscalibrated"]
    assert (calib[3]["deals"], calib[3]["empirical"], calib[3]["miscalibrated"]) == (2, 0.5, False)  # 2 < 3 deals
    assert (calib[4]["deals"], calib[4]["empirical"]) == (1, 1.0)  # only A, which won
    alerts = [a for a in data["alerts"] if a["code"] == "probability-miscalibrated"]
    assert [(a["people"], "33%" in a["message"], "5%" in a["message"]) for a in alerts] == [(["D01"], True, True)]


def test_rep_profiles_and_production(moved: Workspace) -> None:
    data = build_summary(moved, AS_OF).to_json()["conversion"]
    r01 = next(p for p in data["profiles"] if p["rep"] == "R01")
    # R01 opened A, B (stage 1) and C (stage 2); A and C moved past the search state.
    assert (r01["opened"], r01["advance_rate"]) == (3, pytest.approx(0.6667))
    production = {(r["month"], r["category"]): r for r in data["production"]}
    assert production[("2026-12", "激光切割机")]["won"] == 800_000  # A, won, delivered with its signing
    assert production[("2027-01", "数控机床")]["weighted"] == 200_000  # C: 20 % of 1,000,000, delivered in January
    assert production[("2026-12", "数控机床")]["weighted"] == 50_000  # E: 10 % of 500,000
    assert ("2027-02", "数控机床") not in production  # B was lost


def test_the_conversion_sheet(moved: Workspace, tmp_path: Path) -> None:
    run_report(moved, AS_OF)
    ws = openpyxl.load_workbook(moved.reports / "summary.xlsx")["转化分析"]
    assert {"Conversion", "Calibration", "RepProfiles", "Production", "ConversionByRep"} <= set(ws.tables)
    assert len(ws._charts) == 2
    assert conversion.KEY == "conversion"


def test_the_conversion_sheet_recalculated_by_libreoffice(soffice: str, moved: Workspace, tmp_path: Path) -> None:
    """The totals of the Conversion sheet, recalculated by LibreOffice, equal the records (and the cached values)."""
    from sheetsales.outputs import soffice as lo

    result = run_report(moved, AS_OF)
    tables = result.summary.sections["conversion"]
    computed = lo.export_csv_sheets(result.summary_path, tmp_path / "csv", recalc=True)["转化分析"]
    cached = openpyxl.load_workbook(result.summary_path, data_only=True)["转化分析"]
    sheet = openpyxl.load_workbook(result.summary_path)["转化分析"]
    cols = conversion._cols()
    checks = {"Conversion": (cols["conv"], [r for r in tables["conversion"] if r["level"] == "company"]),
              "RepProfiles": (cols["profiles"], tables["profiles"]), "Production": (cols["production"], tables["production"]),
              "ConversionByRep": (cols["grouped"], [r for r in tables["conversion"] if r["level"] == "rep"])}
    checked = 0
    for name, (columns, rows) in checks.items():
        table = sheet.tables[name]
        first, last = table.ref.split(":")
        col0 = openpyxl.utils.cell.column_index_from_string(openpyxl.utils.cell.coordinate_from_string(first)[0]) - 1
        total_row = openpyxl.utils.cell.coordinate_from_string(last)[1] - 1
        for i, col in enumerate(columns):
            if col.total != "sum":
                continue
            expected = sum(float(r[col.key] or 0) for r in rows)
            assert float(computed[total_row][col0 + i].replace(",", "")) == pytest.approx(expected, abs=0.005), name
            assert cached.cell(total_row + 1, col0 + i + 1).value == pytest.approx(expected, abs=0.005), name
            checked += 1
    assert checked == 2 + 1 + 3 + 2
    # By hand: 3 deals closed (B at 1, A and D at 3); production 800,000 won + 250,000 weighted.
    production = sheet.tables["Production"]
    last_row = openpyxl.utils.cell.coordinate_from_string(production.ref.split(":")[1])[1] - 1
    assert float(computed[last_row][4].replace(",", "")) == 1_050_000
