"""The seam for capability modules (sheetsales/sections.py): a module listed in ``sections.MODULES``
gets its tables into the summary's JSON, its alerts among the summary's alerts, its sheets after the
core sheets of the summary and its person-scoped tables into each person's feedback."""

from __future__ import annotations

import json

import openpyxl
import pytest
from conftest import WEEK1, deal, save_mpc

from sheetsales.analyses import sections
from sheetsales.analyses.analyse import Summary
from sheetsales.outputs.report import build_summary, run_report
from sheetsales.outputs.write import summary_sheet_names
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest


@pytest.fixture
def with_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sections, "MODULES", ("section_example",))


@pytest.fixture
def filled(workspace: Workspace) -> Workspace:
    save_mpc(workspace, "R01", [deal("大庆石化机械厂"), deal("天津港务集团")])
    save_mpc(workspace, "R02", [deal("青岛啤酒设备公司")])
    ingest(workspace, WEEK1)
    return workspace


def summary_of(ws: Workspace) -> Summary:
    return build_summary(ws, WEEK1)


def test_without_modules_the_summary_has_no_sections(filled: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sections, "MODULES", ())
    summary = summary_of(filled)
    assert summary.sections == {}
    assert "example" not in json.dumps(summary.to_json())


def test_a_section_reaches_json_alerts_summary_and_feedback(filled: Workspace, with_example: None) -> None:
    summary = summary_of(filled)
    assert summary.sections["example"]["per_rep"] == [{"rep": "R01", "count": 2}, {"rep": "R02", "count": 1}]
    assert summary.to_json()["example"]["per_rep"][0] == {"rep": "R01", "count": 2}
    assert {a["rep"] for a in summary.alerts if a["code"] == "no-activity" and "99" in a["message"]} == {"R01", "R02"}

    run_report(filled, WEEK1)
    wb = openpyxl.load_workbook(filled.reports / "summary.xlsx")
    assert wb.sheetnames == summary_sheet_names(filled.lang) + ["Example"]
    assert "ExamplePerRep" in wb["Example"].tables
    # A rep sees their own row twice (own and scope); their supervisor sees the team's rows in scope.
    rep = openpyxl.load_workbook(filled.reports / "feedback" / "R01.xlsx")["Example"]
    assert [r[0] for r in rep.iter_rows(min_row=2, values_only=True) if r[0] in ("R01", "R02")] == ["R01", "R01"]
    sup = openpyxl.load_workbook(filled.reports / "feedback" / "S01.xlsx")["Example"]
    assert sorted(r[0] for r in sup.iter_rows(min_row=2, values_only=True) if r[0] in ("R01", "R02")) == ["R01", "R02"]
