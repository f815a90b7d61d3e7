"""The playbook: the method as data, validated like any input."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from sheetsales.issues import flat
from sheetsales.method.playbook import DEFAULT_STAGES, Playbook, period_months, read_playbook, write_playbook


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_default_playbook_round_trips(tmp_path: Path, lang: str) -> None:
    write_playbook(tmp_path / "p.xlsx", Playbook(), lang)
    playbook, issues = read_playbook(tmp_path / "p.xlsx", lang)
    assert issues == []
    assert playbook == Playbook()
    assert [s.name_zh for s in playbook.stages] == ["项目立项", "初步接触", "方案设计", "业绩展示", "方案确认",
                                                    "项目评估", "商务谈判", "签约成交"]
    assert [s.funnel_state for s in playbook.stages] == ["search"] * 2 + ["funnel"] * 3 + ["best"] * 3
    assert playbook.stage(8).milestone_zh == "签约完成,合作成功"


def test_probabilities_rise_with_the_stages() -> None:
    probs = [s.probability for s in DEFAULT_STAGES]
    assert probs == sorted(probs) and probs[-1] == 1.0
    assert DEFAULT_STAGES[2].probability == 0.2 and DEFAULT_STAGES[4].probability == 0.5


def test_playbook_errors_are_cell_addressed(tmp_path: Path) -> None:
    path = tmp_path / "p.xlsx"
    write_playbook(path, Playbook(), "zh-CN")
    wb = openpyxl.load_workbook(path)
    wb["销售阶段"]["A6"] = 4  # stage 3 renumbered: 1, 2, 4, 4, …
    wb["团队"]["F8"] = 12  # permission level outside 1-9
    wb["目标"].append(["R01", "下个月", 100])
    wb["目标"].append(["R77", "2026-12", 100])
    wb["设置"]["B4"] = "很多"
    wb.save(path)
    playbook, issues = read_playbook(path, "zh-CN")
    assert playbook is None
    assert [(i.sheet, *pair) for i, pair in zip(issues, flat(issues), strict=True)] == [
        ("销售阶段", "A7", "duplicate-id"),
        ("团队", "F8", "out-of-range"),
        ("目标", "B4", "bad-period"),
        ("目标", "A5", "unknown-person"),
        ("设置", "B4", "wrong-type"),
    ]


def test_stage_numbers_must_run_without_gaps(tmp_path: Path) -> None:
    path = tmp_path / "p.xlsx"
    write_playbook(path, Playbook(), "en")
    wb = openpyxl.load_workbook(path)
    wb["Stages"]["A11"] = 9  # stage 8 renumbered 9
    wb.save(path)
    playbook, issues = read_playbook(path, "en")
    assert playbook is None and flat(issues) == [("A11", "stage-order")]


def test_periods() -> None:
    assert period_months("2026-11") == ["2026-11"]
    assert period_months("2026-Q4") == ["2026-10", "2026-11", "2026-12"]
    assert len(period_months("2027")) == 12
    assert period_months("2026-13") is None and period_months("next year") is None


def test_team_roles() -> None:
    pb = Playbook()
    assert [p.id for p in pb.reps] == ["R01", "R02", "R03"]
    assert pb.resolve("stage", "3") == 3 and pb.resolve("stage", "方案确认") == 5
    assert pb.resolve("stage", "commercial negotiation") == 7 and pb.resolve("stage", "9") is None


# --- the supervisor chain ---------------------------------------------------------------------
# Default team rows: D01 row 4, S01 row 5, R01 row 6, R02 row 7, R03 row 8; the supervisor id is column E.
@pytest.mark.parametrize("edits, expected", [
    ({"E5": "R01"}, [("E5", "supervisor-cycle", "S01 → R01 → S01"), ("E6", "supervisor-cycle", "R01 → S01 → R01")]),
    ({"E7": "R02"}, [("E7", "supervisor-cycle", "R02 → R02")]),
    ({"E4": "S01"}, [("E4", "supervisor-cycle", "D01 → S01 → D01"), ("E5", "supervisor-cycle", "S01 → D01 → S01")]),
    ({"E4": "R03"}, [("E4", "supervisor-cycle", "D01 → R03 → S01 → D01"),
                     ("E5", "supervisor-cycle", "S01 → D01 → R03 → S01"),
                     ("E8", "supervisor-cycle", "R03 → S01 → D01 → R03")]),
    ({"E6": "X99"}, [("E6", "unknown-supervisor", "X99")]),
])
def test_supervisor_cycles_and_unknown_supervisors(tmp_path: Path, edits: dict, expected: list) -> None:
    path = tmp_path / "p.xlsx"
    write_playbook(path, Playbook(), "zh-CN")
    wb = openpyxl.load_workbook(path)
    for cell, value in edits.items():
        wb["团队"][cell] = value
    wb.save(path)
    playbook, issues = read_playbook(path, "zh-CN")
    assert playbook is None
    assert [(i.cell, i.code, i.params.get("cycle") or i.params.get("value")) for i in issues] == expected
    assert all(i.sheet == "团队" and i.severity == "error" for i in issues)
    assert "→" in issues[0].message("en") or "X99" in issues[0].message("en")


def test_a_cycle_keeps_the_last_good_playbook_in_force(workspace) -> None:
    """Through a real ingest: the rep in the cycle gets no decisions workbook; the old team stays."""
    from conftest import WEEK1

    from sheetsales.outputs.report import build_summary
    from sheetsales.reading.templates import template_filename
    from sheetsales.storage.ingest import ingest

    ingest(workspace, WEEK1)
    wb = openpyxl.load_workbook(workspace.playbook_path)
    wb["团队"]["E5"] = "R01"  # S01 and R01 supervise each other
    wb["团队"].append(["R04", "新人", "华东", "华东组", "S01", 2, ""])
    wb.save(workspace.playbook_path)
    result = ingest(workspace, WEEK1)
    assert [i.code for i in result.playbook_issues] == ["supervisor-cycle", "supervisor-cycle", "playbook-rejected"]
    assert not (workspace.inbox / "R01" / template_filename("decisions", "zh-CN", "R01")).exists()
    assert not (workspace.inbox / "R04").exists()  # the new person waits for a valid playbook
    people = {p["rep"]: p["supervisor"] for p in build_summary(workspace, WEEK1).people}
    assert people == {"D01": "", "S01": "D01", "R01": "S01", "R02": "S01", "R03": "S01"}
    codes = {i["code"] for i in build_summary(workspace, WEEK1).issues}
    assert {"supervisor-cycle", "playbook-rejected"} <= codes


# --- periods ----------------------------------------------------------------------------------
def test_a_period_excel_turned_into_a_date_is_its_month(tmp_path: Path) -> None:
    import datetime as dt

    path = tmp_path / "p.xlsx"
    write_playbook(path, Playbook(), "zh-CN")
    wb = openpyxl.load_workbook(path)
    wb["目标"].append(["R01", dt.datetime(2026, 11, 1), 100_000])  # 2026-11 typed in a General cell
    wb["目标"].append(["R02", dt.date(2026, 12, 1), 200_000])
    wb["目标"].append(["R03", 2027, 1_200_000])  # a year typed as a number
    wb["目标"].append(["华东组", "2026-Q4", 900_000])
    wb.save(path)
    playbook, issues = read_playbook(path, "zh-CN")
    assert issues == [] and playbook is not None
    assert [(t.owner, t.period) for t in playbook.targets] == [
        ("R01", "2026-11"), ("R02", "2026-12"), ("R03", "2027"), ("华东组", "2026-Q4")]
    assert playbook.monthly_targets()[("R01", "2026-11")] == 100_000
    assert playbook.monthly_targets()[("R03", "2027-05")] == 100_000


def test_the_period_column_is_text(tmp_path: Path) -> None:
    path = tmp_path / "p.xlsx"
    write_playbook(path, Playbook(), "en")
    sheet = openpyxl.load_workbook(path)["Targets"]
    assert sheet.column_dimensions["B"].number_format == "@"  # what is typed stays what was typed
    assert sheet["B3"].value == "Period *"
