"""Won business against target (sheetsales/attainment.py): actuals from won deals and the weekly reports'
contracts, reconciled; targets broken down year → quarter → month → week with the playbook's monthly
weights; attainment, pipeline and coverage per period and level; target-mismatch; the Forecast's actual.
Every figure is computed by hand below."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from conftest import WEEK1, deal, save_mpc

from sheetsales.analyses import attainment
from sheetsales.method.playbook import DEFAULT_TEAM, Playbook, Target, read_playbook, write_playbook
from sheetsales.outputs.report import build_summary, run_report
from sheetsales.reading.fill import fill_table
from sheetsales.reading.specs import CONTRACTS_TABLE
from sheetsales.reading.templates import template_filename
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest

WEEK2 = WEEK1 + dt.timedelta(days=7)  # 2026-11-09, ISO week 46
AS_OF = dt.date(2026, 11, 18)  # a Wednesday of ISO week 47 (16-22 November)
WEIGHTS = ((11, 2.0),)  # November weighs 2, every other month 1: a year is 13 parts
TARGETS = (Target("R01", "2026", 1_200_000), Target("R02", "2026-11", 100_000), Target("华东组", "2026", 3_000_000))

A = "江苏恒远精密机械有限公司"
B = "苏州瑞丰汽车零部件有限公司"
C = "无锡华晟数控设备有限公司"


def weekly(ws: Workspace, rep: str, week: str, contracts: list[dict]) -> Path:
    path = ws.inbox / rep / template_filename("weekly", ws.lang, rep, week)
    if not path.exists():
        ws.write_template(path, "weekly", Playbook(), rep, week)
    return fill_table(path, CONTRACTS_TABLE, contracts)


@pytest.fixture
def sold(workspace: Workspace) -> Workspace:
    ws = workspace
    write_playbook(ws.playbook_path, Playbook(team=DEFAULT_TEAM, targets=TARGETS, target_weights=WEIGHTS), ws.lang)
    save_mpc(ws, "R01", [deal(A, "方案确认", 500_000, dt.date(2026, 11, 20)),
                         deal(B, "商务谈判", 300_000, dt.date(2026, 12, 10))])
    save_mpc(ws, "R02", [deal(C, "初步接触", 200_000, dt.date(2027, 1, 15))])
    ingest(ws, WEEK1)
    # Week 46: R01 wins A (its contract says 470,000); R02 wins C with no contract, and reports a
    # contract of a customer that is no deal of theirs.
    save_mpc(ws, "R01", [deal(A, "签约成交", 480_000, dt.date(2026, 11, 9)),
                         deal(B, "商务谈判", 300_000, dt.date(2026, 12, 10))])
    save_mpc(ws, "R02", [deal(C, "签约成交", 200_000, dt.date(2026, 11, 9))])
    weekly(ws, "R01", "2026-W46", [{"customer": A, "category": "数控机床", "amount": 470_000}])
    weekly(ws, "R02", "2026-W46", [{"customer": "宁波港机集团", "category": "售后服务", "amount": 60_000}])
    ingest(ws, WEEK2)
    ingest(ws, AS_OF)
    return ws


def test_target_weights_round_trip_through_the_playbook(tmp_path: Path) -> None:
    path = tmp_path / "playbook.xlsx"
    write_playbook(path, Playbook(team=DEFAULT_TEAM, targets=TARGETS, target_weights=WEIGHTS), "zh-CN")
    playbook, issues = read_playbook(path, "zh-CN")
    assert playbook is not None and not [i for i in issues if i.severity == "error"]
    assert playbook.target_weights == WEIGHTS
    monthly = playbook.monthly_targets()
    assert monthly[("R01", "2026-11")] == pytest.approx(1_200_000 * 2 / 13)
    assert monthly[("R01", "2026-03")] == pytest.approx(1_200_000 / 13)
    assert sum(v for (o, _), v in monthly.items() if o == "R01") == pytest.approx(1_200_000)
    assert monthly[("R02", "2026-11")] == 100_000  # a month's target is not spread


def test_actuals_reconcile_won_deals_with_contracts(sold: Workspace) -> None:
    data = build_summary(sold, AS_OF).to_json()["attainment"]
    got = sorted((r["source"], r["rep"], r["customer"], r["amount"], r["date"]) for r in data["actuals"])
    assert got == [("contract", "R02", "宁波港机集团", 60_000, "2026-11-09"),
                   ("deal", "R02", C, 200_000, "2026-11-09"),
                   ("deal+contract", "R01", A, 470_000, "2026-11-09")]  # the contract's amount counts
    recon = sorted((r["code"], r["customer"], r["days"], r["flagged"]) for r in data["reconciliation"])
    assert recon == [("contract-without-deal", "宁波港机集团", 9, True), ("won-without-contract", C, 9, True)]


def test_the_loose_ends_are_alerts_after_contract_days(sold: Workspace) -> None:
    alerts = build_summary(sold, AS_OF).to_json()["alerts"]
    codes = sorted((a["code"], a["rep"], tuple(a["people"])) for a in alerts
                   if a["code"] in ("won-without-contract", "contract-without-deal", "target-mismatch"))
    assert codes == [("contract-without-deal", "R02", ("R02", "S01")), ("target-mismatch", "S01", ("S01", "D01")),
                     ("won-without-contract", "R02", ("R02", "S01"))]
    mismatch = next(a for a in alerts if a["code"] == "target-mismatch")
    assert "3,000,000" in mismatch["message"] and "1,300,000" in mismatch["message"]  # 1,200,000 + 100,000
    # Two days after the win (within 7), nothing to reconcile yet.
    early = build_summary(sold, WEEK2 + dt.timedelta(days=2)).to_json()["alerts"]
    assert not [a for a in early if a["code"] in ("won-without-contract", "contract-without-deal")]


def test_attainment_per_period_and_level_by_hand(sold: Workspace) -> None:
    rows = build_summary(sold, AS_OF).to_json()["attainment"]["attainment"]
    at = {(r["period"], r["level"], r["group"]): r for r in rows}
    nov_r01 = 1_200_000 * 2 / 13
    r = at[("month", "rep", "R01")]
    assert (r["period_label"], r["actual"], r["weighted"]) == ("2026-11", 470_000, 0)
    assert r["target"] == pytest.approx(nov_r01, abs=0.01)
    assert r["attainment"] == pytest.approx(round(470_000 / nov_r01, 4))
    # The week 16-22 November: 7 of November's 30 days; nothing won in it.
    w = at[("week", "rep", "R01")]
    assert (w["period_label"], w["actual"]) == ("2026-W47", 0)
    assert w["target"] == pytest.approx(nov_r01 * 7 / 30, abs=0.01)
    # The quarter: October, November and December are 1 + 2 + 1 of 13 parts; B (80 % of 300,000) signs in
    # December; the target is already passed, so nothing remains and coverage is not defined.
    q = at[("quarter", "rep", "R01")]
    assert q["target"] == pytest.approx(1_200_000 * 4 / 13, abs=0.01)
    assert (q["actual"], q["weighted"], q["remaining"], q["coverage"]) == (470_000, 240_000, 0, None)
    y = at[("year", "rep", "R01")]
    assert (y["target"], y["actual"], y["weighted"], y["remaining"]) == (1_200_000, 470_000, 240_000, 730_000)
    assert y["coverage"] == pytest.approx(round(240_000 / 730_000, 4))
    # R02: the deal won without a contract and the contract without a deal both count.
    assert (at[("month", "rep", "R02")]["actual"], at[("month", "rep", "R02")]["target"]) == (260_000, 100_000)
    # The team's own target wins over its members' sum; the company is the sum of its regions.
    team = at[("month", "team", "华东组")]
    assert team["target"] == pytest.approx(3_000_000 * 2 / 13, abs=0.01) and team["actual"] == 730_000
    assert at[("month", "company", "*")]["target"] == pytest.approx(team["target"], abs=0.01)
    assert at[("year", "company", "*")]["gap"] == pytest.approx(730_000 - 3_000_000, abs=0.01)


def test_the_forecast_shows_won_and_weighted_against_target(sold: Workspace) -> None:
    forecast = build_summary(sold, AS_OF).to_json()["forecast"]
    nov = next(r for r in forecast if (r["level"], r["group"], r["month"]) == ("company", "*", "2026-11"))
    assert (nov["actual"], nov["weighted"], nov["expected"]) == (730_000, 0, 730_000)
    assert nov["gap"] == pytest.approx(730_000 - 3_000_000 * 2 / 13, abs=0.01)
    dec = next(r for r in forecast if (r["level"], r["group"], r["month"]) == ("rep", "R01", "2026-12"))
    assert (dec["actual"], dec["weighted"], dec["expected"]) == (0, 240_000, 240_000)


def test_breakdown_and_sheet(sold: Workspace) -> None:
    data = build_summary(sold, AS_OF).to_json()["attainment"]
    months = {r["month"]: r for r in data["breakdown"]}
    assert months["2026-11"]["actual"] == 730_000 and months["2026-12"]["actual"] is None
    assert months["2026-12"]["cumulative_target"] == pytest.approx(3_000_000, abs=0.05)
    run_report(sold, AS_OF)
    ws = openpyxl.load_workbook(sold.reports / "summary.xlsx")["目标达成"]
    assert {"AttainmentWeek", "AttainmentMonth", "AttainmentQuarter", "AttainmentYear", "TargetBreakdown",
            "Reconciliation", "TargetChecks"} <= set(ws.tables)
    assert len(ws._charts) == 2
    r02 = openpyxl.load_workbook(sold.reports / "feedback" / "R02.xlsx")["目标达成"]
    assert {"MyAttainment", "MyReconciliation"} <= set(r02.tables)
    assert attainment.month_shares(dt.date(2026, 11, 30), dt.date(2026, 12, 6)) == \
        pytest.approx({"2026-11": 1 / 30, "2026-12": 6 / 31})


def test_the_attainment_sheet_recalculated_by_libreoffice(soffice: str, sold: Workspace, tmp_path: Path) -> None:
    """The totals of the Attainment sheet and of the Forecast's new Won column, recalculated by LibreOffice."""
    from sheetsales.i18n import t
    from sheetsales.outputs import soffice as lo

    result = run_report(sold, AS_OF)
    tables = result.summary.sections["attainment"]
    computed = lo.export_csv_sheets(result.summary_path, tmp_path / "csv", recalc=True)
    cached = openpyxl.load_workbook(result.summary_path, data_only=True)
    book = openpyxl.load_workbook(result.summary_path)
    cols = attainment._cols()
    checks = {("目标达成", "TargetBreakdown"): (cols["breakdown"], tables["breakdown"]),
              ("目标达成", "Reconciliation"): (cols["recon"], tables["reconciliation"])}
    from sheetsales.outputs.write import FORECAST_COLS
    checks[("预测", "Forecast")] = (FORECAST_COLS, [r for r in result.summary.forecast if r["level"] == "company"])
    checked = 0
    for (sheet, name), (columns, rows) in checks.items():
        table = book[sheet].tables[name]
        first, last = table.ref.split(":")
        col0 = openpyxl.utils.cell.column_index_from_string(openpyxl.utils.cell.coordinate_from_string(first)[0]) - 1
        total_row = openpyxl.utils.cell.coordinate_from_string(last)[1] - 1
        assert table.totalsRowCount
        for i, col in enumerate(columns):
            if col.total != "sum":
                continue
            expected = sum(float(r[col.key] or 0) for r in rows)
            got = float(computed[sheet][total_row][col0 + i].replace(",", ""))
            assert got == pytest.approx(expected, abs=0.005), f"{name}[{col.key}]"
            assert cached[sheet].cell(total_row + 1, col0 + i + 1).value == pytest.approx(expected, abs=0.005)
            checked += 1
    assert checked == 2 + 1 + 4  # target and won by month; the amounts to reconcile; won, weighted, target, gap
    # By hand: 730,000 won in November; 3,000,000 the team's year; the 260,000 to reconcile.
    assert sum(r["actual"] or 0 for r in tables["breakdown"]) == 730_000
    assert t("sheet.attainment", "zh-CN") in computed
