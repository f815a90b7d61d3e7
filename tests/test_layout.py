"""How the generated workbooks are laid out (issue 11): every sheet's frozen row is its table's header
row, no header is clipped in either language, risk is coloured, and each person's feedback starts
with their week. Real workspaces, real files read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import openpyxl
import pytest
from conftest import WEEK1, deal, save_mpc
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter

from sheetsales.i18n import alert_name, t
from sheetsales.outputs.report import run_report
from sheetsales.outputs.widths import display_width
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest

DASHBOARDS = {"总览", "本周概况", "Overview", "Your week", "My week"}  # fit one screen: nothing to freeze


def load(path: Path) -> openpyxl.Workbook:
    with warnings.catch_warnings():  # openpyxl does not read the data bars' Excel 2010 extension
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path)


def header_row(ref: str) -> int:
    return coordinate_from_string(ref.split(":")[0])[1]


@pytest.fixture
def week2(workspace: Workspace) -> Workspace:
    """R01: a deal advanced and repriced; R02: last week's good row now has a negative amount (kept out)."""
    save_mpc(workspace, "R01", [deal("大庆石化机械厂", "方案设计", 1_000_000, dt.date(2026, 12, 10)),
                                deal("天津港务集团", "方案确认", 500_000, dt.date(2026, 11, 5))])
    save_mpc(workspace, "R02", [deal("青岛啤酒设备公司", "商务谈判", 2_000_000, dt.date(2026, 11, 30))])
    ingest(workspace, WEEK1)
    save_mpc(workspace, "R01", [deal("大庆石化机械厂", "业绩展示", 1_200_000, dt.date(2026, 12, 10)),
                                deal("天津港务集团", "方案确认", 500_000, dt.date(2026, 11, 5))])
    save_mpc(workspace, "R02", [deal("青岛啤酒设备公司", "商务谈判", -2_000_000, dt.date(2026, 11, 30))])
    ingest(workspace, WEEK1 + dt.timedelta(days=7))
    return workspace


def every_output(ws: Workspace, day: dt.date) -> list[Path]:
    result = run_report(ws, day)
    return [result.summary_path, *result.feedback]


def test_the_frozen_row_is_the_header_row_on_every_sheet(week2: Workspace) -> None:
    checked = 0
    for path in every_output(week2, WEEK1 + dt.timedelta(days=7)):
        for sheet in load(path).worksheets:
            if sheet.sheet_state != "visible":
                continue
            tables = sorted(sheet.tables.values(), key=lambda tb: header_row(tb.ref))
            if sheet.title in DASHBOARDS:
                assert sheet.freeze_panes is None, (path.name, sheet.title)
            elif len(tables) == 1:
                header = header_row(tables[0].ref)
                assert sheet.freeze_panes == f"A{header + 1}", (path.name, sheet.title)  # rows 1..header stay
                assert sheet.print_title_rows == f"${header}:${header}", (path.name, sheet.title)
            elif len(tables) > 1:  # an index of links under the title, frozen with it
                frozen = coordinate_from_string(sheet.freeze_panes)[1]
                assert frozen <= header_row(tables[0].ref), (path.name, sheet.title)
                links = [c.hyperlink.location for c in sheet[frozen - 1] if getattr(c, "hyperlink", None)]
                assert len(links) >= 1 and all(x.startswith(f"'{sheet.title}'!A") for x in links), sheet.title
            assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth in (None, 1)
            assert sheet.sheet_properties.pageSetUpPr.fitToPage
            assert "2026-11-09" in sheet.oddFooter.left.text, (path.name, sheet.title)
            checked += 1
    assert checked > 20


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_no_header_is_clipped_in_either_language(lang: str, workspace: Workspace, workspace_en: Workspace) -> None:
    ws = workspace if lang == "zh-CN" else workspace_en
    category = "数控机床" if lang == "zh-CN" else "CNC machine"
    stage = "方案设计" if lang == "zh-CN" else "Solution design"
    save_mpc(ws, "R01", [deal("Suzhou New Materials Technology Co., Ltd.", stage, 1_000_000, category=category),
                         deal("华东精密机械有限公司", stage, 2_000_000, category=category)])
    ingest(ws, WEEK1)
    checked = 0
    for path in every_output(ws, WEEK1):  # every sheet: the core's and the sections'
        for sheet in load(path).worksheets:
            widths = column_widths(sheet)
            for table in sheet.tables.values():
                first_col = column_index_from_string(coordinate_from_string(table.ref.split(":")[0])[0])
                for i, column in enumerate(table.tableColumns):
                    width = widths.get(first_col + i, 8.43)
                    # the label on one line, beside the filter button
                    assert width >= display_width(column.name) + 2, (path.name, sheet.title, column.name, width)
                    checked += 1
    assert checked > 60
    # The two languages are not drawn in the same widths.
    opp = load(every_output(ws, WEEK1)[0])[t("sheet.opportunities", lang)]
    assert column_widths(opp)[1] >= display_width(t("col.deal", lang)) + 2


