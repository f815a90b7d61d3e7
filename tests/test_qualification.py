"""Qualification that screens (sheetsales/qualification.py): the nine answers per deal, the yes/no screening
columns judged by the playbook's ruling-out answers, disqualified and unqualified."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import openpyxl
from conftest import WEEK1, deal, mpc_path, save_mpc

from sheetsales.method.playbook import (
    DEFAULT_QUESTIONS,
    DEFAULT_TEAM,
    Playbook,
    read_playbook,
    write_playbook,
)
from sheetsales.outputs.report import build_summary, run_report
from sheetsales.reading.fill import fill_table
from sheetsales.reading.specs import QUALIFICATION_TABLE
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest

A = "江苏恒远精密机械有限公司"  # in the funnel, all answered, no budget: disqualified
B = "苏州瑞丰汽车零部件有限公司"  # in the funnel, seven answered: unqualified
C = "常州金鼎检测有限公司"  # searching, two answered
D = "南京天成汽车零部件有限公司"  # all answered, every screen passed: qualified
E = "无锡华晟数控设备有限公司"  # volume below our minimum (Q8 no)
ALL = {f"q{n}": f"回答{n}" for n in range(1, 10)}
PASS = {"x3": "否", "x4": "是", "x8": "是", "x9": "是"}


def answers(ws: Workspace) -> None:
    fill_table(mpc_path(ws, "R01"), QUALIFICATION_TABLE, [
        {"customer": A, "category": "数控机床", **ALL, **PASS, "x4": "否"},
        {"customer": B, "category": "数控机床", **{f"q{n}": "有" for n in range(1, 8)}},
        {"customer": C, "category": "数控机床", "q1": "扩产", "q2": "符合"},
        {"customer": D, "category": "数控机床", **ALL, **PASS},
        {"customer": E, "category": "数控机床", **ALL, **PASS, "x8": "否"},
    ], clear=True)


def setup(ws: Workspace, playbook: Playbook | None = None) -> dict:
    if playbook is not None:
        write_playbook(ws.playbook_path, playbook, ws.lang)
    ingest(ws, WEEK1)
    save_mpc(ws, "R01", [deal(A, "方案设计"), deal(B, "方案确认"), deal(C, "项目立项"), deal(D, "业绩展示"),
                         deal(E, "方案设计")])
    answers(ws)
    ingest(ws, WEEK1 + dt.timedelta(days=1))
    return build_summary(ws, WEEK1 + dt.timedelta(days=1)).to_json()


def test_the_screening_answers_decide(workspace: Workspace) -> None:
    data = setup(workspace)
    rows = {r["customer"]: r for r in data["qualification"]["qualification"]}
    assert {c: r["status"] for c, r in rows.items()} == {
        A: "disqualified", B: "unqualified", C: "searching", D: "qualified", E: "disqualified"}
    assert rows[A]["ruled_out"] == "Q4 预算" and rows[A]["x4"] == "否" and rows[A]["q9"] == "回答9"
    assert rows[E]["ruled_out"] == "Q8 采购量与我方最低量"
    assert (rows[B]["answered"], rows[C]["answered"], rows[D]["answered"]) == (7, 2, 9)
    alerts = [(a["code"], a["customer"], tuple(a["people"])) for a in data["alerts"]
              if a["code"] in ("disqualified", "unqualified")]
    assert sorted(alerts) == sorted([("disqualified", A, ("R01", "S01")), ("disqualified", E, ("R01", "S01")),
                                     ("unqualified", B, ("R01",))])
    assert [q["question"] for q in data["qualification"]["questions"]][:2] == ["需求明确(疼痛或收获)", "符合我们的客户类型"]


def test_the_playbook_decides_which_answer_rules_out(workspace: Workspace) -> None:
    # The managers accept small volumes: Q8 no longer rules a deal out.
    questions = tuple(replace(q, rules_out="") if q.no == 8 else q for q in DEFAULT_QUESTIONS)
    data = setup(workspace, Playbook(team=DEFAULT_TEAM, questions=questions))
    rows = {r["customer"]: r["status"] for r in data["qualification"]["qualification"]}
    assert rows[E] == "qualified" and rows[A] == "disqualified"


def test_questions_round_trip_and_the_sheet(workspace: Workspace, tmp_path: object) -> None:
    path = workspace.root / "pb.xlsx"
    write_playbook(path, Playbook(team=DEFAULT_TEAM), "en")
    playbook, _ = read_playbook(path, "en")
    assert playbook is not None and playbook.questions == DEFAULT_QUESTIONS
    setup(workspace)
    run_report(workspace, WEEK1 + dt.timedelta(days=1))
    ws = openpyxl.load_workbook(workspace.reports / "summary.xlsx")["资格审查"]
    assert {"QualificationQuestions", "Qualification"} <= set(ws.tables)
    # The MPC template carries the yes/no drop-down beside the screening questions.
    sheet = openpyxl.load_workbook(mpc_path(workspace, "R01"))[QUALIFICATION_TABLE.zh]
    headers = [c.value for c in sheet[3]]
    assert "Q4 有预算?" in headers


def test_the_qualification_sheet_recalculated_by_libreoffice(soffice: str, workspace: Workspace,
                                                              tmp_path: object) -> None:
    from pathlib import Path

    from sheetsales.outputs import soffice as lo

    setup(workspace)
    result = run_report(workspace, WEEK1 + dt.timedelta(days=1))
    out = Path(str(tmp_path)) / "csv"
    computed = lo.export_csv_sheets(result.summary_path, out, recalc=True)["资格审查"]
    sheet = openpyxl.load_workbook(result.summary_path)["资格审查"]
    cached = openpyxl.load_workbook(result.summary_path, data_only=True)["资格审查"]
    table = sheet.tables["Qualification"]
    total_row = openpyxl.utils.cell.coordinate_from_string(table.ref.split(":")[1])[1] - 1
    col = 6  # the amount: five deals of 1,000,000
    assert float(computed[total_row][col].replace(",", "")) == 5_000_000
    assert cached.cell(total_row + 1, col + 1).value == 5_000_000


def test_a_version_2_mpc_list_without_the_screening_columns_is_read_as_before(workspace: Workspace) -> None:
    from sheetsales.reading.specs import META_SHEET, QUALIFICATION_TABLE_V2
    from sheetsales.storage.ingest import parse_input

    ingest(workspace, WEEK1)
    path = save_mpc(workspace, "R01", [deal(A, "方案设计")])
    fill_table(path, QUALIFICATION_TABLE_V2, [{"customer": A, "category": "数控机床", **ALL}])
    wb = openpyxl.load_workbook(path)
    sheet = wb[QUALIFICATION_TABLE.zh]
    sheet.delete_cols(len(QUALIFICATION_TABLE_V2.columns) + 1, 4)  # the yes/no columns v2 did not have
    meta = wb[META_SHEET]
    next(r for r in meta.iter_rows() if r[0].value == "version")[1].value = "2"
    wb.save(path)
    parsed = parse_input(path, "R01/MPC一览表_R01.xlsx", Playbook(), "zh-CN", folder_rep="R01", in_inbox=True)
    assert parsed.readable and not [i for i in parsed.issues if i.code == "missing-column"], parsed.issues
    row = parsed.tables["mpc"][0].values
    assert row["q_answered"] == 9 and '"q9": "回答9"' in row["qualification"] and "x4" not in row["qualification"]
    # The same file as version 3 misses the columns: a warning at the header row.
    next(r for r in meta.iter_rows() if r[0].value == "version")[1].value = "3"
    wb.save(path)
    parsed = parse_input(path, "R01/MPC一览表_R01.xlsx", Playbook(), "zh-CN", folder_rep="R01", in_inbox=True)
    assert {(i.code, i.severity) for i in parsed.issues if i.code == "missing-column"} == {("missing-column", "warning")}
