"""Nine permission levels: every generated workbook holds exactly its reader's scope.

A team of two regions: a director (level 8, company), a regional manager (level 6, region 华东), a
sales manager (level 5, team 华北组), a team lead (level 4, team) and reps (level 2, own). Every rep's
customers, log rows, help requests and card contacts carry the rep's id, so a leak is a plain string
search over every cell of every sheet (hidden ones too) of each generated workbook.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from conftest import WEEK1, deal, save_mpc

from sheetsales.method import scopes
from sheetsales.method.logchain import playbook_log_table
from sheetsales.method.playbook import Person, Playbook, read_playbook, write_playbook
from sheetsales.outputs.report import build_summary, run_report
from sheetsales.reading.fill import fill_table
from sheetsales.reading.specs import CARD_CUSTOMERS_TABLE, CARD_PEOPLE_TABLE, HELP_REQUESTS_TABLE
from sheetsales.reading.templates import template_filename
from sheetsales.service.workspace import Workspace, init_workspace
from sheetsales.storage.ingest import ingest

TEAM = (
    Person("D01", "周总监", "全国", "销售部", "", 8),
    Person("S01", "王区经", "华东", "华东组", "D01", 6),
    Person("S02", "陈经理", "华北", "华北组", "D01", 5),
    Person("R01", "张一", "华东", "华东组", "S01", 2),
    Person("R02", "李二", "华东", "华东组", "S01", 2),
    Person("R03", "赵三", "华北", "华北组", "S02", 2),
    Person("R04", "孙四", "华北", "华北组", "S02", 4),
)
REPS = ("R01", "R02", "R03", "R04")
# Who sees whom, by hand: own for level 2; team for 4 and 5; region for 6; company for 8; always
# the people under one.
SCOPES = {
    "R01": {"R01"}, "R02": {"R02"}, "R03": {"R03"}, "R04": {"R03", "R04", "S02"},
    "S01": {"S01", "R01", "R02"}, "S02": {"S02", "R03", "R04"}, "D01": {p.id for p in TEAM},
}
ABOVE = {"R01": {"S01", "D01"}, "R02": {"S01", "D01"}, "R03": {"S02", "D01"}, "R04": {"S02", "D01"},
         "S01": {"D01"}, "S02": {"D01"}, "D01": set()}


def customers(rep: str) -> list[str]:
    return [f"{rep}甲方机械厂", f"{rep}乙方重工"]


def marks(rep: str) -> list[str]:
    """Every string that names ``rep``'s business: customers, log rows, card contacts. (A help request's
    text is published to everyone who could answer it, without its customer or requester.)"""
    return [*customers(rep), f"日志{rep}拜访", f"联系人{rep}"]


@pytest.fixture
def team_ws(tmp_path: Path) -> Workspace:
    ws = init_workspace(tmp_path / "ws", lang="zh-CN", playbook=replace(Playbook.default("zh-CN"), team=TEAM),
                        as_of=WEEK1)
    log = playbook_log_table(Playbook.default("zh-CN"))
    for rep in REPS:
        save_mpc(ws, rep, [deal(customers(rep)[0], stage="项目评估"), deal(customers(rep)[1])])
        weekly = ws.inbox / rep / template_filename("weekly", ws.lang, rep, "2026-W45")
        fill_table(weekly, log, [{"date": WEEK1, "deal": customers(rep)[0], "t_visit": "✓", "hours": 3,
                                  "content": f"日志{rep}拜访"}])
        fill_table(ws.inbox / rep / template_filename("help", ws.lang, rep), HELP_REQUESTS_TABLE,
                   [{"no": 1, "customer": customers(rep)[0], "reason": f"难题{rep}"}])
        cards = ws.inbox / rep / template_filename("cards", ws.lang, rep)
        fill_table(cards, CARD_CUSTOMERS_TABLE, [{"customer": customers(rep)[0], "founded": dt.date(2000, 11, 3)}])
        fill_table(cards, CARD_PEOPLE_TABLE, [{"customer": customers(rep)[0], "name": f"联系人{rep}", "role": "决定者",
                                               "birthday": dt.date(1970, 11, 4)}])
    result = ingest(ws, WEEK1 + dt.timedelta(days=4))
    assert not [i for f in result.files for i in f.errors]
    return ws


def cell_text(path: Path) -> str:
    wb = openpyxl.load_workbook(path)
    return "\n".join(str(v) for sheet in wb.worksheets for row in sheet.iter_rows(values_only=True)
                     for v in row if v is not None)


def test_the_levels_sheet_maps_levels_to_reach(tmp_path: Path) -> None:
    playbook = replace(Playbook.default("zh-CN"), team=TEAM)
    assert [(lv.level, lv.reach, lv.named) for lv in playbook.levels] == [
        (1, "own", False), (2, "own", False), (3, "own", False), (4, "team", False), (5, "team", True),
        (6, "region", True), (7, "region", True), (8, "company", True), (9, "company", True)]
    write_playbook(tmp_path / "playbook.xlsx", playbook, "zh-CN")
    wb = openpyxl.load_workbook(tmp_path / "playbook.xlsx")
    ws = wb["权限级别"]
    ws["D5"] = "区域"  # level 2 now sees its region
    wb.save(tmp_path / "playbook.xlsx")
    read, issues = read_playbook(tmp_path / "playbook.xlsx", "zh-CN")
    assert issues == [] and read is not None and read.level(2).reach == "region"
    ws["D5"] = "全世界"
    wb.save(tmp_path / "playbook.xlsx")
    read, issues = read_playbook(tmp_path / "playbook.xlsx", "zh-CN")
    assert read is None and [(i.code, i.cell) for i in issues] == [("unknown-choice", "D5")]


def test_scopes_follow_the_levels(team_ws: Workspace) -> None:
    summary = build_summary(team_ws, WEEK1 + dt.timedelta(days=4))
    people = {p["rep"]: p for p in summary.people}
    assert {pid: scopes.scope_of(people, pid) for pid in people} == SCOPES


def test_no_feedback_holds_a_deal_log_row_or_name_outside_its_readers_scope(team_ws: Workspace) -> None:
    as_of = WEEK1 + dt.timedelta(days=4)
    summary = run_report(team_ws, as_of).summary
    deal_ids = {o["deal"]: o["rep"] for o in summary.opportunities}
    names = {p.id: p.name for p in TEAM}
    for reader, scope in SCOPES.items():
        text = cell_text(team_ws.reports / "feedback" / f"{reader}.xlsx")
        for rep in REPS:
            found = [m for m in marks(rep) if m in text]
            if rep in scope:  # their own business is there: the test looks at the right file
                assert found, (reader, rep)
            else:
                assert not found, (reader, rep, found)
        for deal_id, owner in deal_ids.items():
            assert owner in scope or deal_id not in text, (reader, deal_id)
        outside = {pid for pid in names if pid not in scope | ABOVE[reader]}
        assert not [names[pid] for pid in outside if names[pid] in text], reader
        # Everybody may answer everybody else's open requests: the problem is there, its owner only in scope.
        for rep in REPS:
            if rep != reader:
                assert f"难题{rep}" in text and f"{rep}-1" in text, (reader, rep)


def test_a_region_summary_holds_its_region_and_the_company_summary_everything(team_ws: Workspace) -> None:
    run_report(team_ws, WEEK1 + dt.timedelta(days=4))
    regions = sorted(p.name for p in (team_ws.reports / "regions").iterdir() if p.suffix == ".xlsx")
    assert regions == ["华东.xlsx", "华北.xlsx"]  # 全国 holds only the director, who sees the company
    for region, inside in (("华东", {"R01", "R02"}), ("华北", {"R03", "R04"})):
        text = cell_text(team_ws.reports / "regions" / f"{region}.xlsx")
        for rep in REPS:
            found = [m for m in marks(rep) if m in text]
            assert bool(found) == (rep in inside), (region, rep, found)
        outside = {p.name for p in TEAM if p.region not in (region,) and p.id not in ("D01",)}
        assert not [n for n in outside if n in text], region
        sheet = openpyxl.load_workbook(team_ws.reports / "regions" / f"{region}.xlsx")["漏斗"]
        first = sheet[sheet.tables["Funnel"].ref.split(":")[0]].row + 1
        assert sheet.cell(first, 1).value == region  # its top level is the region, not the company
    company = cell_text(team_ws.reports / "summary.xlsx")
    assert all(m in company for rep in REPS for m in marks(rep)[:2])