def column_widths(sheet: object) -> dict[int, float]:
    """Column index (1-based) -> width; XlsxWriter writes runs of equal columns as one range."""
    out = {}
    for dim in sheet.column_dimensions.values():
        if dim.min and dim.width:
            for c in range(dim.min, (dim.max or dim.min) + 1):
                out[c] = dim.width
    return out


def test_risk_is_red_and_amber_with_data_bars_on_the_weighted_value(week2: Workspace) -> None:
    day = WEEK1 + dt.timedelta(days=7)
    result = run_report(week2, day)
    sheet = load(result.summary_path)["商机"]
    [table] = sheet.tables.values()
    headers = [c.name for c in table.tableColumns]
    rows = [[c.value for c in row] for row in sheet[table.ref]][1:-1]
    by_customer = {r[headers.index("客户")]: dict(zip(headers, r, strict=True)) for r in rows}
    # 天津港务集团: signing date 2026-11-05 passed; 方案确认 has 45 days, seen 7 days ago: 38 left.
    tianjin = by_customer["天津港务集团"]
    assert tianjin["签约日已过"] == "✓" and tianjin["时限(天)"] == 45 and tianjin["剩余天数"] == 38
    # 大庆石化机械厂 moved to 业绩展示 today: 30 days left, nothing passed.
    daqing = by_customer["大庆石化机械厂"]
    assert daqing["剩余天数"] == 30 and daqing["签约日已过"] is None
    rules = {}
    for cf in sheet.conditional_formatting:
        for rule in cf.rules:
            rules.setdefault(str(cf.sqref).split(":")[0][:-1].rstrip("0123456789") or str(cf.sqref), []).append(rule)
    col = {h: get_column_letter(headers.index(h) + 1) for h in headers}
    kinds = {letter: {r.type for r in found} for letter, found in rules.items()}
    assert kinds[col["剩余天数"]] == {"expression"} and len(rules[col["剩余天数"]]) == 2  # red at 0, amber at 7
    assert any("<=7" in r.formula[0] for r in rules[col["剩余天数"]])
    assert kinds[col["签约日已过"]] == {"expression"} and kinds[col["上报超出证据"]] == {"expression"}
    assert "dataBar" in kinds[col["加权金额"]]
    # the evidenced and the claimed stage side by side
    assert headers.index("上报阶段") == headers.index("阶段") + 1


