"""The rep-facing templates: generated from the specs, committed, and kept in step with the code."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from sheetsales.method.playbook import Playbook
from sheetsales.reading.fill import fill_table
from sheetsales.reading.read import open_workbook, read_meta, read_table
from sheetsales.reading.specs import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    LOG_TABLE,
    META_SHEET,
    MPC_TABLE,
    TEMPLATE_SPECS,
)
from sheetsales.reading.templates import build_committed_templates, build_template

COMMITTED = Path(__file__).resolve().parent.parent / "workbook_templates"


def fingerprint(path: Path) -> dict:
    """What a person sees and what the readers rely on: values, validations, layout, protection."""
    wb = openpyxl.load_workbook(path)
    out: dict = {"sheets": wb.sheetnames, "defined_names": sorted(wb.defined_names)}
    for ws in wb.worksheets:
        out[ws.title] = {
            "state": ws.sheet_state,
            "values": {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None},
            "validations": sorted(
                (str(dv.sqref), dv.type, dv.formula1, dv.formula2, dv.operator, dv.prompt, dv.error)
                for dv in ws.data_validations.dataValidation
            ),
            "freeze": ws.freeze_panes,
            "protected": ws.protection.sheet,
            "widths": {k: v.width for k, v in ws.column_dimensions.items() if v.width},
            "locked_input": {
                c.coordinate: c.protection.locked for row in ws.iter_rows(max_row=FIRST_DATA_ROW) for c in row
            },
            "formats": {c.coordinate: c.number_format for row in ws.iter_rows(max_row=FIRST_DATA_ROW) for c in row},
        }
    return out


@pytest.mark.parametrize("name", [f"{kind}.{lang}.xlsx" for kind in TEMPLATE_SPECS for lang in ("zh-CN", "en")])
def test_committed_templates_are_up_to_date(tmp_path: Path, name: str) -> None:
    build_committed_templates(tmp_path)
    assert (COMMITTED / name).exists(), "run: make templates"
    assert fingerprint(COMMITTED / name) == fingerprint(tmp_path / name), (
        f"workbook_templates/{name} is out of date with the code; run: make templates"
    )


def test_fingerprint_sees_a_changed_label(tmp_path: Path) -> None:
    """The golden comparison fails when a header changes (so the test above can fail)."""
    build_committed_templates(tmp_path)
    wb = openpyxl.load_workbook(tmp_path / "mpc.zh-CN.xlsx")
    wb["MPC一览表"].cell(HEADER_ROW, 4).value = "客户"
    wb.save(tmp_path / "changed.xlsx")
    assert fingerprint(tmp_path / "changed.xlsx") != fingerprint(COMMITTED / "mpc.zh-CN.xlsx")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_mpc_template_has_dropdowns_validation_and_meta(tmp_path: Path, lang: str) -> None:
    pb = Playbook()
    rep = pb.person("R01")
    path = build_template(tmp_path / "mpc.xlsx", "mpc", pb, lang, rep=rep, workspace="ws1")
    wb = openpyxl.load_workbook(path)
    ws = wb[MPC_TABLE.name(lang)]
    headers = [c.value for c in ws[HEADER_ROW]]
    assert headers[3] == MPC_TABLE.column("customer").label(lang) + " *"
    assert ws.freeze_panes == f"A{FIRST_DATA_ROW}"
    assert ws.protection.sheet is True
    assert ws.cell(HEADER_ROW, 1).protection.locked is True
    dvs = {dv.type: dv for dv in ws.data_validations.dataValidation}
    assert set(dvs) >= {"list", "date", "decimal", "whole"}
    stage_dv = next(dv for dv in ws.data_validations.dataValidation
                    if str(dv.sqref).startswith("H"))
    assert stage_dv.type == "list" and "_lists" in stage_dv.formula1
    lists = wb["_lists"]
    assert lists.sheet_state == "hidden"
    stage_names = [lists.cell(r, 1).value for r in range(2, 10)]
    assert stage_names == [s.name(lang) for s in pb.stages]
    assert [lists.cell(r, 2).value for r in range(2, 2 + len(pb.categories))] == pb.categories
    assert wb[META_SHEET].sheet_state == "veryHidden"
    raw, issues = open_workbook(path)
    assert issues == []
    meta = read_meta(raw)
    assert meta["kind"] == "mpc" and meta["rep"] == "R01" and meta["workspace"] == "ws1" and meta["lang"] == lang
    assert meta["version"] == str(TEMPLATE_SPECS["mpc"].version)


def test_weekly_template_restricts_log_dates_to_its_week(tmp_path: Path) -> None:
    pb = Playbook()
    path = build_template(tmp_path / "w.xlsx", "weekly", pb, "zh-CN", rep=pb.person("R02"), week="2026-W45")
    wb = openpyxl.load_workbook(path)
    log = wb[LOG_TABLE.zh]
    date_dv = next(dv for dv in log.data_validations.dataValidation if dv.type == "date")
    # 2026-W45 runs Monday 2026-11-02 to Sunday 2026-11-08 (Excel serials 46328..46334).
    assert (date_dv.formula1, date_dv.formula2) == ("46328", "46334")
    form = wb["周报"]
    values = {form.cell(r, 1).value: form.cell(r, 2).value for r in range(1, 12)}
    assert values["周次"] == "2026-W45"
    assert values["销售工程师"] == "R02 李娜"
    assert values["区域经理"] == "王经理"
    assert form.cell(3, 2).protection.locked is True  # pre-filled week
    assert form.cell(7, 2).protection.locked is False  # key events are the rep's


def test_the_reader_finds_what_the_template_wrote(tmp_path: Path) -> None:
    """One source of truth: the same spec draws the template and maps it back."""
    for lang in ("zh-CN", "en"):
        path = build_template(tmp_path / f"{lang}.xlsx", "mpc", Playbook(), lang)
        raw, _ = open_workbook(path)
        table, issues = read_table(raw, MPC_TABLE)
        assert issues == [] and table.rows == []
        fill_table(path, MPC_TABLE, [{"customer": "X", "remarks": "ignored", "distributor": "D"}])
        raw, _ = open_workbook(path)
        table, issues = read_table(raw, MPC_TABLE)
        assert issues == []
        assert table.rows[0].cols == {c.key: i for i, c in enumerate(MPC_TABLE.columns)}
        assert table.rows[0].values["customer"] == "X" and table.rows[0].values["distributor"] == "D"


def test_a_filled_cell_takes_its_columns_format_and_stays_editable(tmp_path: Path) -> None:
    import datetime as dt

    path = build_template(tmp_path / "mpc.xlsx", "mpc", Playbook(), "zh-CN")
    fill_table(path, MPC_TABLE, [{"customer": "X", "sign_date": dt.date(2026, 12, 1), "win_rate": 0.5,
                                  "amount": 1000}])
    ws = openpyxl.load_workbook(path)[MPC_TABLE.zh]
    row = FIRST_DATA_ROW
    assert ws.cell(row, 6).number_format == "yyyy-mm-dd"
    assert ws.cell(row, 9).number_format == "0%"
    assert ws.cell(row, 5).number_format == "#,##0"
    assert not any(ws.cell(row, c).protection.locked for c in (4, 5, 6, 9))
    title_row = ws.row_dimensions[1]
    assert title_row.customFormat and ws.parent._protections[title_row._style.protectionId].locked


def test_every_template_sheet_prints_landscape_one_page_wide_with_its_header_on_every_page() -> None:
    """A rep or supervisor who prints a template gets every column on the page's width, not a list
    spread over three portrait pages; a list's header row repeats on each page."""
    checked = 0
    for path in sorted(COMMITTED.glob("*.xlsx")):
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            if ws.sheet_state != "visible":
                continue
            assert ws.sheet_properties.pageSetUpPr.fitToPage, (path.name, ws.title)
            assert ws.page_setup.fitToWidth in (1, None) and ws.page_setup.fitToHeight == 0, (path.name, ws.title)
            if ws.freeze_panes:  # a list (forms have no header row)
                assert ws.page_setup.orientation == "landscape", (path.name, ws.title)
                assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}", (path.name, ws.title)
                checked += 1
    assert checked >= 10
