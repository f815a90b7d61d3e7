"""The README documents every command, template column, issue code and summary table."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest

from sheetsales.analyses.analyse import Summary
from sheetsales.issues import CATALOGUE
from sheetsales.outputs.write import write_feedback, write_summary
from sheetsales.reading.specs import PLAYBOOK_TABLES, TEMPLATE_SPECS, Form, Table
from sheetsales.service.cli import build_parser

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_command_is_documented() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:
        assert f"sheetsales {name}" in README, name


@pytest.mark.parametrize("table", [s for spec in TEMPLATE_SPECS.values() for s in spec.sheets] + list(PLAYBOOK_TABLES),
                         ids=lambda s: s.key)
def test_every_template_column_is_documented(table: Table | Form) -> None:
    assert table.zh in README and table.en in README
    items = table.columns if isinstance(table, Table) else table.fields
    for item in items:
        if re.fullmatch(r"m\d+", item.key):  # milestone columns are documented as a range
            assert "里程碑1 … 里程碑7" in README and "Milestone 1 … Milestone 7" in README
            continue
        assert item.zh in README, item.zh
        assert item.en in README, item.en


def test_every_issue_code_is_documented() -> None:
    for code in CATALOGUE:
        assert f"`{code}`" in README, code


def test_every_alert_code_is_documented() -> None:
    from sheetsales.method.rules import ALERTS

    for code in ALERTS:
        assert f"`{code}`" in README, code


def test_every_summary_table_is_documented(tmp_path: Path) -> None:
    summary = Summary(as_of=dt.date(2026, 11, 2), lang="en", currency="CNY",
                      people=[{"rep": "R01", "rep_name": "A", "team": "T", "region": "R", "supervisor": ""}])
    path = write_summary(summary, tmp_path / "summary.xlsx")
    names = {n for ws in openpyxl.load_workbook(path).worksheets for n in ws.tables}
    for feedback in write_feedback(summary, tmp_path / "fb"):
        names |= {n for ws in openpyxl.load_workbook(feedback).worksheets for n in ws.tables}
    assert names
    for name in names:
        assert f"`{name}`" in README, name