def test_alerts_most_severe_first_with_a_readable_name_and_the_code(workspace_en: Workspace) -> None:
    save_mpc(workspace_en, "R01", [deal("Acme Machinery Co., Ltd.", "Solution confirmation", 1_000_000,
                                        category="CNC machine", milestones=0, sign=dt.date(2026, 10, 1))])
    ingest(workspace_en, WEEK1)
    path = run_report(workspace_en, WEEK1).summary_path
    sheet = load(path)["Alerts"]
    [table] = sheet.tables.values()
    rows = [[c.value for c in row] for row in sheet[table.ref]]
    headers, body = rows[0], rows[1:-1]
    assert headers[:2] == ["Severity", "Alert"] and headers[-1] == "Code"
    ranks = {"error": 0, "warning": 1, "info": 2}
    severities = [ranks[r[0]] for r in body]
    assert severities == sorted(severities) and severities[0] < severities[-1]
    for r in body:
        assert r[1] == alert_name(r[-1], "en") and r[1] != r[-1]
    assert {r[-1] for r in body} >= {"stage-without-milestones", "sign-date-passed"}


def test_mpc_review_is_one_row_per_deal_with_what_changed_as_columns(week2: Workspace) -> None:
    path = run_report(week2, WEEK1 + dt.timedelta(days=7)).summary_path
    sheet = load(path)["MPC周评"]
    table = sheet.tables["MPCReview"]
    rows = [[c.value for c in row] for row in sheet[table.ref]]
    headers = rows[0]
    records = [dict(zip(headers, r, strict=True)) for r in rows[1:-1]]
    daqing = [r for r in records if r["客户"] == "大庆石化机械厂"]
    assert len(daqing) == 1  # advanced and repriced: one row
    [r] = daqing
    assert (r["阶段(上周)"], r["阶段(本周)"], r["金额(上周)"], r["金额(本周)"], r["金额"]) == (
        "方案设计", "业绩展示", 1_000_000, 1_200_000, 1_200_000)
    assert sheet.cell(table_first_row(table) + 1 + records.index(r), headers.index("金额(上周)") + 1).number_format \
        == "#,##0"


def table_first_row(table: object) -> int:
    return header_row(table.ref)


def test_a_rep_is_told_which_deal_is_not_counted_until_which_cell_is_fixed(week2: Workspace) -> None:
    result = run_report(week2, WEEK1 + dt.timedelta(days=7))
    wb = load(next(p for p in result.feedback if p.stem == "R02"))
    assert wb.sheetnames[0] == "本周概况"
    sheet = wb["本周概况"]
    texts = [str(c.value) for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    figures = [c.value for row in sheet.iter_rows(min_row=4, max_row=6) for c in row if c.value is not None]
    assert "我的商机总额" in figures and "加权金额" in figures
    assert 2_000_000 in figures  # the deal still counts with last week's good values
    [message] = [x for x in texts if "青岛啤酒设备公司" in x]
    assert "2,000,000" in message and "R02/MPC一览表_R02.xlsx!MPC一览表!E4" in message
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == message)
    assert cell.alignment.wrap_text and sheet.row_dimensions[cell.row].height > 15
    assert any(x.startswith("• ") and "1" in x for x in texts)  # what to do this week


def test_a_supervisor_gets_counts_per_person_not_every_alert_of_the_team(week2: Workspace) -> None:
    result = run_report(week2, WEEK1 + dt.timedelta(days=7))
    summary = result.summary
    boss = load(next(p for p in result.feedback if p.stem == "S01"))
    alerts = boss["预警"].tables["MyAlerts"]
    told = sum(1 for a in summary.alerts if "S01" in a["people"])
    rows = len(list(boss["预警"][alerts.ref])) - 2  # header and total
    assert rows == max(told, 1)
    team = boss["本周概况"].tables["MyTeam"]
    names = [c.value for c in list(boss["本周概况"][team.ref])[0]]
    body = [dict(zip(names, [c.value for c in r], strict=True)) for r in list(boss["本周概况"][team.ref])[1:-1]]
    alerts_of = {p: sum(1 for a in summary.alerts if p in a["people"] and a["severity"] != "info")
                 for p in ("R01", "R02", "R03")}
    assert {r["销售"]: r["预警数"] for r in body} == alerts_of


