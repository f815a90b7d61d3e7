"""The playbook: the method as data, validated like any input."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from sheetsales.issues import flat
from sheetsales.playbook import DEFAULT_STAGES, Playbook, period_months, read_playbook, write_playbook


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
