"""Genuine filled workbooks, and the ways files go wrong.

The corpus (``tests/test_corpus.py``) and the fuzz test (``tests/test_fuzz.py``) start from
workbooks made from the project's own templates and filled as a rep would (:mod:`sheetsales.reading.fill`),
then damage them at the byte, zip, XML or cell level. Everything is generated at test time except
two files only another program can make (``tests/corpus/``: a password-protected copy and a
legacy ``.xls``; ``python -m tests.badfiles`` says how they were made).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from sheetsales.method.playbook import Playbook
from sheetsales.reading.fill import fill_form, fill_table
from sheetsales.reading.specs import CONTRACTS_TABLE, DECISIONS_TABLE, LOG_TABLE, MPC_TABLE, WEEKLY_FORM
from sheetsales.reading.templates import build_template

CORPUS = Path(__file__).parent / "corpus"
PB = Playbook()
WEEK = "2026-W45"  # 2026-11-02 .. 2026-11-08
MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"

DEALS = [
    {"category": "数控机床", "customer": "上海精工机械有限公司", "amount": 1_200_000, "sign_date": dt.date(2026, 12, 20),
     "stage": "方案设计", "m1": "✓", "m2": "✓"},
    {"category": "激光切割机", "customer": "苏州恒达", "amount": 800_000, "sign_date": dt.date(2027, 1, 15),
     "stage": "初步接触", "m1": "✓", "win_rate": 0.1},
]


def genuine(folder: Path, kind: str, rep: str = "R01", lang: str = "zh-CN", workspace: str = "") -> Path:
    """A template of ``kind`` filled as a rep (or, for decisions, a supervisor) would."""
    folder.mkdir(parents=True, exist_ok=True)
    person = PB.person("S01" if kind == "decisions" else rep)
    path = folder / f"{kind}_{person.id}.xlsx"
    build_template(path, kind, PB, lang, rep=person, workspace=workspace, week=WEEK if kind == "weekly" else "")
    if kind == "mpc":
        fill_table(path, MPC_TABLE, DEALS)
    elif kind == "weekly":
        fill_table(path, LOG_TABLE, [{"date": dt.date(2026, 11, 3), "content": "拜访上海精工", "unit": "上海精工",
                                      "hours": 3, "cost": 200}])
        fill_table(path, CONTRACTS_TABLE, [{"customer": "苏州恒达", "category": "激光切割机", "amount": 500_000}])
        fill_form(path, WEEKLY_FORM, {"key_events": "签了苏州恒达"})
    else:
        fill_table(path, DECISIONS_TABLE, [{"deal": "R01-1a2b3c4d", "decision": "保留", "reason": "我来跟"}])
    return path


# --- the parts of a workbook ---------------------------------------------------------------
def read_parts(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def write_parts(path: Path, parts: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts:
            zf.writestr(zipfile.ZipInfo(name, (2026, 11, 2, 0, 0, 0)), data)
    return path


def sheet_part(path: Path, sheet: str) -> str:
    """The zip part of the sheet named ``sheet``."""
    from sheetsales.reading.read import _sheet_paths

    with zipfile.ZipFile(path) as zf:
        return _sheet_paths(zf)[sheet]


def patch(src: Path, out: Path, part: str, change: Callable[[bytes], bytes]) -> Path:
    """A copy of ``src`` with one part changed."""
    assert part in {n for n, _ in read_parts(src)}, part
    return write_parts(out, [(n, change(d) if n == part else d) for n, d in read_parts(src)])


def set_cells(xml: bytes, cells: dict[str, bytes]) -> bytes:
    """Sheet XML with each ``ref``'s cell replaced by the raw ``<c>`` XML given (added in its row,
    or in a new row at the end, when the sheet has no such cell)."""
    for ref, cell in cells.items():
        pattern = re.compile(rb'<c r="' + ref.encode() + rb'"(?:[^>]*/>|[^>]*>.*?</c>)', re.S)
        if pattern.search(xml):
            xml = pattern.sub(lambda _m, c=cell: c, xml, count=1)
            continue
        row = re.match(r"[A-Z]+(\d+)$", ref).group(1).encode()
        row_tag = re.compile(rb'(<row r="' + row + rb'"[^>]*?)(/>|>)')
        m = row_tag.search(xml)
        if m and m.group(2) == b"/>":
            xml = xml[:m.start()] + m.group(1) + b">" + cell + b"</row>" + xml[m.end():]
        elif m:
            xml = xml[:m.end()] + cell + xml[m.end():]
        else:
            xml = xml.replace(b"</sheetData>", b'<row r="' + row + b'">' + cell + b"</row></sheetData>")
            xml = xml.replace(b"<sheetData/>", b'<sheetData><row r="' + row + b'">' + cell + b"</row></sheetData>")
    return xml


def number_cell(ref: str, text: str, style: int | None = None) -> bytes:
    s = f' s="{style}"' if style is not None else ""
    return f'<c r="{ref}"{s}><v>{text}</v></c>'.encode()


def cell_style(xml: bytes, ref: str) -> int | None:
    m = re.search(rb'<c r="' + ref.encode() + rb'"[^>]*?\ss="(\d+)"', xml)
    return int(m.group(1)) if m else None


def with_cells(src: Path, out: Path, sheet: str, cells: dict[str, bytes]) -> Path:
    return patch(src, out, sheet_part(src, sheet), lambda xml: set_cells(xml, cells))


def without_styles(src: Path, out: Path) -> Path:
    """The workbook as programs without a styles part write it: every number a plain number."""
    parts = [(n, d) for n, d in read_parts(src) if n != "xl/styles.xml"]
    parts = [(n, re.sub(rb' s="\d+"', b"", d) if n.startswith("xl/worksheets/") else
              re.sub(rb'<Relationship [^>]*Target="styles.xml"/>', b"", d) if n == "xl/_rels/workbook.xml.rels" else
              re.sub(rb'<Override PartName="/xl/styles.xml"[^>]*/>', b"", d) if n == "[Content_Types].xml" else d)
             for n, d in parts]
    return write_parts(out, parts)


def rows_xml(first: int, count: int, columns: str = "A", varied: bool = False) -> bytes:
    """``count`` rows of numbers from row ``first`` (the columns given by their letters); ``varied``
    numbers compress as real data does, not as a zip bomb."""
    return b"".join(
        b'<row r="%d">' % r + b"".join(b'<c r="%s%d"><v>%d</v></c>' % (c.encode(), r, (r * 7919 + i * 104729) % 1000003
                                                                       if varied else 1)
                                      for i, c in enumerate(columns.split())) + b"</row>"
        for r in range(first, first + count))


def add_rows(xml: bytes, rows: bytes) -> bytes:
    return xml.replace(b"</sheetData>", rows + b"</sheetData>")


if __name__ == "__main__":  # how the two committed corpus files were made
    print(__doc__)
    print("legacy.xls:     soffice --headless --convert-to xls <a decisions template>")
    print("encrypted.xlsx: msoffcrypto-tool (OOXMLFile(f).encrypt('secret', out)) of a decisions template;")
    print("                LibreOffice 7.4's --convert-to ignores EncryptionPassword, so it was not used")