# --- the supervisor's decisions: picked from the deals waiting, no ids typed ------------------------
def test_decisions_workbook_offers_the_deals_waiting_and_a_picked_one_is_applied(workspace: Workspace) -> None:
    from sheetsales.outputs.waiting import untouched
    from sheetsales.reading.fill import fill_table
    from sheetsales.reading.specs import DECISIONS_TABLE, FIRST_DATA_ROW
    from sheetsales.reading.templates import template_filename

    save_mpc(workspace, "R01", [deal("甲机械厂", "方案设计", 1_000_000)])
    ingest(workspace, WEEK1)
    path = workspace.inbox / "S01" / template_filename("decisions", workspace.lang, "S01")
    assert untouched(workspace.root, path) == []  # handed out, nothing waits yet
    ingest(workspace, WEEK1 + dt.timedelta(days=31))  # past 方案设计's 30 days: confiscated to S01
    summary = run_report(workspace, WEEK1 + dt.timedelta(days=31)).summary  # the untouched workbook: rewritten
    [label] = untouched(workspace.root, path)
    assert label.startswith("甲机械厂 · 1,000,000 · 方案设计 · ") and "已收归主管" in label
    assert label.endswith(next(o["deal"] for o in summary.opportunities if o["customer"] == "甲机械厂"))
    wb = load(path)
    sheet = wb[DECISIONS_TABLE.zh]
    rules = [dv for dv in sheet.data_validations.dataValidation if f"A{FIRST_DATA_ROW}" in str(dv.sqref)]
    assert rules and rules[0].type == "list" and rules[0].errorStyle == "information"
    sheet_name, ref = rules[0].formula1.lstrip("=").split("!")
    listed = [c.value for row in wb[sheet_name.strip("'")][ref.replace("$", "")] for c in row]
    assert listed == [label]
    # S01 picks it from the drop-down and returns it: applied, the deal is R01's again.
    fill_table(path, DECISIONS_TABLE, [{"deal": label, "decision": "退回", "reason": "继续跟进"}])
    assert untouched(workspace.root, path) is None  # saved by S01: never written again
    ingest(workspace, WEEK1 + dt.timedelta(days=33))
    summary = run_report(workspace, WEEK1 + dt.timedelta(days=33)).summary
    opp = next(o for o in summary.opportunities if o["customer"] == "甲机械厂")
    assert opp["rep"] == "R01" and not [a for a in summary.alerts if a["code"] == "decision-invalid"]


def _offered(path: Path) -> list[str]:
    """The labels the Deal column's drop-down offers: its data validation's range on the hidden lists sheet."""
    from sheetsales.reading.specs import DECISIONS_TABLE, FIRST_DATA_ROW

    wb = load(path)
    sheet = wb[DECISIONS_TABLE.zh]
    [rule] = [dv for dv in sheet.data_validations.dataValidation if f"A{FIRST_DATA_ROW}" in str(dv.sqref)]
    assert rule.type == "list"
    sheet_name, ref = rule.formula1.lstrip("=").split("!")
    return [c.value for row in wb[sheet_name.strip("'")][ref.replace("$", "")] for c in row]


