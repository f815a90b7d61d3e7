"""Table rows written as XML directly when the workbook is packaged: the same cells, a fraction of the cost.

A table is most of a workbook's cells (the 50-rep summary holds about 200,000). Handed to XlsxWriter
cell by cell, each value becomes a tuple in the worksheet's cell table, then a list of attributes,
then an escaped XML element: three passes in Python per cell, most of a summary's build.

:class:`FastSheet` is an XlsxWriter worksheet that takes a table's records as a block
(:meth:`FastSheet.add_rows`) and writes their ``<c>`` elements itself, one formatted string per cell,
while XlsxWriter writes everything else (the row elements, titles, headers, totals, tables, formats,
charts) as before. The XML is what XlsxWriter writes for the same calls: shared strings, the same
style indices (taken from the formats when the sheet is written, as XlsxWriter does), numbers as
``%.16G``, dates as Excel serial numbers. A value that is not plain text, a finite number, a blank or
a date (a boolean, a number Excel cannot hold, a very long string) goes through the caller's own
writer for that cell, and a row that also holds a cell written the ordinary way is written the
ordinary way. ``tools/compare_workbooks.py`` proves the workbooks identical.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

# The largest magnitude Excel shows as a number (its limit is 9.99999999999999E+307).
EXCEL_MAX = 9.99999999999999e307
# A string longer than this may exceed Excel's 32,767 UTF-16 units: XlsxWriter's own path truncates it.
_LONG = 16_383

# (column, record key, kind, XlsxWriter format or None)
Plan = Sequence[tuple[int, str, str, Any]]
# writes one value the ordinary way: (row, column, value, kind)
Slow = Callable[[int, int, Any, str], None]


class _Block:
    __slots__ = ("first", "last", "plan", "records", "slow", "date_format", "xml")

    def __init__(self, first: int, plan: Plan, records: Sequence[dict], slow: Slow, date_format: Any) -> None:
        self.first, self.last = first, first + len(records) - 1
        self.plan, self.records, self.slow, self.date_format = plan, records, slow, date_format
        self.xml: list[str | None] = []  # per record: its cells' XML, or None when written the ordinary way


def put_row(ws: Worksheet, row: int, plan: Plan, record: dict, slow: Slow, keep: dict | None = None) -> None:
    """One record's values into XlsxWriter's cell table, the ordinary way (what a block's row is
    when it cannot be written directly), except in the columns of ``keep`` (cells written later)."""
    string = getattr(ws, "_write_string", ws.write_string)
    number = getattr(ws, "_write_number", ws.write_number)
    blank = getattr(ws, "_write_blank", ws.write_blank)
    get = record.get
    for col, key, kind, fmt in plan:
        if keep and col in keep:
            continue
        value = get(key)
        if value is None:
            blank(row, col, None, fmt)
            continue
        what = type(value)
        if what is str:
            if value:
                string(row, col, value, fmt)  # reps' text is never a formula
            else:
                blank(row, col, None, fmt)
        elif (what is int or what is float) and -EXCEL_MAX <= value <= EXCEL_MAX:  # finite, in range
            number(row, col, value, fmt)
        else:  # a date, a boolean, a number Excel cannot hold, anything else
            slow(row, col, value, kind)


class FastWorkbookMixin:
    """For an XlsxWriter workbook whose worksheets are :class:`FastSheet`: their blocks are rendered
    just before the shared strings are put in order (the strings they use join the table then)."""

    def _prepare_sst_string_data(self) -> None:
        for ws in self.worksheets():  # type: ignore[attr-defined]
            if isinstance(ws, FastSheet):
                ws.render_blocks()
        super()._prepare_sst_string_data()  # type: ignore[misc]


class FastSheet(Worksheet):
    """A worksheet whose tables' rows are written as XML directly (see the module's text); its
    workbook's class takes :class:`FastWorkbookMixin`."""

    def __init__(self) -> None:
        super().__init__()
        self._blocks: list[_Block] = []
        self._block_of: dict[int, tuple[_Block, int]] = {}  # row -> (its block, the record's index)
        self._earlier: dict[int, dict[int, Any]] = {}  # row -> the cells it held when its block came

    def add_rows(self, first: int, plan: Plan, records: Sequence[dict], slow: Slow, date_format: Any) -> None:
        """``records`` as rows from ``first`` (0-based), one column per ``plan`` entry, written when
        the workbook is closed. A date is written with ``date_format``; ``slow`` writes a value the
        direct path does not (see the module)."""
        if not records or not plan:
            return
        block = _Block(first, plan, records, slow, date_format)
        cols = [c for c, *_ in plan]
        if self._check_dimensions(first, min(cols)) or self._check_dimensions(block.last, max(cols)):
            for i, record in enumerate(records):  # outside the sheet: XlsxWriter's own refusal, per cell
                put_row(self, first + i, plan, record, slow)
            return
        self._blocks.append(block)
        table = self.table
        for i in range(len(records)):
            self._block_of[first + i] = (block, i)
            cells = table.get(first + i)
            if cells:  # written before the block: its values go over them (see render_blocks)
                self._earlier[first + i] = dict(cells)

    # -- packaging -------------------------------------------------------------------------------
    def render_blocks(self) -> None:
        """Every block's rows as XML (called by the workbook before its shared strings are sorted).

        A row that shares a cell written the ordinary way, has a format of its own, or holds a value
        the direct path does not write is put in XlsxWriter's cell table instead, whole.
        """
        table, row_info = self.table, self.row_info
        shared = self.str_table._get_shared_string_index
        serials: dict[dt.date, float] = {}
        for block in self._blocks:
            plan, date_style = self._resolve(block), None
            xml = block.xml = []
            for i, record in enumerate(block.records):
                row = block.first + i
                info = row_info.get(row)
                cells = table.get(row)
                if cells or (info is not None and info.row_format is not None):
                    # Cells written after the block's stay (they went over it, cell by cell); the
                    # block's values go over those written before it.
                    before = self._earlier.get(row, {})
                    later = {col: cell for col, cell in (cells or {}).items() if before.get(col) is not cell}
                    put_row(self, row, block.plan, record, block.slow, later)
                    xml.append(None)
                    continue
                r = str(row + 1)
                out: list[str] = []
                get = record.get
                for _col, key, opening, style, blank in plan:
                    value = get(key)
                    if value is None:
                        if blank:
                            out.append(f'{opening}{r}"{style}/>')
                        continue
                    what = type(value)
                    if what is str:
                        if not value:
                            if blank:
                                out.append(f'{opening}{r}"{style}/>')
                        elif len(value) <= _LONG:
                            out.append(f'{opening}{r}"{style} t="s"><v>{shared(value)}</v></c>')
                        else:
                            break
                    elif (what is int or what is float) and -EXCEL_MAX <= value <= EXCEL_MAX:
                        out.append(f'{opening}{r}"{style}><v>{value:.16G}</v></c>')
                    elif what is dt.date and 1900 <= value.year <= 9999:
                        serial = serials.get(value)
                        if serial is None:
                            serial = serials[value] = self._convert_date_time(dt.datetime.combine(value, dt.time()))
                        if date_style is None:
                            fmt = block.date_format
                            date_style = f' s="{fmt._get_xf_index()}"' if fmt is not None else ""
                        out.append(f'{opening}{r}"{date_style}><v>{serial:.16G}</v></c>')
                    else:
                        break
                else:
                    xml.append("".join(out))
                    continue
                # A value the direct path does not write (a boolean, a number Excel cannot hold, a
                # very long text): the row the ordinary way. Its strings met above are counted twice
                # in the shared strings' reference count, which nothing reads.
                put_row(self, row, block.plan, record, block.slow)  # nothing later: the row was empty
                xml.append(None)

    def _resolve(self, block: _Block) -> list[tuple[int, str, str, str, bool]]:
        """Per column: the cell's opening (``<c r="F``), its style attribute, from the format's index
        (the column's own format when the cell has none, as XlsxWriter does), and whether a blank is
        written (only with a format of its own)."""
        out = []
        for col, key, _kind, fmt in block.plan:
            own = fmt is not None
            if fmt is None:
                info = self.col_info.get(col)
                fmt = info.column_format if info is not None else None
            style = f' s="{fmt._get_xf_index()}"' if fmt is not None else ""
            out.append((col, key, f'<c r="{xl_col_to_name(col)}', style, own))
        return out

    def _calculate_spans(self) -> None:
        """Each 16-row group's ``spans`` (``"first:last"`` column, 1-based) over the cells written the
        ordinary way, the comments and the blocks' columns; XlsxWriter's result for the same cells."""
        if not self._blocks:
            return super()._calculate_spans()
        bounds: dict[int, list[int]] = {}

        def widen(row: int, lo: int, hi: int) -> None:
            group = bounds.get(row // 16)
            if group is None:
                bounds[row // 16] = [lo, hi]
            else:
                group[0], group[1] = min(group[0], lo), max(group[1], hi)

        for row, cells in self.table.items():
            if cells and self.dim_rowmin <= row <= self.dim_rowmax:
                widen(row, min(cells), max(cells))
        for row, cells in self.comments.items():
            if cells:
                widen(row, min(cells), max(cells))
        for block in self._blocks:
            lo, hi = min(c for c, *_ in block.plan), max(c for c, *_ in block.plan)
            for group in range(block.first // 16, block.last // 16 + 1):
                widen(group * 16, lo, hi)
        self.row_spans = {g: f"{lo + 1}:{hi + 1}" for g, (lo, hi) in bounds.items()}

    def _write_rows(self) -> None:
        if not self._blocks:
            return super()._write_rows()
        self._calculate_spans()
        table, row_info, comments, spans = self.table, self.row_info, self.comments, self.row_spans
        block_of = self._block_of
        write = self.fh.write
        for row in range(self.dim_rowmin, self.dim_rowmax + 1):
            hit = block_of.get(row)
            if hit is not None:
                xml = hit[0].xml[hit[1]]
                if xml is not None:
                    self._write_row(row, spans.get(row // 16), row_info.get(row))
                    write(xml)
                    write("</row>")
                    continue
            cells = table.get(row)
            if cells:
                self._write_row(row, spans.get(row // 16), row_info.get(row))
                for col in sorted(cells):
                    self._write_cell(row, col, cells[col])
                self._xml_end_tag("row")
            elif row in comments or row in row_info:
                self._write_empty_row(row, spans.get(row // 16), row_info.get(row))
