"""Compare two generated workbooks, or two folders of them, as a person would see them.

    python tools/compare_workbooks.py BEFORE AFTER      (two .xlsx files, or two folders)

For every sheet of every workbook (a folder's ``*.xlsx``, recursively, matched by relative path):
the sheet names and order; every cell's value, type, number format, font, fill, border,
alignment and protection; column widths and row heights; merged ranges; the tables (name, range,
columns, header and total rows, style); conditional formats (range, type, formula, format);
hyperlinks; frozen panes and print set-up. Prints each difference (the first ones per sheet) and
exits 1 when any, 0 when the workbooks are the same. What it does not compare is what does not
show: the zip entries' dates, the order of the package's parts, shared strings' order.

A writer change that is meant to change nothing (a faster path for the same cells) is proved
with it: the demo's and a generated workspace's summary and feedback workbooks, built before and
after, compare equal.
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl

MAX_SHOWN = 10  # differences printed per sheet


CELL_FIELDS = ("value", "type", "number format", "font", "fill", "border", "alignment", "protection")


def _style(cell: Any) -> tuple:
    return (cell.number_format, repr(cell.font), repr(cell.fill), repr(cell.border), repr(cell.alignment),
            repr(cell.protection))


def _cells(ws: Any) -> dict[str, tuple]:
    out = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None and not cell.has_style:
                continue
            out[cell.coordinate] = (repr(cell.value), cell.data_type, *_style(cell))
    return out


def _sheet_facts(ws: Any) -> dict[str, Any]:
    cf = []
    for rng in ws.conditional_formatting:
        for rule in rng.rules:
            cf.append((str(rng.sqref), rule.type, rule.operator, tuple(rule.formula or ()), rule.priority,
                       repr(rule.dxf), repr(rule.dataBar), repr(rule.colorScale), repr(rule.iconSet)))
    tables = sorted((t.name, t.ref, t.headerRowCount, t.totalsRowCount, repr(t.tableStyleInfo),
                     tuple((c.name, c.totalsRowFunction, c.totalsRowLabel) for c in t.tableColumns))
                    for t in ws.tables.values())
    widths = {k: (d.width, d.hidden, d.min, d.max, d.customWidth) for k, d in ws.column_dimensions.items()}
    heights = {k: (d.height, d.hidden) for k, d in ws.row_dimensions.items() if d.height is not None or d.hidden}
    links = sorted((c.coordinate, c.hyperlink.target, c.hyperlink.location) for row in ws.iter_rows()
                   for c in row if c.hyperlink is not None)
    return {
        "conditional formats": sorted(cf),
        "tables": tables,
        "column widths": widths,
        "row heights": heights,
        "merged": sorted(str(r) for r in ws.merged_cells.ranges),
        "hyperlinks": links,
        "freeze": ws.freeze_panes,
        "print": (ws.page_setup.orientation, ws.page_setup.paperSize, ws.page_setup.fitToWidth,
                  ws.page_setup.fitToHeight, repr(ws.print_title_rows), ws.oddFooter.left.text,
                  ws.oddFooter.right.text, repr(ws.page_margins)),
        "state": ws.sheet_state,
        "validations": sorted((str(v.sqref), v.type, v.formula1) for v in ws.data_validations.dataValidation),
    }


def _raw_formats(path: Path) -> dict[str, list[str]]:
    """Per worksheet part: its conditional formats and extensions (data bars live there, where
    openpyxl does not read them) as written, each format id replaced by the format it names."""
    with zipfile.ZipFile(path) as z:
        styles = z.read("xl/styles.xml").decode("utf-8")
        dxfs = re.findall(r"<dxf>.*?</dxf>", re.search(r"<dxfs[^>]*>(.*?)</dxfs>", styles, re.S).group(1)
                          if "<dxfs" in styles and "</dxfs>" in styles else "", re.S)
        out = {}
        for name in sorted(n for n in z.namelist() if n.startswith("xl/worksheets/sheet")):
            xml = z.read(name).decode("utf-8")
            parts = re.findall(r"<conditionalFormatting.*?</conditionalFormatting>|<extLst>.*?</extLst>", xml, re.S)
            out[name] = [re.sub(r'dxfId="(\d+)"', lambda m: dxfs[int(m.group(1))] if int(m.group(1)) < len(dxfs)
                                else m.group(0), part) for part in parts]
        return out


def compare_files(before: Path, after: Path) -> list[str]:
    """Every difference between two workbooks, one line each."""
    a, b = openpyxl.load_workbook(before), openpyxl.load_workbook(after)
    out: list[str] = []
    ra, rb = _raw_formats(before), _raw_formats(after)
    if ra != rb:
        out += [f"{after.name} {part}: conditional formats as written differ" for part in sorted(set(ra) | set(rb))
                if ra.get(part) != rb.get(part)]
    if a.sheetnames != b.sheetnames:
        return [f"{after.name}: sheets {a.sheetnames} != {b.sheetnames}"]
    for name in a.sheetnames:
        wa, wb = a[name], b[name]
        diffs: list[str] = []
        ca, cb = _cells(wa), _cells(wb)
        for coord in sorted(set(ca) | set(cb)):
            va, vb = ca.get(coord), cb.get(coord)
            if va != vb:
                if va is None or vb is None:
                    diffs.append(f"{coord}: {va} != {vb}")
                    continue
                diffs += [f"{coord} {field}: {x} != {y}" for field, x, y in zip(CELL_FIELDS, va, vb, strict=True)
                          if x != y]
        fa, fb = _sheet_facts(wa), _sheet_facts(wb)
        for key in fa:
            if fa[key] != fb[key]:
                if isinstance(fa[key], dict):
                    keys = sorted(set(fa[key]) | set(fb[key]))
                    diffs += [f"{key} {k}: {fa[key].get(k)} != {fb[key].get(k)}" for k in keys
                              if fa[key].get(k) != fb[key].get(k)]
                else:
                    diffs.append(f"{key}: {fa[key]} != {fb[key]}")
        out += [f"{after.name}!{name}: {d}" for d in diffs[:MAX_SHOWN]]
        if len(diffs) > MAX_SHOWN:
            out.append(f"{after.name}!{name}: … {len(diffs) - MAX_SHOWN} more")
    return out


def compare(before: Path, after: Path) -> tuple[int, list[str]]:
    """(workbooks compared, differences) for two files or two folders."""
    if before.is_file():
        return 1, compare_files(before, after)
    rel_a = {p.relative_to(before) for p in before.rglob("*.xlsx")}
    rel_b = {p.relative_to(after) for p in after.rglob("*.xlsx")}
    out = [f"only in {before}: {p}" for p in sorted(rel_a - rel_b)]
    out += [f"only in {after}: {p}" for p in sorted(rel_b - rel_a)]
    for rel in sorted(rel_a & rel_b):
        out += compare_files(before / rel, after / rel)
    return len(rel_a & rel_b), out


def main(argv: list[str]) -> int:
    import warnings

    warnings.filterwarnings("ignore", module="openpyxl")  # the extensions it skips are compared raw
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    n, diffs = compare(Path(argv[0]), Path(argv[1]))
    for line in diffs:
        print(line)
    print(f"{n} workbooks compared, {len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