def test_a_saved_decisions_workbook_gets_a_new_dated_one_when_new_deals_wait(workspace: Workspace) -> None:
    """S01 saves their decisions workbook; a deal confiscated later is offered by a new dated workbook
    (the saved one is never written again and its decisions still count); of two decisions on one
    deal the one applied last prevails: the newer workbook's in the same ingest, the later save after."""
    import hashlib

    from sheetsales.reading.fill import fill_table
    from sheetsales.reading.specs import DECISIONS_TABLE
    from sheetsales.reading.templates import template_filename
    from sheetsales.storage.store import decision_results, decisions

    def sha(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    def owner(day: dt.date, customer: str) -> str:
        return next(o["rep"] for o in run_report(workspace, day).summary.opportunities if o["customer"] == customer)

    folder = workspace.inbox / "S01"
    first = folder / template_filename("decisions", workspace.lang, "S01")
    save_mpc(workspace, "R01", [deal("甲机械厂", "方案设计", 1_000_000),  # 30 days at the stage
                                deal("乙重工", "方案确认", 3_000_000, milestones=4)])  # 45 days
    ingest(workspace, WEEK1)
    ingest(workspace, WEEK1 + dt.timedelta(days=31))  # 甲 confiscated to S01
    run_report(workspace, WEEK1 + dt.timedelta(days=31))  # S01's untouched workbook now offers it
    [jia] = _offered(first)
    assert "甲机械厂" in jia
    fill_table(first, DECISIONS_TABLE, [{"deal": jia, "decision": "退回", "reason": "继续跟进"}])  # S01 saves
    ingest(workspace, WEEK1 + dt.timedelta(days=33))
    assert owner(WEEK1 + dt.timedelta(days=33), "甲机械厂") == "R01"
    assert [p.name for p in folder.glob("决策*")] == [first.name]  # nothing new waits: nothing new handed out
    saved = sha(first)

    day = WEEK1 + dt.timedelta(days=46)  # 乙 past its 45 days: confiscated to S01
    ingest(workspace, day)
    result = run_report(workspace, day)
    newer = folder / template_filename("decisions", workspace.lang, "S01", day.isoformat())
    assert newer.name == "决策_S01_2026-12-18.xlsx" and newer.is_file()
    yi_id = next(o["deal"] for o in result.summary.opportunities if o["customer"] == "乙重工")
    [yi] = _offered(newer)
    assert yi.startswith("乙重工 · 3,000,000 · 方案确认 · ") and yi.endswith(yi_id)
    assert sha(first) == saved  # S01's own workbook: untouched
    boss = load(workspace.reports / "feedback" / "S01.xlsx")["本周概况"]
    texts = {c.value for row in boss.iter_rows() for c in row if isinstance(c.value, str)}
    assert t("title.waiting_in", "zh-CN", file=newer.name) in texts  # the feedback names the one to use
    run_report(workspace, day)  # the same deals still wait: nothing more
    assert sorted(p.name for p in folder.glob("决策*")) == [first.name, newer.name]

    # In one ingest: S01 returns 乙 in the old workbook (typing its id) and reassigns it in the new one.
    fill_table(first, DECISIONS_TABLE, [{"deal": jia, "decision": "退回", "reason": "继续跟进"},
                                        {"deal": yi_id, "decision": "退回", "reason": "还给甲"}])
    fill_table(newer, DECISIONS_TABLE, [{"deal": yi, "decision": "转派", "to": "R02", "reason": "R02 熟悉客户"}])
    done = ingest(workspace, day + dt.timedelta(days=1))
    assert [p.label for p in done.files if not p.readable] == []  # neither is taken for a copy
    assert done.settled["applied"] == 2 and done.settled["invalid"] == 0
    assert owner(day + dt.timedelta(days=1), "乙重工") == "R02"  # the newer workbook's, applied last
    store = workspace.store()
    try:
        outcome = {r["decision_id"]: r["outcome"] for r in store.rows(decision_results, day + dt.timedelta(days=1))}
        applied = [(d["file"], d["decision"]) for d in store.rows(decisions, day + dt.timedelta(days=1))
                   if d["deal"] == yi_id and outcome.get(d["id"]) == "applied"]
    finally:
        store.close()
    assert applied == [(f"S01/{first.name}", "return"), (f"S01/{newer.name}", "reassign")]
    # A later save prevails, whichever workbook holds it: S01 gives 乙 back to R01 in the old one.
    fill_table(first, DECISIONS_TABLE, [{"deal": yi_id, "decision": "退回", "reason": "R02 太忙"}])
    ingest(workspace, day + dt.timedelta(days=2))
    assert owner(day + dt.timedelta(days=2), "乙重工") == "R01"
    assert sorted(p.name for p in folder.glob("决策*")) == [first.name, newer.name]  # nothing new waits
