"""The writer's fast paths write exactly what the value-by-value path writes: every cell's value, type and
format, and every column's width (tools/compare_workbooks.py compares the workbooks as a person sees them)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
from pathlib import Path

import pytest

from sheetsales.analyses.weekly import wrap_columns
from sheetsales.outputs import widths
from sheetsales.outputs.write import EXCEL_MAX, IN_MEMORY_CELLS, Col, SheetWriter, _new_workbook

_spec = importlib.util.spec_from_file_location("compare_workbooks",
                                               Path(__file__).parent.parent / "tools" / "compare_workbooks.py")
compare_workbooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare_workbooks)

# openpyxl warns about the out-of-range numbers written on purpose; the comparison reads them alike.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

COLS = (Col("name", "col.rep_name"), Col("amount", "col.amount", "money", 14, "sum"),
        Col("n", "qualification.col.answered", "int", 8, "count"), Col("share", "col.amount", "percent"),
        Col("day", "col.sign_date", "date"), Col("note", "qualification.col.q1", "wrap", 18))

VALUES = [None, "", "甲公司", "Acme Ltd", "=1+1", "0", 0, 1, -1, 0.0, -0.0, 1.5, -2.25, 12_345_678.9, 10**20,
          10**400, math.nan, math.inf, -math.inf, EXCEL_MAX, -EXCEL_MAX, True, False, dt.date(2026, 11, 20),
          dt.date(1850, 1, 1), dt.datetime(2026, 11, 20, 9, 30), "很长的一段说明文字,会换行显示\n第二行", 3]


def _records() -> list[dict]:
    """Every value in every column, in a different order per column, and repeated (the widths' reuse)."""
    n = len(VALUES)
    return [{col.key: VALUES[(i * (k + 1)) % n] for k, col in enumerate(COLS)} for i in range(3 * n)]


class _ValueByValue(SheetWriter):
    """The writer as it was: each value through :meth:`SheetWriter.cell`."""

    def cells(self, first: int, col0: int, cols, records) -> None:
        for r, record in enumerate(records):
            for c, col in enumerate(cols):
                self.cell(first + r, col0 + c, record.get(col.key), col.kind)


def _book(path: Path, writer: type[SheetWriter], records: list[dict], lang: str = "zh-CN") -> Path:
    wb, f = _new_workbook(path)
    w = writer(wb, wb.add_worksheet("表"), lang, f)
    w.title("标题", "副标题")
    first, _ = w.table("Cells", COLS, records)
    wrap_columns(w, COLS, first, records)
    w.heading("第二个表")
    w.table("Cells2", COLS, records[:5], col0=1)
    w.finish()
    wb.close()
    return path


def test_a_table_is_written_as_value_by_value(tmp_path: Path) -> None:
    records = _records()
    fast = _book(tmp_path / "fast.xlsx", SheetWriter, records)
    slow = _book(tmp_path / "slow.xlsx", _ValueByValue, records)
    assert compare_workbooks.compare_files(slow, fast) == []
    import openpyxl

    ws = openpyxl.load_workbook(fast)["表"]
    shown = {ws.cell(r, 1).value for r in range(5, 5 + len(records))}
    assert {"甲公司", "=1+1", "nan", "inf", "1850-01-01", str(10**400)} <= {str(v) for v in shown}


def test_a_large_workbook_is_packaged_through_temporary_files_with_the_same_cells(tmp_path: Path) -> None:
    rows = IN_MEMORY_CELLS // len(COLS) + 10
    records = [{"name": f"客户{i % 97}", "amount": i * 1.5, "n": i, "note": "说明" * (i % 5)} for i in range(rows)]
    big = _book(tmp_path / "big.xlsx", SheetWriter, records)
    small = _book(tmp_path / "small.xlsx", SheetWriter, records[:50])
    import zipfile

    with zipfile.ZipFile(big) as z:
        assert z.getinfo("xl/worksheets/sheet1.xml").date_time[:3] == (1980, 1, 31)  # temporary files
    with zipfile.ZipFile(small) as z:
        assert z.getinfo("xl/worksheets/sheet1.xml").date_time[:3] == (1980, 1, 1)  # in memory
    slow = _book(tmp_path / "slow.xlsx", _ValueByValue, records[:50])
    assert compare_workbooks.compare_files(slow, small) == []


def _width_value_by_value(label: str, values: list, kind: str, cap: float = 60, floor: float = 6) -> float:
    widest = 0
    for value in values[:widths.SAMPLE]:
        widest = max(widest, widths.display_width(widths.shown(value, kind)))
    content = min(widest + widths.PADDING, cap)
    return round(max(widths.header_width(label), content, floor), 1)


def test_a_column_width_is_what_measuring_every_value_gives() -> None:
    for kind in ("text", "money", "int", "percent", "date", "wrap"):
        for values in (VALUES, VALUES[::-1], [-0.0, 0.0], [0.0, -0.0], [0.4, -0.4], [1, 1.0, True],
                       ["甲"] * 3000 + ["很长很长很长很长很长很长很长很长"], [None] * 5, []):
            for cap in (8, 30, 60):
                assert widths.column_width("标签", iter(values), kind, cap=cap) == \
                    _width_value_by_value("标签", values, kind, cap=cap), (kind, values[:4], cap)


def _mixed(path: Path, writer: type[SheetWriter]) -> Path:
    """A table whose rows share cells written the ordinary way: before the table (the table's values go
    over them), after it (they stay), beside it, a row with a format of its own, and values the direct
    path hands back (very long text, control characters, XML's own characters, spaces kept)."""
    records = _records()
    records[1] = {**records[1], "name": "x" * 20_000}  # over half of Excel's limit: XlsxWriter's check
    records[2] = {**records[2], "name": "🙂" * 17_000}  # over 32,767 UTF-16 units: truncated alike
    records[3] = {**records[3], "name": "a\x01b\x1fc <&>\"' ]]>", "note": "  spaces kept  "}
    wb, f = _new_workbook(path)
    ws = wb.add_worksheet("表")
    w = writer(wb, ws, "zh-CN", f)
    w.title("标题", "副标题")
    ws.write_string(w.row + 2, 0, "before", f["text"])  # under the table's first data row: overwritten
    ws.write_string(w.row + 3, 9, "beside, before", f["text"])
    first, last = w.table("Cells", COLS, records)
    ws.write_string(first + 4, 1, "after", f["text"])  # over a table cell: stays
    ws.write_number(first + 5, 8, 42, f["int"])  # beside the table
    ws.set_row(first + 6, 30, f["wrap"])  # a row with a format of its own
    ws.set_row(first + 7, 40)  # a taller row
    w.finish()
    wb.close()
    return path


def test_rows_that_share_ordinary_cells_are_written_as_value_by_value(tmp_path: Path) -> None:
    fast = _mixed(tmp_path / "fast.xlsx", SheetWriter)
    slow = _mixed(tmp_path / "slow.xlsx", _ValueByValue)
    assert compare_workbooks.compare_files(slow, fast) == []
    import re
    import zipfile

    def spans(path: Path) -> list[tuple[str, str]]:
        with zipfile.ZipFile(path) as z:
            xml = z.read("xl/worksheets/sheet1.xml").decode()
        return re.findall(r'<row r="(\d+)"(?: spans="([\d:]+)")?', xml)

    assert spans(fast) == spans(slow)  # the rows' spans, as XlsxWriter computes them for the same cells
    import openpyxl

    ws = openpyxl.load_workbook(fast)["表"]
    assert ws["A6"].value == "x" * 20_000  # the table's value went over "before"
    assert "before" not in {c.value for c in ws["A"]}
    assert ws.cell(9, 2).value == "after" and ws.cell(10, 9).value == 42
